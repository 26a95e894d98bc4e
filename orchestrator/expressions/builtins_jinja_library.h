#pragma once
// Jinja2 3.x builtin filters, tests and globals that builtins_jinja.cc does not implement itself,
// and the Jinja objects with state (namespace(), cycler(), joiner()). Registered in
// builtins_tables.cc's kJinjaFilters / kJinjaTests / kJinjaGlobals tables; README "Jinja2 builtins
// (Jinja2 3.x)" lists every name with its status.
#include <optional>
#include <string>
#include <string_view>

#include "orchestrator/expressions/internal.h"

namespace bora::expr::internal {

// Filters.
ValResult JFilterAttr(Evaluator& ev, const Node& node, Val* recv);
ValResult JFilterBatch(Evaluator& ev, const Node& node, Val* recv);
ValResult JFilterCenter(Evaluator& ev, const Node& node, Val* recv);
ValResult JFilterDictSort(Evaluator& ev, const Node& node, Val* recv);
ValResult JFilterEscape(Evaluator& ev, const Node& node, Val* recv);
ValResult JFilterForceEscape(Evaluator& ev, const Node& node, Val* recv);
ValResult JFilterSafe(Evaluator& ev, const Node& node, Val* recv);
ValResult JFilterFileSizeFormat(Evaluator& ev, const Node& node, Val* recv);
ValResult JFilterGroupBy(Evaluator& ev, const Node& node, Val* recv);
ValResult JFilterInt(Evaluator& ev, const Node& node, Val* recv);
ValResult JFilterItems(Evaluator& ev, const Node& node, Val* recv);
ValResult JFilterJoin(Evaluator& ev, const Node& node, Val* recv);
ValResult JFilterMin(Evaluator& ev, const Node& node, Val* recv);
ValResult JFilterMax(Evaluator& ev, const Node& node, Val* recv);
ValResult JFilterPprint(Evaluator& ev, const Node& node, Val* recv);
ValResult JFilterRandom(Evaluator& ev, const Node& node, Val* recv);
ValResult JFilterRound(Evaluator& ev, const Node& node, Val* recv);
ValResult JFilterSlice(Evaluator& ev, const Node& node, Val* recv);
ValResult JFilterSort(Evaluator& ev, const Node& node, Val* recv);
ValResult JFilterStripTags(Evaluator& ev, const Node& node, Val* recv);
ValResult JFilterSum(Evaluator& ev, const Node& node, Val* recv);
ValResult JFilterTitle(Evaluator& ev, const Node& node, Val* recv);
ValResult JFilterUnique(Evaluator& ev, const Node& node, Val* recv);
ValResult JFilterUrlEncode(Evaluator& ev, const Node& node, Val* recv);
ValResult JFilterWordCount(Evaluator& ev, const Node& node, Val* recv);
ValResult JFilterWordWrap(Evaluator& ev, const Node& node, Val* recv);
ValResult JFilterXmlAttr(Evaluator& ev, const Node& node, Val* recv);
// A filter, test or global that Bora refuses on purpose: fails naming it and the reason.
ValResult JRefused(Evaluator& ev, const Node& node, Val* recv);

// Tests (the value is the receiver).
ValResult JTestFilter(Evaluator& ev, const Node& node, Val* recv);
ValResult JTestTest(Evaluator& ev, const Node& node, Val* recv);
ValResult JTestCallable(Evaluator& ev, const Node& node, Val* recv);

// Globals.
ValResult JGlobalNamespace(Evaluator& ev, const Node& node, Val* recv);
ValResult JGlobalCycler(Evaluator& ev, const Node& node, Val* recv);
ValResult JGlobalJoiner(Evaluator& ev, const Node& node, Val* recv);

// Jinja objects with state are JSON objects with one marker key ("__jinja_namespace__",
// "__jinja_cycler__", "__jinja_joiner__"), like YAQL's regex values.
bool IsJinjaObject(const Json& v);
// `obj.name` on such an object (namespace attributes, cycler.current); nullopt: not one.
std::optional<ValResult> JinjaObjectMember(const Val& obj, const std::string& name);
// `var.method()` on such an object (cycler.next(), cycler.reset()); the variable holding it is
// updated. nullopt when `recv` is not one.
std::optional<ValResult> JinjaObjectMethod(Evaluator& ev, const Node& call, Val* recv);
// `name()` where `name` is a variable holding a joiner; nullopt when it does not.
std::optional<ValResult> JinjaCallVariable(Evaluator& ev, const Node& call);
// `{% set var.attr = value %}`: only on a namespace() (Jinja's rule).
Status JinjaSetAttribute(Evaluator& ev, const std::string& var, const std::string& attr,
                         Json value);

// Why a refused filter/test/global is refused (empty if it is not).
std::string_view JinjaRefusalReason(std::string_view kind, std::string_view name);

}  // namespace bora::expr::internal
