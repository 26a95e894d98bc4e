#include "orchestrator/engine/engine.h"
#include "orchestrator/language/parser.h"

namespace bora::engine {

void MemoryDefinitions::Add(std::shared_ptr<const lang::Document> document,
                            const std::string& namespace_name) {
  MutexLock lock(mu_);
  for (const auto& wf : document->workflows) {
    workflows_[{namespace_name, wf.full_name}] =
        std::shared_ptr<const lang::WorkflowSpec>(document, &wf);
  }
  for (const auto& a : document->actions) {
    actions_[{namespace_name, a.full_name}] =
        std::shared_ptr<const lang::AdhocActionSpec>(document, &a);
  }
}

Status MemoryDefinitions::AddYaml(std::string_view yaml_text, const std::string& namespace_name) {
  auto doc = lang::ParseDocument(yaml_text);
  if (!doc.ok()) return doc.status();
  Add(std::make_shared<const lang::Document>(std::move(doc).value()), namespace_name);
  return Status::Ok();
}

bool MemoryDefinitions::RemoveWorkflow(std::string_view full_name, std::string_view namespace_name) {
  MutexLock lock(mu_);
  return workflows_.erase(std::make_pair(std::string(namespace_name), std::string(full_name))) > 0;
}

bool MemoryDefinitions::RemoveAction(std::string_view full_name, std::string_view namespace_name) {
  MutexLock lock(mu_);
  return actions_.erase(std::make_pair(std::string(namespace_name), std::string(full_name))) > 0;
}

std::shared_ptr<const lang::WorkflowSpec> MemoryDefinitions::FindWorkflow(
    std::string_view full_name, std::string_view namespace_name) const {
  MutexLock lock(mu_);
  auto it = workflows_.find(std::make_pair(std::string(namespace_name), std::string(full_name)));
  return it == workflows_.end() ? nullptr : it->second;
}

std::shared_ptr<const lang::AdhocActionSpec> MemoryDefinitions::FindAction(
    std::string_view full_name, std::string_view namespace_name) const {
  MutexLock lock(mu_);
  auto it = actions_.find(std::make_pair(std::string(namespace_name), std::string(full_name)));
  return it == actions_.end() ? nullptr : it->second;
}

}  // namespace bora::engine
