// Every workflow of the conformance corpus (../shared/conformance relative to the repo root, or
// $BORA_CONFORMANCE_DIR) must parse and validate, and the workflow the case starts must exist.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/json.h"
#include "orchestrator/language/parser.h"

namespace bora::lang {
namespace {

namespace fs = std::filesystem;

std::string CorpusDir() {
  if (const char* env = std::getenv("BORA_CONFORMANCE_DIR"); env != nullptr && *env) return env;
  // Tests run from the repo root (CTest WORKING_DIRECTORY); also try from a build directory.
  for (const char* candidate : {"../shared/conformance", "../../shared/conformance"}) {
    std::error_code ec;
    if (fs::is_directory(candidate, ec)) return candidate;
  }
  return "../shared/conformance";
}

std::vector<std::string> CorpusCases() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(CorpusDir(), ec)) {
    if (entry.path().extension() == ".yaml") names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  if (names.empty()) names.push_back("corpus-absent");
  return names;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class ConformanceParseTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ConformanceParseTest, ParsesAndValidates) {
  const std::string name = GetParam();
  if (name == "corpus-absent") {
    GTEST_SKIP() << "conformance corpus not found at " << CorpusDir()
                 << " (set BORA_CONFORMANCE_DIR); skipping the corpus parse cases";
  }
  const std::string path = CorpusDir() + "/" + name;
  const std::string text = ReadFile(path);
  ASSERT_FALSE(text.empty()) << path;
  ParseOptions options;
  options.file_name = name;
  std::vector<ValidationError> errors;
  auto doc = ParseDocument(text, options, &errors);
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_TRUE(errors.empty());
  EXPECT_FALSE(doc->workflows.empty());
  EXPECT_EQ(doc->source_text, text);
  for (const auto& wf : doc->workflows) {
    EXPECT_FALSE(wf.tasks.empty()) << wf.full_name;
    EXPECT_EQ(wf.task_index.size(), wf.tasks.size()) << wf.full_name;
    for (const auto& task : wf.tasks) {
      EXPECT_NE(task.action.has_value(), task.workflow.has_value())
          << wf.full_name << "." << task.name;
      EXPECT_GT(task.location.line, 0);
    }
  }

  // The workflow the case starts (expect.json "workflow") must be defined.
  std::string expect_path = path.substr(0, path.size() - 5) + ".expect.json";
  std::string expect_text = ReadFile(expect_path);
  if (expect_text.empty()) return;
  auto expect = ParseJson(expect_text);
  ASSERT_TRUE(expect.ok()) << expect_path;
  if (!expect->is_object() || !expect->as_object().contains("workflow")) return;
  std::string wanted(expect->as_object().at("workflow").as_string());
  bool found = false;
  for (const auto& wf : doc->workflows) found = found || wf.full_name == wanted;
  EXPECT_TRUE(found) << "workflow '" << wanted << "' not defined in " << name;
}

std::string CaseName(const ::testing::TestParamInfo<std::string>& info) {
  std::string s = info.param;
  if (s.size() > 5 && s.substr(s.size() - 5) == ".yaml") s.resize(s.size() - 5);
  for (char& c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return s;
}

INSTANTIATE_TEST_SUITE_P(Corpus, ConformanceParseTest, ::testing::ValuesIn(CorpusCases()),
                         CaseName);

}  // namespace
}  // namespace bora::lang
