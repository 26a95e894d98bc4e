#pragma once
// Where a project's definitions live in engine::Definitions: the namespace a workflow or ad-hoc
// action is registered under is its Mistral namespace qualified by its project,
// "<project_id>\x1e<namespace>", except for the default project (no Keystone: `--auth none|token`),
// whose namespaces are used as they are (so definitions stored before projects existed keep their
// names). The engine resolves a name in the execution's qualified namespace, then in that project's
// default namespace (DefaultNamespaceOf), as Mistral does within the caller's project.
#include <string>
#include <string_view>

namespace bora::engine {

// The project of resources created without an identity (Mistral's name for it).
inline constexpr std::string_view kDefaultProject = "<default-project>";
inline constexpr char kProjectSeparator = '\x1e';

inline bool IsDefaultProject(std::string_view project_id) {
  return project_id.empty() || project_id == kDefaultProject;
}

// "<project>\x1e<namespace_name>", or `namespace_name` for the default project.
inline std::string QualifiedNamespace(std::string_view project_id,
                                      std::string_view namespace_name) {
  if (IsDefaultProject(project_id)) return std::string(namespace_name);
  std::string out(project_id);
  out += kProjectSeparator;
  out += namespace_name;
  return out;
}

// The default namespace of the project `qualified` belongs to ("<project>\x1e", or "").
inline std::string_view DefaultNamespaceOf(std::string_view qualified) {
  size_t sep = qualified.find(kProjectSeparator);
  return sep == std::string_view::npos ? std::string_view() : qualified.substr(0, sep + 1);
}

// The Mistral namespace of `qualified` (without its project).
inline std::string_view PlainNamespace(std::string_view qualified) {
  size_t sep = qualified.find(kProjectSeparator);
  return sep == std::string_view::npos ? qualified : qualified.substr(sep + 1);
}

}  // namespace bora::engine
