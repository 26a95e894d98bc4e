#pragma once
// The stored form of an external action's declaration (ActionRegistry::DeclareExternal; the worker
// API): one record per action name in a ResourceStore under kind kExternalActionsKind, so a
// restarted process and the other processes of a cluster know the action before a worker polls
// again. One field list (common/fields.h) gives both directions.
//
// Threading: pure functions.
#include <string_view>
#include <vector>

#include "common/json.h"
#include "common/status.h"
#include "workers/action_signature.h"

namespace bora::workers {

inline constexpr std::string_view kExternalActionsKind = "external_actions";

// An action's input spec as Mistral lists it ("text, suffix='!'", "n=1, opts={}"): each parameter
// required, or with a default (JSON, a quoted string, None/True/False, else the text).
Result<std::vector<ActionParam>> ParseActionInputSpec(std::string_view spec);
// The same, also taking the variadic pieces of a Python signature as Mistral's generated OpenStack
// actions list them ("image_id, remove_props=null, **kwargs"): `*args` is left out (an action's
// input is keywords), `**kwargs` sets *any_keyword.
Result<std::vector<ActionParam>> ParseActionInputSpec(std::string_view spec, bool* any_keyword);

Json ExternalActionRecord(const ActionSignature& signature);
// The signature a record holds; kInvalidArgument naming the bad member.
Result<ActionSignature> ExternalActionFromRecord(const Json& record);

}  // namespace bora::workers
