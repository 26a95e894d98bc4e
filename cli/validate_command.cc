#include "cli/validate_command.h"

#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "cli/client_command.h"
#include "common/json.h"
#include "orchestrator/language/parser.h"
#include "workers/external_actions.h"
#include "workers/std_actions.h"

namespace bora::cli {
namespace {

// What `bora validate` knows of an action a task names: its required and known parameters.
struct KnownAction {
  std::set<std::string> required;
  std::set<std::string> params;
  bool any_params = false;
};

// The keys a task passes to its action when they are written out (inline parameters and an `input:`
// mapping); nullopt when the input is an expression whose keys are only known at run time.
std::optional<std::set<std::string>> StaticInputKeys(const lang::TaskSpec& task) {
  std::set<std::string> keys;
  for (const expr::Template* t : {&task.inline_params, task.input ? &*task.input : nullptr}) {
    if (t == nullptr) continue;
    const Json& source = t->Source();
    if (source.is_null()) continue;
    if (!source.is_object()) return std::nullopt;
    for (const auto& kv : source.get_object()) keys.insert(std::string(kv.key()));
  }
  return keys;
}

// Errors for the tasks of `doc` that name an action no one defines, or leave out a required parameter
// of it: both would only fail when the task runs. Actions named by an expression are checked then.
std::vector<std::string> CheckActions(const std::string& file, const lang::Document& doc,
                                      const std::map<std::string, KnownAction>& known) {
  std::vector<std::string> errors;
  for (const auto& wf : doc.workflows) {
    for (const auto& task : wf.tasks) {
      if (!task.action || task.action->HasExpressions() || !task.action->Source().is_string()) continue;
      const std::string name(task.action->Source().get_string());
      if (name.empty()) continue;
      const KnownAction* action = nullptr;
      for (const std::string& candidate :
           {wf.workbook.empty() ? name : wf.workbook + "." + name, name}) {
        if (auto it = known.find(candidate); it != known.end()) {
          action = &it->second;
          break;
        }
      }
      const std::string where = file + ":" + std::to_string(task.location.line) + ":" +
                                std::to_string(task.location.column) + ": workflow '" + wf.name +
                                "', task '" + task.name + "': ";
      if (action == nullptr) {
        std::string hint;
        size_t best = 3;
        for (const auto& [candidate, unused] : known) {
          // A near miss by a typo: same length and at most two characters differ, or one extra.
          size_t diff = candidate.size() > name.size() ? candidate.size() - name.size()
                                                       : name.size() - candidate.size();
          for (size_t i = 0; i < std::min(candidate.size(), name.size()); ++i)
            diff += candidate[i] != name[i];
          if (diff < best) {
            best = diff;
            hint = " (did you mean '" + candidate + "'?)";
          }
        }
        errors.push_back(where + "unknown action '" + name + "'" + hint);
        continue;
      }
      auto given = StaticInputKeys(task);
      if (!given) continue;
      for (const auto& required : action->required) {
        if (!given->contains(required)) {
          errors.push_back(where + "action '" + name + "' needs the input '" + required + "'");
        }
      }
      if (action->any_params) continue;
      for (const auto& key : *given) {
        if (!action->params.contains(key)) {
          errors.push_back(where + "action '" + name + "' has no input '" + key + "'");
        }
      }
    }
  }
  return errors;
}

// Records an input spec ("a, b=null, **kwargs") as what `action` takes (`**kwargs`: any further
// input). A spec that does not parse, or an empty one when empty_is_any, takes any input.
void Know(KnownAction& action, const std::string& spec, bool empty_is_any) {
  auto params = workers::ParseActionInputSpec(spec, &action.any_params);
  if (!params.ok() || (empty_is_any && spec.find_first_not_of(" \t") == std::string::npos)) {
    action.any_params = true;
    return;
  }
  for (const auto& p : *params) {
    action.params.insert(p.name);
    if (p.required) action.required.insert(p.name);
  }
}

// Adds the actions of a catalog file (sdk/openstack/bora_openstack/actions.json's form).
Status LoadCatalog(const std::string& file, std::map<std::string, KnownAction>& known) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return InvalidArgument("cannot read the action catalog " + file);
  std::stringstream text;
  text << in.rdbuf();
  auto doc = ParseJson(text.str());
  if (!doc.ok()) return InvalidArgument(file + ": not JSON: " + doc.status().message());
  const Json* actions = &*doc;
  if (doc->is_object()) actions = doc->as_object().if_contains("actions");
  if (actions == nullptr || !actions->is_array()) {
    return InvalidArgument(file +
                           ": not an action catalog (a list of actions, or {\"actions\": [...]})");
  }
  for (const Json& a : actions->as_array()) {
    const Json* name = a.is_object() ? a.as_object().if_contains("name") : nullptr;
    if (name == nullptr || !name->is_string() || name->get_string().empty()) {
      return InvalidArgument(file + ": an action without a name");
    }
    const Json* input = a.as_object().if_contains("input");
    Know(known[std::string(name->get_string())],
         input != nullptr && input->is_string() ? std::string(input->get_string()) : "",
         /*empty_is_any=*/false);
  }
  return Status::Ok();
}

}  // namespace

