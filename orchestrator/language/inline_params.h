#pragma once
// The one-line syntaxes of the Workflow Language: `std.echo output="Hi" n=1 l=[1,2] v=<% $.x %>`
// (action, workflow and ad-hoc `base` values), `fail msg='x'` / `fail(msg=<% ... %>)` (engine
// commands) and `count=3 delay=1 break-on=<% ... %>` (retry). Internal to the language module and
// its tests. Pure functions; thread-safe.
#include <string>
#include <string_view>

#include "common/json.h"

namespace bora::lang {

// Parses `k=v k2=v2 ...`. Values: "double" or 'single' quoted (kept verbatim, no escapes), an
// expression
// (<% .. %>, {{ .. }}, {% .. %}, kept as its text), a JSON list or object ([..] / {..}, balanced;
// kept as a string when it is not valid JSON, as Mistral does), true/false/null, a JSON number; any
// other bare word is JSON-decoded when possible, else kept as a string. A repeated name keeps the
// last value. Returns false with `*error` set for text that is not `name=value` pairs.
bool ParseInlineParams(std::string_view text, JsonObject* params, std::string* error);

// Splits `name k=v ...` into the name and its parameters. Without a space the whole text is the
// name (Mistral's rule). The name may be an expression (`<% $.action %> x=1`).
bool ParseCommand(std::string_view text, std::string* name, JsonObject* params, std::string* error);

}  // namespace bora::lang
