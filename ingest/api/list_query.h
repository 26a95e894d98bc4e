#pragma once
// Mistral's list conventions: `marker`, `limit` (<= max_limit), `sort_keys`, `sort_dirs`, `fields` and
// filters `field=value` or `field=op:value` (op: eq|neq|gt|gte|lt|lte|in|nin|has; `in`/`nin` take a comma
// list). Applied to records that are already in their REST shape (JSON objects), so every resource shares
// one implementation. The reply is {"<collection>": [...], "next": url?} where next is present when more
// records follow (marker = the last returned id).
//
// Thread-safety: pure functions.
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/http/http_types.h"
#include "common/json.h"
#include "common/status.h"

namespace bora::api {

struct Filter {
  std::string field;
  std::string op = "eq";            // eq neq gt gte lt lte in nin has; search (below)
  std::vector<std::string> values;  // one, or several for in/nin
  // op "search" (made by a resource, not parsed from a query): the record passes when one of these
  // string fields contains values[0] (lower case) ignoring ASCII case; `field` is unused.
  std::vector<std::string> search_fields;
};

// The most records one list response holds. A `limit` above the resource's page size (max_limit) is served
// in full up to this many (Mistral answers any limit; clients ask for a large one to list everything); above
// it the response holds this many and a `next` link.
inline constexpr size_t kMaxRecordsPerResponse = 100'000;

struct ListQuery {
  std::optional<std::string> marker;  // id of the last record of the previous page
  size_t limit = 0;                   // 0: no limit given (max_limit applies)
  std::vector<std::string> sort_keys = {"created_at"};
  std::vector<std::string> sort_dirs = {"asc"};
  std::vector<std::string> fields;  // empty: all fields
  std::vector<Filter> filters;
  size_t max_limit = 1000;  // the page size when `limit` is 0 (set by ParseListQuery)
};

// Reads the list parameters of `request`. Query keys that are not list parameters are filters when they
// are in `filterable` (others: kInvalidArgument naming the key). limit <= 0: kInvalidArgument; a limit
// above kMaxRecordsPerResponse (or max_limit, if larger) is lowered to it.
Result<ListQuery> ParseListQuery(const http::HttpRequest& request, const std::set<std::string>& filterable,
                                 size_t max_limit = 1000);

// As above; query keys in `ignored` (resource parameters such as include_output) are neither list
// parameters nor filters and are skipped.
Result<ListQuery> ParseListQuery(const http::HttpRequest& request, const std::set<std::string>& filterable,
                                 size_t max_limit, const std::set<std::string>& ignored);

// Filters, sorts, pages and projects `records` (objects with an "id"). `base_path` ("/v2/executions") and the
// request's other parameters build the `next` link.
Json ApplyListQuery(std::vector<Json> records, const ListQuery& query, const std::string& collection,
                    const http::HttpRequest& request);

// ApplyListQuery with Mistral's checks: an unknown `marker` (no record has that id, before filtering) is
// kNotFound; a `fields` name that no record has is kInvalidArgument "Field(s) x are invalid." (checked
// only when there are records). ApplyListQuery itself answers an empty page for an unknown marker.
Result<Json> TryApplyListQuery(std::vector<Json> records, const ListQuery& query,
                               const std::string& collection, const http::HttpRequest& request);

// Whether `record` (a REST-shape object) passes `filter` (typed comparison: numbers numerically, strings
// lexicographically, `has` = substring). A missing field is null.
bool MatchesFilter(const Json& record, const Filter& filter);

// `s` with ASCII letters in lower case (what op "search" compares).
std::string AsciiLower(std::string_view s);

}  // namespace bora::api
