#include "cli/validate_command.h"

#include <fstream>
#include <iostream>
#include <sstream>

#include "orchestrator/language/parser.h"

namespace bora::cli {

int RunValidate(const std::vector<std::string>& files) {
  int exit_code = 0;
  for (const std::string& file : files) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      std::cout << file << ": cannot read the file\n";
      exit_code = 2;
      continue;
    }
    std::stringstream text;
    text << in.rdbuf();
    lang::ParseOptions options;
    options.file_name = file;
    std::vector<lang::ValidationError> errors;
    Result<lang::Document> doc = lang::ParseDocument(text.str(), options, &errors);
    if (doc.ok()) {
      std::cout << file << ": OK\n";
      continue;
    }
    exit_code = 2;
    if (errors.empty()) {
      std::cout << doc.status().message() << "\n";
    } else {
      for (const auto& e : errors) std::cout << e.ToString() << "\n";
    }
  }
  return exit_code;
}

}  // namespace bora::cli
