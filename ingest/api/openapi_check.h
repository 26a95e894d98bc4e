#pragma once
// openapi_test's checker of the OpenAPI document (ingest/api/openapi.json): a validator for the
// JSON Schema subset the document uses, and the response / request checks the scenario applies to
// every call. Test-only (included by openapi_test.cc); kept apart so the test file holds the tests.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "common/http/http_types.h"
#include "common/json.h"
#include "ingest/api/openapi.h"

namespace bora::api::openapi_check {

// Validates JSON values against the JSON Schema subset the document uses: type (with OpenAPI's
// nullable), enum, properties, required, additionalProperties (false, true or a schema), items,
// oneOf, minimum, and $ref to "#/components/...". Annotations (description) are ignored. Unknown
// keywords are reported by UnsupportedKeywords so the document cannot silently rely on more.
class SchemaValidator {
 public:
  explicit SchemaValidator(const Json& document) : doc_(document) {}

  static const std::set<std::string>& Keywords() {
    static const std::set<std::string> k = {
        "type",     "nullable", "enum",       "properties",
        "required", "items",    "oneOf",      "additionalProperties",
        "$ref",     "minimum",  "description"};
    return k;
  }

  // The value at a local reference "#/a/b", or nullptr.
  const Json* Resolve(const std::string& ref) const {
    if (ref.rfind("#/", 0) != 0) return nullptr;
    const Json* at = &doc_;
    std::stringstream parts(ref.substr(2));
    std::string part;
    while (std::getline(parts, part, '/')) {
      if (!at->is_object()) return nullptr;
      at = at->as_object().if_contains(part);
      if (at == nullptr) return nullptr;
    }
    return at;
  }

  // Errors ("<path>: reason"); empty when `value` is valid.
  // `projected`: the reply of a list asked for `fields`, whose items hold only the named fields:
  // objects inside arrays may then lack required properties (every present value is still checked).
  std::vector<std::string> Validate(const Json& schema, const Json& value,
                                    const std::string& path = "$", bool projected = false) const {
    std::vector<std::string> errors;
    Check(schema, value, path, 0, projected, false, &errors);
    return errors;
  }

 private:
  static std::string TypeOf(const Json& v) {
    if (v.is_null()) return "null";
    if (v.is_bool()) return "boolean";
    if (v.is_int64() || v.is_uint64()) return "integer";
    if (v.is_double()) return "number";
    if (v.is_string()) return "string";
    if (v.is_array()) return "array";
    return "object";
  }

