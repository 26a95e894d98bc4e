#pragma once
// Shell completion and the man page, generated from the command line's own definition (the CLI11
// App: its subcommands, options and help texts), so they never drift from `--help`:
//   bora completion bash   > /usr/share/bash-completion/completions/bora
//   bora completion zsh    > /usr/share/zsh/vendor-completions/_bora
//   bora man               > bora.1   (man -l bora.1)
// CLI11 has no generator of its own; these are small writers over the App tree.
//
// Threading: any, on an App no one changes meanwhile.
#include <string>

namespace CLI {
class App;
}

namespace bora::cli {

// A bash completion script: subcommands at every level, the options of the command being typed,
// file names for positional arguments and for options that take a path.
std::string BashCompletion(const CLI::App& app);

// A zsh completion file (`#compdef bora`) that runs the bash script through zsh's bashcompinit.
std::string ZshCompletion(const CLI::App& app);

// bora(1) in roff (man(7) macros): synopsis, every command with its options and defaults, the
// environment, files and exit status. `version` goes into the page's header.
std::string ManPage(const CLI::App& app, const std::string& version);

}  // namespace bora::cli