int RunValidate(const std::vector<std::string>& files, const ValidateArgs& args) {
  int exit_code = 0;
  // The std actions, then the ad-hoc actions of every file given (a workflow may use one from another).
  std::map<std::string, KnownAction> known;
  workers::ActionRegistry registry;
  workers::StdActionOptions std_options;
  std_options.allow_shell = true;  // its signature; whether it may run is the runner's choice
  workers::RegisterStdActions(registry, std_options);
  for (const auto& name : registry.Names()) {
    const workers::ActionSignature& sig = *registry.FindSignature(name);
    KnownAction& a = known[sig.name];
    a.any_params = sig.accepts_any_params;
    for (const auto& p : sig.params) {
      a.params.insert(p.name);
      if (p.required) a.required.insert(p.name);
    }
  }
  if (!args.url.empty()) {
    // The server's actions the std ones do not cover: external actions declared by its workers.
    std::optional<std::string> body = FetchFromApi(args.url, args.token, "/v2/actions", std::cerr);
    if (!body) return 3;
    auto list = ParseJson(*body);
    const Json* actions =
        list.ok() && list->is_object() ? list->as_object().if_contains("actions") : nullptr;
    if (actions == nullptr || !actions->is_array()) {
      std::cerr << "bora: " << args.url << "/v2/actions did not answer an action list\n";
      return 3;
    }
    for (const Json& a : actions->as_array()) {
      if (!a.is_object()) continue;
      const Json* name = a.as_object().if_contains("name");
      const Json* input = a.as_object().if_contains("input");
      const Json* is_system = a.as_object().if_contains("is_system");
      if (name == nullptr || !name->is_string() || known.count(std::string(name->get_string())) ||
          is_system == nullptr || !is_system->is_bool() || !is_system->get_bool()) {
        continue;  // ad-hoc actions of the server are not this run's business: the files' are
      }
      std::string spec =
          input != nullptr && input->is_string() ? std::string(input->get_string()) : "";
      // Declared without an input spec: any parameters.
      Know(known[std::string(name->get_string())], spec, /*empty_is_any=*/true);
    }
  }
  std::vector<std::string> catalogs = args.action_catalogs;
  if (catalogs.empty() && std::ifstream(kDefaultActionCatalog).good()) {
    catalogs.push_back(kDefaultActionCatalog);
  }
  for (const std::string& catalog : catalogs) {
    if (Status s = LoadCatalog(catalog, known); !s.ok()) {
      std::cerr << "bora: " << s.message() << "\n";
      return 3;
    }
  }
  std::vector<std::pair<std::string, Result<lang::Document>>> parsed;
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
    options.strict = true;  // also what would only fail at run time
    std::vector<lang::ValidationError> errors;
    Result<lang::Document> doc = lang::ParseDocument(text.str(), options, &errors);
    if (!doc.ok()) {
      exit_code = 2;
      if (errors.empty()) {
        std::cout << doc.status().message() << "\n";
      } else {
        for (const auto& e : errors) std::cout << e.ToString() << "\n";
      }
      continue;
    }
    for (const auto& action : doc->actions) {
      KnownAction& a = known[action.full_name];
      for (const auto& p : action.input) {
        a.params.insert(p.name);
        if (!p.has_default) a.required.insert(p.name);
      }
    }
    parsed.emplace_back(file, std::move(doc));
  }
  for (const auto& [file, doc] : parsed) {
    auto errors = CheckActions(file, *doc, known);
    if (errors.empty()) {
      std::cout << file << ": OK\n";
      continue;
    }
    exit_code = 2;
    for (const auto& e : errors) std::cout << e << "\n";
  }
  return exit_code;
}

}  // namespace bora::cli