  void Check(const Json& schema, const Json& value, const std::string& path, int depth,
             bool projected, bool in_array, std::vector<std::string>* errors) const {
    if (depth > 64) {
      errors->push_back(path + ": schema nesting too deep");
      return;
    }
    if (!schema.is_object()) {
      errors->push_back(path + ": schema is not an object");
      return;
    }
    const JsonObject& s = schema.as_object();
    if (const Json* ref = s.if_contains("$ref")) {
      const Json* target = ref->is_string() ? Resolve(std::string(ref->as_string())) : nullptr;
      if (target == nullptr) {
        errors->push_back(path + ": unresolved $ref " + DumpJson(*ref));
        return;
      }
      Check(*target, value, path, depth + 1, projected, in_array, errors);
      return;
    }
    bool nullable = false;
    if (const Json* n = s.if_contains("nullable")) nullable = n->is_bool() && n->as_bool();
    if (value.is_null()) {
      // A schema without a type accepts anything (e.g. a free-form value).
      if (s.if_contains("type") != nullptr && !nullable)
        errors->push_back(path + ": null is not allowed");
      if (s.if_contains("type") != nullptr || nullable) return;
    }
    if (const Json* t = s.if_contains("type")) {
      std::string want(t->as_string());
      std::string got = TypeOf(value);
      bool ok = want == got || (want == "number" && got == "integer");
      if (!ok) {
        errors->push_back(path + ": expected " + want + ", got " + got + " " + DumpJson(value));
        return;
      }
    }
    if (const Json* e = s.if_contains("enum")) {
      bool found = false;
      for (const auto& option : e->as_array()) found = found || option == value;
      if (!found)
        errors->push_back(path + ": " + DumpJson(value) + " is not one of " + DumpJson(*e));
    }
    if (const Json* m = s.if_contains("minimum"); m != nullptr && value.is_number()) {
      if (value.to_number<double>() < m->to_number<double>())
        errors->push_back(path + ": below the minimum " + DumpJson(*m));
    }
    if (const Json* one = s.if_contains("oneOf")) {
      int matches = 0;
      for (const auto& option : one->as_array()) {
        std::vector<std::string> sub;
        Check(option, value, path, depth + 1, projected, in_array, &sub);
        if (sub.empty()) ++matches;
      }
      if (matches != 1) {
        errors->push_back(path + ": matches " + std::to_string(matches) + " of the oneOf schemas");
      }
    }
    if (value.is_object()) {
      const JsonObject& o = value.as_object();
      const JsonObject* props = nullptr;
      if (const Json* p = s.if_contains("properties")) props = &p->as_object();
      if (const Json* req = s.if_contains("required"); req != nullptr && !(projected && in_array)) {
        for (const auto& name : req->as_array()) {
          if (!o.contains(name.as_string()))
            errors->push_back(path + ": missing required property '" +
                              std::string(name.as_string()) + "'");
        }
      }
      const Json* additional = s.if_contains("additionalProperties");
      for (const auto& [key, v] : o) {
        std::string sub = path + "." + std::string(key);
        if (props != nullptr) {
          if (const Json* ps = props->if_contains(key)) {
            Check(*ps, v, sub, depth + 1, projected, false, errors);
            continue;
          }
        }
        if (additional == nullptr) continue;
        if (additional->is_bool()) {
          if (!additional->as_bool())
            errors->push_back(sub + ": property not allowed by the schema");
        } else {
          Check(*additional, v, sub, depth + 1, projected, false, errors);
        }
      }
    }
    if (value.is_array()) {
      if (const Json* items = s.if_contains("items")) {
        const JsonArray& a = value.as_array();
        for (size_t i = 0; i < a.size(); ++i)
          Check(*items, a[i], path + "[" + std::to_string(i) + "]", depth + 1, projected, true,
                errors);
      }
    }
  }

  const Json& doc_;
};

inline std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "\n  ") + p;
  return out;
}

inline Json LoadDocument() {
  auto parsed = ParseJson(OpenApiDocument());
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  return parsed.ok() ? *parsed : Json(JsonObject());
}

inline const std::vector<std::string> kMethods = {"get",   "put",  "post",   "delete",
                                                  "patch", "head", "options"};

inline std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// "GET /v2/executions/{id}" for every documented operation.
inline std::set<std::string> DocumentedOperations(const Json& doc) {
  std::set<std::string> out;
  for (const auto& [path, item] : doc.at("paths").as_object()) {
    for (const auto& m : kMethods) {
      if (item.as_object().contains(m)) out.insert(Upper(m) + " " + std::string(path));
    }
  }
  return out;
}

inline std::vector<std::string> Segments(const std::string& path) {
  std::vector<std::string> out;
  std::stringstream in(path);
  std::string seg;
  while (std::getline(in, seg, '/'))
    if (!seg.empty()) out.push_back(seg);
  return out;
}

inline bool IsCapture(const std::string& s) {
  return s.size() >= 2 && s.front() == '{' && s.back() == '}';
}

