#pragma once
// The built-in functions of builtins_{format,json_yaml,strings,collections,queries,jinja}.cc that
// the tables (builtins_tables.cc) register or other files call. Each is a BuiltinFn: the call
// node, the evaluator and the receiver (method / filter syntax; null for plain calls).
#include "orchestrator/expressions/internal.h"

namespace bora::expr::internal {

#define BORA_BUILTIN(name) ValResult name(Evaluator& ev, const Node& node, Val* recv)

// builtins_format.cc: conversions and formatting.
BORA_BUILTIN(FnStr);
BORA_BUILTIN(FnInt);
BORA_BUILTIN(FnFloat);
BORA_BUILTIN(FnBool);
BORA_BUILTIN(FnFormat);
BORA_BUILTIN(FnString);
BORA_BUILTIN(FnFormatFilter);

// builtins_json_yaml.cc: Mistral's functions and tojson.
BORA_BUILTIN(FnUuid);
BORA_BUILTIN(FnJsonDump);
BORA_BUILTIN(FnToJson);
BORA_BUILTIN(FnJsonParse);
BORA_BUILTIN(FnYamlDump);
BORA_BUILTIN(FnYamlParse);

// builtins_strings.cc: strings and regular expressions.
BORA_BUILTIN(FnJoin);
BORA_BUILTIN(FnSplit);
BORA_BUILTIN(FnReplace);
BORA_BUILTIN(FnToUpper);
BORA_BUILTIN(FnToLower);
BORA_BUILTIN(FnTrim);
BORA_BUILTIN(FnTrimLeft);
BORA_BUILTIN(FnTrimRight);
BORA_BUILTIN(FnIsEmpty);
BORA_BUILTIN(FnStartsWith);
BORA_BUILTIN(FnEndsWith);
BORA_BUILTIN(FnSubstring);
BORA_BUILTIN(FnRegex);
BORA_BUILTIN(FnMatches);
BORA_BUILTIN(FnSearch);
BORA_BUILTIN(FnSearchAll);
BORA_BUILTIN(FnEscapeRegex);
BORA_BUILTIN(FnIsRegex);

// builtins_collections.cc: collections and numbers.
BORA_BUILTIN(FnLen);
BORA_BUILTIN(FnDict);
BORA_BUILTIN(FnList);
BORA_BUILTIN(FnToList);
BORA_BUILTIN(FnRange);
BORA_BUILTIN(FnKeys);
BORA_BUILTIN(FnValues);
BORA_BUILTIN(FnItems);
BORA_BUILTIN(FnGet);
BORA_BUILTIN(FnFirst);
BORA_BUILTIN(FnLast);
BORA_BUILTIN(FnContains);
BORA_BUILTIN(FnMin);
BORA_BUILTIN(FnMax);
BORA_BUILTIN(FnSum);
BORA_BUILTIN(FnConcat);
BORA_BUILTIN(FnLastIndexOf);
BORA_BUILTIN(FnSingle);
BORA_BUILTIN(FnAppend);
BORA_BUILTIN(FnReverse);
BORA_BUILTIN(FnFlatten);
BORA_BUILTIN(FnContainsKey);
BORA_BUILTIN(FnContainsValue);
BORA_BUILTIN(FnIndexOf);
BORA_BUILTIN(FnIsString);
BORA_BUILTIN(FnIsList);
BORA_BUILTIN(FnIsDict);
BORA_BUILTIN(FnIsInteger);
BORA_BUILTIN(FnIsNumber);
BORA_BUILTIN(FnIsBoolean);
BORA_BUILTIN(FnAbs);
BORA_BUILTIN(FnRound);
BORA_BUILTIN(FnMergeWith);
BORA_BUILTIN(FnDelete);
BORA_BUILTIN(FnSet);
BORA_BUILTIN(FnZip);
BORA_BUILTIN(FnEnumerate);

// builtins_queries.cc: YAQL queries and branching.
BORA_BUILTIN(FnDistinct);
BORA_BUILTIN(FnOrderBy);
BORA_BUILTIN(FnOrderByDesc);
BORA_BUILTIN(FnSelect);
BORA_BUILTIN(FnSelectMany);
BORA_BUILTIN(FnWhere);
BORA_BUILTIN(FnAny);
BORA_BUILTIN(FnAll);
BORA_BUILTIN(FnCount);
BORA_BUILTIN(FnSkip);
BORA_BUILTIN(FnTake);
BORA_BUILTIN(FnTakeWhile);
BORA_BUILTIN(FnSkipWhile);
BORA_BUILTIN(FnIndexWhere);
BORA_BUILTIN(FnSwitch);
BORA_BUILTIN(FnLet);
BORA_BUILTIN(FnCoalesce);
BORA_BUILTIN(FnToDict);
BORA_BUILTIN(FnGroupBy);

// builtins_jinja.cc: Jinja filters, tests and Python methods.
BORA_BUILTIN(FnDefault);
BORA_BUILTIN(FnSelectF);
BORA_BUILTIN(FnRejectF);
BORA_BUILTIN(FnSelectAttr);
BORA_BUILTIN(FnRejectAttr);
BORA_BUILTIN(FnMap);
BORA_BUILTIN(FnDict2Items);
BORA_BUILTIN(FnItems2Dict);
BORA_BUILTIN(FnCombine);
BORA_BUILTIN(FnIndent);
BORA_BUILTIN(FnTruncate);
BORA_BUILTIN(FnCapitalize);
BORA_BUILTIN(FnTitle);
BORA_BUILTIN(TestDefined);
BORA_BUILTIN(TestUndefined);
BORA_BUILTIN(TestGeneric);
// `value.method(...)` on a dict, string or list (the kJinjaMethods table).
BORA_BUILTIN(MethodDispatch);

#undef BORA_BUILTIN

}  // namespace bora::expr::internal
