// Data-driven test: every testdata/invalid/*.yaml document must be rejected with the error message
// and location stated in its first line, `# expect: LINE:COLUMN message substring`.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "orchestrator/language/parser.h"

namespace bora::lang {
namespace {

namespace fs = std::filesystem;

std::string InvalidDir() { return std::string(BORA_LANGUAGE_TESTDATA_DIR) + "/invalid"; }

std::vector<std::string> InvalidCases() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(InvalidDir(), ec)) {
    if (entry.path().extension() == ".yaml") names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class InvalidDocumentTest : public ::testing::TestWithParam<std::string> {};

TEST_P(InvalidDocumentTest, RejectedWithMessageAndLocation) {
  const std::string name = GetParam();
  const std::string text = ReadFile(InvalidDir() + "/" + name);
  const std::string prefix = "# expect: ";
  ASSERT_EQ(text.rfind(prefix, 0), 0u)
      << name << " must start with '" << prefix << "LINE:COL message'";
  std::string header = text.substr(prefix.size(), text.find('\n') - prefix.size());
  int line = 0, column = 0;
  char colon = 0;
  std::istringstream hs(header);
  hs >> line >> colon >> column;
  ASSERT_TRUE(hs && colon == ':') << "bad header in " << name << ": " << header;
  std::string expected_message;
  std::getline(hs, expected_message);
  expected_message.erase(0, expected_message.find_first_not_of(' '));
  ASSERT_FALSE(expected_message.empty());

  ParseOptions options;
  options.file_name = name;
  std::vector<ValidationError> errors;
  auto doc = ParseDocument(text, options, &errors);
  ASSERT_FALSE(doc.ok()) << name << " was accepted";
  EXPECT_NE(doc.status().code(), StatusCode::kOk);
  ASSERT_FALSE(errors.empty());

  bool found = false;
  std::string all;
  for (const auto& e : errors) {
    all += "  " + e.ToString() + "\n";
    if (e.location.line == line && e.location.column == column &&
        e.message.find(expected_message) != std::string::npos) {
      found = true;
      EXPECT_EQ(e.location.file, name);
      // The combined status message carries "file:line:col: ...".
      std::string where = name + ":" + std::to_string(line) + ":" + std::to_string(column) + ": ";
      EXPECT_NE(doc.status().message().find(where), std::string::npos) << doc.status().message();
    }
  }
  EXPECT_TRUE(found) << name << ": expected an error at " << line << ":" << column
                     << " containing '" << expected_message << "', got:\n"
                     << all;
}

std::string CaseName(const ::testing::TestParamInfo<std::string>& info) {
  std::string s = info.param.substr(0, info.param.size() - 5);
  for (char& c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return s;
}

INSTANTIATE_TEST_SUITE_P(Invalid, InvalidDocumentTest, ::testing::ValuesIn(InvalidCases()),
                         CaseName);

TEST(InvalidDocumentsTable, HasAtLeastFortyCases) { EXPECT_GE(InvalidCases().size(), 40u); }

}  // namespace
}  // namespace bora::lang