// The documented path template matching `path` (a literal segment wins over a capture, as the
// Router).
inline std::string MatchTemplate(const Json& doc, const std::string& path) {
  std::vector<std::string> segs = Segments(path);
  std::string best;
  std::vector<std::string> best_segs;
  for (const auto& [tmpl, item] : doc.at("paths").as_object()) {
    std::vector<std::string> t = Segments(std::string(tmpl));
    if (t.size() != segs.size()) continue;
    bool ok = true;
    for (size_t i = 0; i < t.size() && ok; ++i) ok = IsCapture(t[i]) || t[i] == segs[i];
    if (!ok) continue;
    bool better = best.empty();
    for (size_t i = 0; i < t.size() && !better; ++i) {
      if (IsCapture(t[i]) != IsCapture(best_segs[i])) {
        better = !IsCapture(t[i]);
        break;
      }
    }
    if (better) {
      best = std::string(tmpl);
      best_segs = t;
    }
  }
  return best;
}

// Checks one response against the document; returns the errors (empty = conforms).
inline std::vector<std::string> CheckResponse(const Json& doc, const SchemaValidator& validator,
                                              const std::string& method, const std::string& path,
                                              const http::HttpResponse& response,
                                              bool projected = false) {
  std::string where = method + " " + path + " -> " + std::to_string(response.status);
  std::string tmpl = MatchTemplate(doc, path);
  if (tmpl.empty()) return {where + ": path not documented"};
  const Json* op = doc.at("paths").at(tmpl).as_object().if_contains([&] {
    std::string m = method;
    for (char& c : m) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return m;
  }());
  if (op == nullptr) return {where + ": method not documented for " + tmpl};
  const Json* r = op->at("responses").as_object().if_contains(std::to_string(response.status));
  if (r == nullptr)
    return {where + ": status not documented for " + tmpl + " (body " + response.body + ")"};
  if (const Json* ref = r->as_object().if_contains("$ref")) {
    r = validator.Resolve(std::string(ref->as_string()));
    if (r == nullptr) return {where + ": unresolved response $ref"};
  }
  const Json* content = r->as_object().if_contains("content");
  if (content == nullptr) {
    if (!response.body.empty())
      return {where + ": documented without a body, got " + response.body};
    return {};
  }
  // The content type's media type (parameters such as "; version=0.0.4" ignored).
  std::string media = response.content_type.substr(0, response.content_type.find(';'));
  const Json* entry = content->as_object().if_contains(media);
  if (entry == nullptr)
    return {where + ": content type " + response.content_type + " not documented"};
  const Json& schema = entry->at("schema");
  Json body;
  if (media == "application/json") {
    auto parsed = ParseJson(response.body);
    if (!parsed.ok()) return {where + ": body is not JSON: " + response.body};
    body = *parsed;
  } else {
    body = Json(response.body);
  }
  std::vector<std::string> errors = validator.Validate(schema, body, "$", projected);
  for (auto& e : errors) e = where + ": " + e;
  return errors;
}

// Checks a request the handler accepted (2xx) against the operation's requestBody: its media type
// is documented and a JSON body is valid against that schema. Returns the errors (empty =
// conforms).
inline std::vector<std::string> CheckRequest(const Json& doc, const SchemaValidator& validator,
                                             const http::HttpRequest& request) {
  std::string where = request.method + " " + request.path + " (request)";
  std::string tmpl = MatchTemplate(doc, request.path);
  if (tmpl.empty()) return {where + ": path not documented"};
  std::string m = request.method;
  for (char& c : m) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const Json* op = doc.at("paths").at(tmpl).as_object().if_contains(m);
  if (op == nullptr) return {where + ": method not documented"};
  const Json* body = op->as_object().if_contains("requestBody");
  if (body == nullptr) return {where + ": a body was accepted but no requestBody is documented"};
  std::string type = request.Header("content-type");
  std::string media = type.substr(0, type.find(';'));
  const Json* entry = body->at("content").as_object().if_contains(media);
  if (entry == nullptr) return {where + ": content type '" + type + "' not documented"};
  if (media.find("json") == std::string::npos) return {};
  auto parsed = ParseJson(request.body);
  if (!parsed.ok()) return {where + ": accepted a body that is not JSON"};
  std::vector<std::string> errors = validator.Validate(entry->at("schema"), *parsed);
  for (auto& e : errors) e = where + ": " + e;
  return errors;
}

}  // namespace bora::api::openapi_check
