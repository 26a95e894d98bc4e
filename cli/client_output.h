#pragma once
// Output of the `bora` REST client: python-mistralclient-like tables (cliff's style), and the
// server's JSON turned into YAML for `--output yaml`.
//
// Thread-safety: pure functions over their arguments.
#include <iosfwd>
#include <string>
#include <vector>

#include "common/json.h"
#include "common/status.h"

namespace bora::cli {

enum class OutputFormat { kTable, kJson, kYaml };

// One column of a table: its header and the record field it shows.
struct Column {
  std::string header;
  std::string key;
  // Lists shorten long free-text fields to 25 characters + "..." like mistralclient.
  bool cut = false;
};

// A framed table (`+---+` rules, `| cell |` rows); multi-line cells span several lines.
void PrintTable(std::ostream& out, const std::vector<std::string>& headers,
                const std::vector<std::vector<std::string>>& rows);
// One row per object of `items` (other values skipped).
void PrintList(std::ostream& out, const std::vector<Column>& columns, const JsonArray& items);
// The array `key` of object `body`; an empty array when there is none.
const JsonArray& ArrayAt(const Json& body, const std::string& key);
// A Field/Value table of `columns` of `o`; a missing or null field is "<none>".
void PrintObject(std::ostream& out, const std::vector<Column>& columns, const JsonObject& o);
// A Field/Value table of every field of `o`, in its order.
void PrintAnyObject(std::ostream& out, const JsonObject& o);

// `v` as a YAML document (block style; strings quoted where YAML would read them as another type),
// ending in a newline. Parsing it back with a YAML parser gives the same data.
std::string JsonToYaml(const Json& v);

// A YAML document as JSON: plain scalars that read as null, bools (true/false/yes/no/on/off) or
// numbers become those, quoted ones stay strings. kInvalidArgument with the parser's line and
// column when it is not YAML.
Result<Json> YamlToJson(const std::string& text);

}  // namespace bora::cli
