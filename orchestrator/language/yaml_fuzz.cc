// libFuzzer target for the YAML loader and the Workflow Language parser (built with -DBORA_FUZZ=ON,
// clang).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "orchestrator/language/parser.h"
#include "orchestrator/language/yaml_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  bora::lang::YamlLimits limits;
  auto loaded = bora::lang::LoadYaml(text, limits);
  if (loaded.ok()) (void)bora::lang::YamlToJson(**loaded);
  bora::lang::ParseOptions options;
  options.file_name = "fuzz.yaml";
  std::vector<bora::lang::ValidationError> errors;
  auto doc = bora::lang::ParseDocument(text, options, &errors);
  if (!doc.ok()) (void)doc.status().message().size();
  return 0;
}
