// The tables of built-in names: YAQL functions, Jinja globals, filters, tests and Python methods,
// each mapped to its implementation (builtins.h, yaql_library.h, builtins_jinja_library.h). Host
// functions (task, tasks, execution, executions, env, global) are not here: the evaluator routes
// them to the Host.
#include <string>
#include <string_view>
#include <vector>

#include "orchestrator/expressions/builtins.h"
#include "orchestrator/expressions/builtins_jinja_library.h"
#include "orchestrator/expressions/internal.h"
#include "orchestrator/expressions/yaql_library.h"

namespace bora::expr::internal {
namespace {

const Builtin kYaql[] = {
    {"len", FnLen},
    {"count", FnCount},
    {"str", FnStr},
    {"int", FnInt},
    {"float", FnFloat},
    {"bool", FnBool},
    {"dict", FnDict},
    {"list", FnList},
    {"toList", FnToList},
    {"range", FnRange},
    {"keys", FnKeys},
    {"values", FnValues},
    {"items", FnItems},
    {"get", FnGet},
    {"first", FnFirst},
    {"last", FnLast},
    {"join", FnJoin},
    {"split", FnSplit},
    {"replace", FnReplace},
    {"toUpper", FnToUpper},
    {"toLower", FnToLower},
    {"trim", FnTrim},
    {"trimLeft", FnTrimLeft},
    {"trimRight", FnTrimRight},
    {"distinct", FnDistinct},
    {"orderBy", FnOrderBy},
    {"orderByDescending", FnOrderByDesc},
    {"contains", FnContains},
    {"containsKey", FnContainsKey},
    {"containsValue", FnContainsValue},
    {"min", FnMin},
    {"max", FnMax},
    {"sum", FnSum},
    {"isEmpty", FnIsEmpty},
    {"concat", FnConcat},
    {"format", FnFormat},
    {"select", FnSelect},
    {"selectMany", FnSelectMany},
    {"where", FnWhere},
    {"filter", FnWhere},
    {"any", FnAny},
    {"all", FnAll},
    {"skip", FnSkip},
    {"take", FnTake},
    {"limit", FnTake},
    {"takeWhile", FnTakeWhile},
    {"skipWhile", FnSkipWhile},
    {"indexWhere", FnIndexWhere},
    {"lastIndexOf", FnLastIndexOf},
    {"single", FnSingle},
    {"append", FnAppend},
    {"reverse", FnReverse},
    {"flatten", FnFlatten},
    {"indexOf", FnIndexOf},
    {"startsWith", FnStartsWith},
    {"endsWith", FnEndsWith},
    {"substring", FnSubstring},
    {"isString", FnIsString},
    {"isList", FnIsList},
    {"isDict", FnIsDict},
    {"isInteger", FnIsInteger},
    {"isNumber", FnIsNumber},
    {"isBoolean", FnIsBoolean},
    {"abs", FnAbs},
    {"round", FnRound},
    {"switch", FnSwitch},
    {"let", FnLet},
    {"coalesce", FnCoalesce},
    {"toDict", FnToDict},
    {"groupBy", FnGroupBy},
    {"mergeWith", FnMergeWith},
    {"delete", FnDelete},
    {"set", FnSet},
    {"zip", FnZip},
    {"enumerate", FnEnumerate},
    {"uuid", FnUuid},
    {"json_dump", FnJsonDump},
    {"json_parse", FnJsonParse},
    {"yaml_dump", FnYamlDump},
    {"yaml_parse", FnYamlParse},
    {"regex", FnRegex},
    {"matches", FnMatches},
    {"search", FnSearch},
    {"searchAll", FnSearchAll},
    {"escapeRegex", FnEscapeRegex},
    {"isRegex", FnIsRegex},
    // yaql 2.0 standard library (yaql_library.h; README "YAQL standard library (yaql 2.0)").
    {"with", FnLet},
    {"pow", FnPow},
    {"sign", FnSign},
    {"bitwiseAnd", FnBitwiseAnd},
    {"bitwiseOr", FnBitwiseOr},
    {"bitwiseXor", FnBitwiseXor},
    {"bitwiseNot", FnBitwiseNot},
    {"shiftBitsLeft", FnShiftBitsLeft},
    {"shiftBitsRight", FnShiftBitsRight},
    {"random", FnRandom},
    {"hex", FnHex},
    {"norm", FnNorm},
    {"toCharArray", FnToCharArray},
    {"characters", FnCharacters},
    {"rightSplit", FnRightSplit},
    {"map", FnSelect},
    {"aggregate", FnAggregate},
    {"reduce", FnAggregate},
    {"accumulate", FnAccumulate},
    {"thenBy", FnThenBy},
    {"thenByDescending", FnThenBy},
    {"zipLongest", FnZipLongest},
    {"repeat", FnRepeat},
    {"memorize", FnMemorize},
    {"isIterable", FnIsIterable},
    {"defaultIfEmpty", FnDefaultIfEmpty},
    {"lastIndexWhere", FnLastIndexWhere},
    {"slice", FnSlice},
    {"splitAt", FnSplitAt},
    {"splitWhere", FnSplitWhere},
    {"sliceWhere", FnSliceWhere},
    {"generate", FnGenerate},
    {"toSet", FnToSet},
    {"union", FnUnion},
    {"intersect", FnIntersect},
    {"difference", FnDifference},
    {"symmetricDifference", FnSymmetricDifference},
    {"add", FnSetAdd},
    {"remove", FnSetRemove},
    {"deleteAll", FnDeleteAll},
    {"insert", FnInsert},
    {"insertMany", FnInsertMany},
    {"replaceMany", FnReplaceMany},
    {"selectCase", FnSelectCase},
    {"selectAllCases", FnSelectAllCases},
    {"examine", FnExamine},
    {"switchCase", FnSwitchCase},
    {"assert", FnAssert},
    {"json_pp", FnJsonPp},
    {"datetime", FnDateTime},
    {"timespan", FnTimespan},
    {"now", FnNow},
    {"localtz", FnLocalTz},
    {"utctz", FnUtcTz},
    {"isDatetime", FnIsDatetime},
    {"isTimespan", FnIsTimespan},
    {"sequence", FnRefused},
    {"cycle", FnRefused},
    {"generateMany", FnRefused},
    {"isSet", FnRefused},
    {"def", FnRefused},
    {"call", FnRefused},
    {"unpack", FnRefused},
    {"replaceBy", FnRefused},
};

const Builtin kJinjaGlobals[] = {
    {"range", FnRange},
    {"dict", FnDict},
    {"list", FnList},
    {"uuid", FnUuid},
    {"json_dump", FnJsonDump},
    {"json_parse", FnJsonParse},
    {"yaml_dump", FnYamlDump},
    {"yaml_parse", FnYamlParse},
    {"len", FnLen},
    {"str", FnStr},
    {"int", FnInt},
    {"float", FnFloat},
    {"bool", FnBool},
    {"min", FnMin},
    {"max", FnMax},
    {"sum", FnSum},
    {"abs", FnAbs},
    {"zip", FnZip},
    {"enumerate", FnEnumerate},
    {"sorted", JFilterSort},
    {"cycler", JGlobalCycler},
    {"joiner", JGlobalJoiner},
    {"namespace", JGlobalNamespace},
    {"lipsum", JRefused},
};

const Builtin kJinjaFilters[] = {
    // Jinja2 3.x's FILTERS (README "Jinja2 builtins").
    {"abs", FnAbs},
    {"attr", JFilterAttr},
    {"batch", JFilterBatch},
    {"capitalize", FnCapitalize},
    {"center", JFilterCenter},
    {"count", FnLen},
    {"d", FnDefault},
    {"default", FnDefault},
    {"dictsort", JFilterDictSort},
    {"e", JFilterEscape},
    {"escape", JFilterEscape},
    {"filesizeformat", JFilterFileSizeFormat},
    {"first", FnFirst},
    {"float", FnFloat},
    {"forceescape", JFilterForceEscape},
    {"format", FnFormatFilter},
    {"groupby", JFilterGroupBy},
    {"indent", FnIndent},
    {"int", JFilterInt},
    {"join", JFilterJoin},
    {"last", FnLast},
    {"length", FnLen},
    {"list", FnList},
    {"lower", FnToLower},
    {"items", JFilterItems},
    {"map", FnMap},
    {"min", JFilterMin},
    {"max", JFilterMax},
    {"pprint", JFilterPprint},
    {"random", JFilterRandom},
    {"reject", FnRejectF},
    {"rejectattr", FnRejectAttr},
    {"replace", FnReplace},
    {"reverse", FnReverse},
    {"round", JFilterRound},
    {"safe", JFilterSafe},
    {"select", FnSelectF},
    {"selectattr", FnSelectAttr},
    {"slice", JFilterSlice},
    {"sort", JFilterSort},
    {"string", FnString},
    {"striptags", JFilterStripTags},
    {"sum", JFilterSum},
    {"title", JFilterTitle},
    {"trim", FnTrim},
    {"truncate", FnTruncate},
    {"unique", JFilterUnique},
    {"upper", FnToUpper},
    {"urlencode", JFilterUrlEncode},
    {"urlize", JRefused},
    {"wordcount", JFilterWordCount},
    {"wordwrap", JFilterWordWrap},
    {"xmlattr", JFilterXmlAttr},
    {"tojson", FnToJson},
    // Mistral's functions and Bora's extensions (Ansible-style filters).
    {"to_json", FnToJson},
    {"dict2items", FnDict2Items},
    {"items2dict", FnItems2Dict},
    {"combine", FnCombine},
    {"bool", FnBool},
    {"json_dump", FnJsonDump},
    {"json_parse", FnJsonParse},
    {"from_json", FnJsonParse},
    {"yaml_dump", FnYamlDump},
    {"yaml_parse", FnYamlParse},
    {"flatten", FnFlatten},
    {"keys", FnKeys},
    {"values", FnValues},
};

const Builtin kJinjaTests[] = {
    {"defined", TestDefined},     {"undefined", TestUndefined}, {"none", TestGeneric},
    {"number", TestGeneric},      {"integer", TestGeneric},     {"float", TestGeneric},
    {"string", TestGeneric},      {"mapping", TestGeneric},     {"iterable", TestGeneric},
    {"sequence", TestGeneric},    {"boolean", TestGeneric},     {"true", TestGeneric},
    {"false", TestGeneric},       {"lower", TestGeneric},       {"upper", TestGeneric},
    {"even", TestGeneric},        {"odd", TestGeneric},         {"divisibleby", TestGeneric},
    {"eq", TestGeneric},          {"equalto", TestGeneric},     {"sameas", TestGeneric},
    {"ne", TestGeneric},          {"lt", TestGeneric},          {"gt", TestGeneric},
    {"le", TestGeneric},          {"ge", TestGeneric},          {"lessthan", TestGeneric},
    {"greaterthan", TestGeneric}, {"in", TestGeneric},          {"filter", JTestFilter},
    {"test", JTestTest},          {"callable", JTestCallable},  {"escaped", JRefused},
};

const Builtin kJinjaMethods[] = {
    {"get", MethodDispatch},      {"keys", MethodDispatch},       {"values", MethodDispatch},
    {"items", MethodDispatch},    {"upper", MethodDispatch},      {"lower", MethodDispatch},
    {"strip", MethodDispatch},    {"lstrip", MethodDispatch},     {"rstrip", MethodDispatch},
    {"split", MethodDispatch},    {"replace", MethodDispatch},    {"startswith", MethodDispatch},
    {"endswith", MethodDispatch}, {"format", MethodDispatch},     {"join", MethodDispatch},
    {"title", MethodDispatch},    {"capitalize", MethodDispatch}, {"index", MethodDispatch},
    {"count", MethodDispatch},    {"find", MethodDispatch},       {"isdigit", MethodDispatch},
    {"cycle", MethodDispatch},
};

template <size_t N>
int Find(const Builtin (&table)[N], std::string_view name) {
  for (size_t i = 0; i < N; ++i)
    if (name == table[i].name) return static_cast<int>(i);
  return -1;
}

}  // namespace

int FindYaqlBuiltin(std::string_view name) { return Find(kYaql, name); }
int FindJinjaGlobal(std::string_view name) { return Find(kJinjaGlobals, name); }
int FindJinjaFilter(std::string_view name) { return Find(kJinjaFilters, name); }
int FindJinjaTest(std::string_view name) { return Find(kJinjaTests, name); }
int FindJinjaMethod(std::string_view name) { return Find(kJinjaMethods, name); }
const Builtin& YaqlBuiltin(int i) { return kYaql[i]; }
size_t YaqlBuiltinCount() { return sizeof(kYaql) / sizeof(kYaql[0]); }
const Builtin& JinjaGlobal(int i) { return kJinjaGlobals[i]; }
const Builtin& JinjaFilter(int i) { return kJinjaFilters[i]; }
const Builtin& JinjaTest(int i) { return kJinjaTests[i]; }
const Builtin& JinjaMethod(int i) { return kJinjaMethods[i]; }

std::vector<std::string> JinjaBuiltinNames(std::string_view kind) {
  std::vector<std::string> out;
  auto add = [&](const auto& table) {
    for (const Builtin& b : table) out.emplace_back(b.name);
  };
  if (kind == "filter") add(kJinjaFilters);
  if (kind == "test") add(kJinjaTests);
  if (kind == "global") add(kJinjaGlobals);
  return out;
}

bool IsHostFunction(std::string_view name) {
  return name == "task" || name == "tasks" || name == "execution" || name == "executions" ||
         name == "env" || name == "global";
}

}  // namespace bora::expr::internal
