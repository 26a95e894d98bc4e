#include "cli/option_sources.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

namespace bora::cli {
namespace {

// The commands whose options the environment may set (the servers and `run`); the client commands
// read BORA_URL / BORA_TOKEN themselves.
const std::set<std::string>& EnvironmentCommands() {
  static const std::set<std::string> kCommands = {"serve", "orchestrator", "worker", "api", "run"};
  return kCommands;
}

bool Excluded(const std::string& command, const std::string& name) {
  // `bora serve` is embedded unless --kafka/--redis are flags: the variables, set for the other
  // commands, must not switch it.
  return command == "serve" && (name == "kafka" || name == "redis");
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return std::string(s.substr(b, e - b + 1));
}

bool IsFlag(const CLI::Option& opt) { return opt.get_expected_max() == 0; }
bool TakesMany(const CLI::Option& opt) { return opt.get_items_expected_max() > 1; }

// A value as TOML: numbers and booleans bare, the rest quoted.
std::string TomlValue(const std::string& v) {
  if (v == "true" || v == "false") return v;
  if (!v.empty()) {
    char* end = nullptr;
    std::strtod(v.c_str(), &end);
    if (end != nullptr && *end == '\0' &&
        v.find_first_not_of("0123456789.-+eE") == std::string::npos) {
      return v;
    }
  }
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string EnvironmentName(const std::string& long_name) {
  std::string out = "BORA_";
  for (char c : long_name) {
    out += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

Result<std::vector<std::string>> OptionSources::Apply(
    std::vector<std::string> args, const std::function<const char*(const char*)>& getenv) {
  // The selected command: the first argument naming one.
  size_t at = args.size();
  CLI::App* command = nullptr;
  for (size_t i = 0; i < args.size() && command == nullptr; ++i) {
    if (args[i].starts_with("-")) continue;
    for (CLI::App* sub : app_.get_subcommands([](CLI::App*) { return true; })) {
      if (sub->get_name() == args[i]) {
        command = sub;
        at = i;
        break;
      }
    }
  }
  // What the command line sets.
  for (const std::string& a : args) {
    if (a == "--") break;
    if (a.starts_with("--")) {
      from_flags_.push_back(
          a.substr(2, a.find('=') == std::string::npos ? std::string::npos : a.find('=') - 2));
    } else if (a.size() >= 2 && a[0] == '-' && command != nullptr) {
      if (const CLI::Option* o = command->get_option_no_throw(a.substr(0, 2));
          o != nullptr && !o->get_lnames().empty()) {
        from_flags_.push_back(o->get_lnames().front());
      }
    }
  }
  auto set_on_command_line = [this](const std::string& name) {
    return std::find(from_flags_.begin(), from_flags_.end(), name) != from_flags_.end();
  };
  std::vector<std::string> root_added, added;
  if (!set_on_command_line("config")) {
    if (const char* v = getenv("BORA_CONFIG"); v != nullptr && *v != '\0') {
      root_added.push_back(std::string("--config=") + v);
      from_env_["config"] = "BORA_CONFIG";
    }
  }
  if (command != nullptr && EnvironmentCommands().contains(command->get_name())) {
    command_ = command->get_name();
    for (const CLI::Option* opt : command->get_options()) {
      if (opt->get_lnames().empty() || opt == command->get_help_ptr()) continue;
      const std::string& name = opt->get_lnames().front();
      if (set_on_command_line(name) || Excluded(command_, name)) continue;
      const std::string var = EnvironmentName(name);
      const char* raw = getenv(var.c_str());
      if (raw == nullptr || *raw == '\0') continue;
      const std::string value = raw;
      if (IsFlag(*opt)) {
        const std::string v = Lower(value);
        if (v == "1" || v == "true" || v == "yes" || v == "on") {
          added.push_back("--" + name);
        } else if (v != "0" && v != "false" && v != "no" && v != "off") {
          return InvalidArgument(
              var + "=" + value + ": --" + name +
              " is a flag: the variable must be 1/true/yes/on or 0/false/no/off");
        }
      } else if (TakesMany(*opt)) {
        std::stringstream in(value);
        for (std::string item; std::getline(in, item, ',');) {
          if (!Trim(item).empty()) added.push_back("--" + name + "=" + Trim(item));
        }
      } else {
        added.push_back("--" + name + "=" + value);
      }
      from_env_[name] = var;
    }
  }
  // The root's option (--config) first, the command's right after the command's name.
  std::vector<std::string> out = root_added;
  for (size_t i = 0; i < args.size(); ++i) {
    out.push_back(args[i]);
    if (i == at) out.insert(out.end(), added.begin(), added.end());
  }
  config_file_ = ConfigFile(out);
  return out;
}

std::string OptionSources::ConfigFile(const std::vector<std::string>& args) const {
  std::string file;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--config" && i + 1 < args.size()) file = args[i + 1];
    if (args[i].starts_with("--config=")) file = args[i].substr(9);
  }
  return file;
}

Status OptionSources::CheckConfigFile(const std::vector<std::string>& args) const {
  const std::string file = ConfigFile(args);
  if (file.empty()) return Status::Ok();
  std::ifstream in(file);
  if (!in) return NotFound(file + ": cannot read the config file");
  std::string line;
  int number = 0;
  const CLI::App* section = &app_;
  std::string section_name;
  while (std::getline(in, line)) {
    ++number;
    const std::string where = file + ":" + std::to_string(number) + ": ";
    std::string text = Trim(line);
    if (text.empty() || text[0] == '#' || text[0] == ';') continue;
    if (text[0] == '[') {
      if (text.back() != ']') return InvalidArgument(where + "a section is [name]");
      section_name = Trim(std::string_view(text).substr(1, text.size() - 2));
      section = nullptr;
      for (const CLI::App* sub : app_.get_subcommands([](const CLI::App*) { return true; })) {
        if (sub->get_name() == section_name) section = sub;
      }
      if (section == nullptr) {
        return InvalidArgument(where + "[" + section_name +
                               "] is not a command (sections: serve, orchestrator, worker, api, "
                               "run)");
      }
      continue;
    }
    const size_t eq = text.find('=');
    if (eq == std::string::npos) {
      // The rest of a multi-line array.
      if (text[0] == ']' || text[0] == '"' || text[0] == '\'') continue;
      return InvalidArgument(where + "expected key = value");
    }
    const std::string key = Trim(std::string_view(text).substr(0, eq));
    if (section->get_option_no_throw("--" + key) == nullptr) {
      return InvalidArgument(where + "'" + key + "' is not an option of " +
                             (section == &app_ ? std::string("bora") : "bora " + section_name) +
                             " (keys are the long option names without dashes)");
    }
  }
  return Status::Ok();
}

std::string OptionSources::Show(const CLI::App& command) const {
  std::ostringstream out;
  out << "# bora " << command.get_name()
      << ": the effective options (flag > environment > file > default)\n";
  if (!config_file_.empty()) out << "# config file: " << config_file_ << "\n";
  out << "[" << command.get_name() << "]\n";
  for (const CLI::Option* opt : command.get_options()) {
    if (opt->get_lnames().empty() || opt == command.get_help_ptr()) continue;
    const std::string& name = opt->get_lnames().front();
    std::string source;
    if (std::find(from_flags_.begin(), from_flags_.end(), name) != from_flags_.end()) {
      source = "flag";
    } else if (auto it = from_env_.find(name); it != from_env_.end()) {
      source = "env " + it->second;
    } else if (opt->count() > 0) {
      source = "file " + config_file_;
    } else {
      source = "default";
    }
    std::string value;
    if (opt->count() > 0) {
      const auto& results = opt->results();
      if (IsFlag(*opt)) {
        value = "true";
      } else if (TakesMany(*opt)) {
        value = "[";
        for (size_t i = 0; i < results.size(); ++i) {
          value += (i ? ", " : "") + TomlValue(results[i]);
        }
        value += "]";
      } else if (name.find("password") != std::string::npos) {
        value = TomlValue("***");  // a secret is never printed
      } else {
        value = TomlValue(results.empty() ? "" : results.back());
      }
    } else if (IsFlag(*opt)) {
      value = "false";
    } else if (TakesMany(*opt)) {
      value = "[]";
    } else {
      value = TomlValue(opt->get_default_str());
    }
    // An unset option is shown as a comment, so that the output is a config file bora accepts.
    const bool unset = source == "default" && (value == "\"\"" || value == "[]");
    std::string line = (unset ? "# " : "") + name + " = " + value;
    if (unset) source = "default: not set";
    if (line.size() < 44) line.resize(44, ' ');
    out << line << "  # " << source << "\n";
  }
  return out.str();
}

}  // namespace bora::cli
