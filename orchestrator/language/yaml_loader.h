#pragma once
// A bounded YAML loader that types scalars the way PyYAML's safe_load does (YAML 1.1, which Mistral
// uses) and keeps the 1-based line/column of every node for error messages. Used by the Workflow
// Language parser (parser.h) and by the YAML fuzzer; not meant for other modules (they get Json
// from the parser).
//
// Limits (document bytes, nesting depth, alias uses, node count after alias expansion) are checked
// before and while loading, so a hostile document (deep nesting, "billion laughs") fails with
// kResourceExhausted instead of exhausting memory. Aliased subtrees are shared, not copied; their
// expanded size is counted.
//
// Pure functions; thread-safe. A loaded tree is immutable and may be shared between threads.
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/json.h"
#include "common/status.h"

namespace bora::lang {

struct YamlLimits {
  size_t max_document_bytes = 1 << 20;
  int max_depth = 64;
  size_t max_aliases = 64;
  size_t max_nodes = 200000;
};

struct YamlNode;
using YamlNodePtr = std::shared_ptr<const YamlNode>;

// One node of a loaded document. Mapping keys are converted to strings (a non-string key such as
// `on` or `1` becomes the text Python's json.dumps would write for it: "true", "1").
struct YamlNode {
  enum class Kind { kScalar, kSequence, kMapping };
  struct Entry {
    std::string key;
    int key_line = 0;
    int key_column = 0;
    YamlNodePtr value;
  };

  Kind kind = Kind::kScalar;
  Json scalar;        // kScalar: null, bool, int64/uint64, double or string (PyYAML typing)
  bool plain = true;  // kScalar: written without quotes or block style (|, >)
  std::vector<YamlNodePtr> items;  // kSequence
  std::vector<Entry>
      entries;     // kMapping, document order (a repeated key replaces the value in place)
  int line = 0;    // 1-based
  int column = 0;  // 1-based
  size_t expanded_size = 1;  // nodes in this subtree with aliases expanded

  bool IsNull() const { return kind == Kind::kScalar && scalar.is_null(); }
  bool IsString() const { return kind == Kind::kScalar && scalar.is_string(); }
  bool IsMapping() const { return kind == Kind::kMapping; }
  bool IsSequence() const { return kind == Kind::kSequence; }
  // Mapping lookup; nullptr when absent or not a mapping.
  const Entry* Find(std::string_view key) const;
};

// Converts a subtree to Json (aliases expanded; the caller's tree was bounded by
// YamlLimits::max_nodes).
Json YamlToJson(const YamlNode& node);

// Short description of a node's type for messages: "null", "bool", "int", "float", "string",
// "list", "mapping".
std::string_view YamlTypeName(const YamlNode& node);

// A loaded document, or an error: kResourceExhausted for a limit, kInvalidArgument for bad YAML
// (text that is not valid UTF-8 included: "YAML text is not valid UTF-8 (byte 0xff)" at its line
// and column). When `error_line`/`error_column` are given they receive the 1-based location of the
// problem (0 if unknown). An empty document loads as a null scalar. More than one document in the
// stream is an error.
Result<YamlNodePtr> LoadYaml(std::string_view text, const YamlLimits& limits,
                             int* error_line = nullptr, int* error_column = nullptr);

// PyYAML typing of one plain scalar ("yes" -> true, "0x1F" -> 31, "1.5" -> 1.5, "~" -> null, else
// string).
Json ResolvePlainScalar(const std::string& text);

}  // namespace bora::lang
