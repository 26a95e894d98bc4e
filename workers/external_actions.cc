#include "workers/external_actions.h"

#include "common/fields.h"

namespace bora::workers {

template <typename S, typename V>
void VisitFields(S& p, V& v) requires std::same_as<std::remove_const_t<S>, ActionParam> {
  v.Str("name", p.name, fields::kRequired);
  v.Bool("required", p.required);
  v.Value("default", p.default_value, fields::kAny);
}

template <typename S, typename V>
void VisitFields(S& s, V& v) requires std::same_as<std::remove_const_t<S>, ActionSignature> {
  v.Str("name", s.name, fields::kRequired);
  v.Str("pool", s.pool, fields::kRequired);
  v.Array("params", s.params);
  v.Bool("accepts_any_params", s.accepts_any_params);
  v.Str("description", s.description);
}

Json ExternalActionRecord(const ActionSignature& signature) { return fields::ToJson(signature); }

Result<ActionSignature> ExternalActionFromRecord(const Json& record) {
  ActionSignature s;
  BORA_RETURN_IF_ERROR(fields::FromJson(record, s, "external action record"));
  if (s.name.empty() || s.pool.empty()) {
    return InvalidArgument("external action record: name and pool must not be empty");
  }
  return s;
}

}  // namespace bora::workers
