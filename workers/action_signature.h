#pragma once
// Action signatures: an action's name, parameters (required or with a default) and kind, and the
// lookup the engine and the API validate a task's action and input with, apart from the
// implementations (workers/action.h): the pure engine needs no more than this. ActionRegistry
// (action.h) is the implementation every process builds at start-up; after that it is read-only and
// thread-safe to share.
#include <string>
#include <string_view>
#include <vector>

#include "common/json.h"
#include "common/status.h"

namespace bora::workers {

struct ActionParam {
  std::string name;
  bool required = false;
  Json default_value;  // used when !required and the input omits it
};

struct ActionSignature {
  std::string name;
  std::vector<ActionParam> params;
  bool accepts_any_params = false;  // e.g. std.echo does not; custom SDK actions may
  bool is_async = false;  // completes later through the API (std.async_noop, std.mistral_http)
  std::string description;
  // An external action (declared by workers of the HTTP worker API): the pool its workers take work
  // from. A task without `target:` sends its requests there; empty = the task's target (or
  // default).
  std::string pool;
};

// Finds signatures by action name. Thread-safe for concurrent readers once built.
class ActionSignatures {
 public:
  virtual ~ActionSignatures() = default;

  virtual const ActionSignature* FindSignature(std::string_view name) const = 0;
  virtual std::vector<std::string> Names() const = 0;

  // Checks `input` (an object) against the signature of `name`: unknown action ⇒ kNotFound; missing
  // required or unexpected parameters ⇒ kInvalidArgument "Invalid input [name=std.echo,
  // class=std.echo, missing=[output]]" (Mistral's words). On success returns the input with
  // defaults filled in.
  Result<Json> ValidateInput(std::string_view name, const Json& input) const;
};

}  // namespace bora::workers
