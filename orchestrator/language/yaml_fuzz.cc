// libFuzzer target for the YAML loader and the Workflow Language parser (built with -DBORA_FUZZ=ON
// and clang; see README.md). The last input byte, when present, picks ParseOptions::expect, so the
// workbook and actions paths are fuzzed too.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "orchestrator/language/parser.h"
#include "orchestrator/language/yaml_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  bora::lang::YamlLimits limits;
  auto loaded = bora::lang::LoadYaml(text, limits);
  if (loaded.ok()) (void)bora::lang::YamlToJson(**loaded);

  bora::lang::ParseOptions options;
  options.file_name = "fuzz.yaml";
  if (size > 0) {
    switch (data[size - 1] % 4) {
      case 1:
        options.expect = bora::lang::ParseOptions::Expect::kWorkflows;
        break;
      case 2:
        options.expect = bora::lang::ParseOptions::Expect::kWorkbook;
        break;
      case 3:
        options.expect = bora::lang::ParseOptions::Expect::kActions;
        break;
      default:
        break;
    }
  }
  std::vector<bora::lang::ValidationError> errors;
  auto doc = bora::lang::ParseDocument(text, options, &errors);
  if (!doc.ok() && errors.empty())
    __builtin_trap();  // every failure must come with a located error
  for (const auto& e : errors) (void)e.ToString();
  return 0;
}
