#include "cli/run_command.h"

#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "common/json.h"
#include "common/thread_annotations.h"
#include "orchestrator/language/parser.h"
#include "orchestrator/runtime/embedded_runtime.h"
#include "orchestrator/runtime/views.h"

namespace bora::cli {

namespace {

// `-` reads standard input.
Result<std::string> ReadFile(const std::string& path) {
  if (path == "-") {
    std::stringstream ss;
    ss << std::cin.rdbuf();
    if (std::cin.bad()) return NotFound("cannot read standard input");
    return ss.str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// JSON text, or @path to a file holding it.
Result<Json> JsonArg(const std::string& what, const std::string& text) {
  std::string body = text;
  if (!text.empty() && text[0] == '@') {
    BORA_ASSIGN_OR_RETURN(body, ReadFile(text.substr(1)));
  }
  auto parsed = ParseJson(body);
  if (!parsed.ok()) return parsed.status().WithContext(what);
  if (!parsed->is_object()) return InvalidArgument(what + ": expected a JSON object");
  return parsed;
}

// https://no-color.org: NO_COLOR set and not empty turns colours off.
bool NoColor() {
  const char* v = std::getenv("NO_COLOR");
  return v != nullptr && *v != '\0';
}

const char* ResetColor(bool tty) { return tty && !NoColor() ? "\033[0m" : ""; }

const char* StateColor(engine::State s, bool tty) {
  if (!tty || NoColor()) return "";
  switch (s) {
    case engine::State::kSuccess: return "\033[32m";
    case engine::State::kError: return "\033[31m";
    case engine::State::kCancelled:
    case engine::State::kPaused: return "\033[33m";
    default: return "\033[36m";
  }
}

// Prints task starts and ends while the run goes on (terminal only).
class Progress final : public partition::ExecutionObserver {
 public:
  explicit Progress(bool tty) : tty_(tty) {}
  void OnApplied(const engine::ExecutionState& state, const engine::Event&) override {
    MutexLock lock(mu_);
    for (const auto& t : state.tasks) {
      auto& last = seen_[t.id];
      if (last == t.state) continue;
      last = t.state;
      if (t.state == engine::State::kIdle) continue;
      std::string where = state.parent_execution_id.empty() ? "" : "[" + state.workflow_name + "] ";
      std::printf("  %s%-9s%s %s%s\n", StateColor(t.state, tty_),
                  std::string(engine::StateName(t.state)).c_str(), ResetColor(tty_), where.c_str(),
                  t.name.c_str());
    }
    std::fflush(stdout);
  }

 private:
  bool tty_;
  Mutex mu_;
  std::map<std::string, engine::State> seen_ GUARDED_BY(mu_);
};

std::string Short(const Json& v, size_t max = 100) {
  std::string s = DumpJson(v);
  if (s.size() > max) s = s.substr(0, max - 3) + "...";
  return s;
}

void PrintTree(runtime::ExecutionClient& client, const engine::ExecutionState& state, int depth,
               bool tty) {
  std::string pad(static_cast<size_t>(depth) * 4, ' ');
  for (const auto& t : state.tasks) {
    double ms = t.finished_at >= t.started_at && t.started_at ? (t.finished_at - t.started_at) / 1000.0 : 0;
    std::printf("%s  %s%-9s%s %-24s %8.1f ms", pad.c_str(), StateColor(t.state, tty),
                std::string(engine::StateName(t.state)).c_str(), ResetColor(tty), t.name.c_str(),
                ms);
    if (t.published.is_object() && !t.published.get_object().empty()) {
      std::printf("  published %s", Short(t.published).c_str());
    }
    std::printf("\n");
    if (t.state_info && t.state == engine::State::kError) {
      std::printf("%s      %s\n", pad.c_str(), t.state_info->substr(0, 300).c_str());
    }
    for (const auto& a : t.actions) {
      if (!a.is_workflow) continue;
      // A sub-workflow action's id is its execution's id.
      auto sub = client.Get(ExecutionId(a.id));
      if (sub.ok() && sub->has_value()) {
        std::printf("%s      sub-workflow %s (%s)\n", pad.c_str(), (*sub)->workflow_name.c_str(),
                    std::string(engine::StateName((*sub)->state)).c_str());
        PrintTree(client, **sub, depth + 1, tty);
      }
    }
  }
}

// Tasks of `state` (and of its sub-workflow executions) that will still change on their own: RUNNING with
// an action in flight that is not async (nothing completes an async action in `bora run`) or a sub-workflow
// that has such tasks, or DELAYED (a timer). A finished workflow can have them (`on-complete: [t2, fail]`:
// Mistral finishes t2), and `bora run` waits for them before it prints.
std::vector<std::string> InFlightTasks(runtime::ExecutionClient& client,
                                       const workers::ActionRegistry& registry,
                                       const engine::ExecutionState& state, int depth = 0) {
  std::vector<std::string> names;
  if (depth > 64) return names;
  for (const auto& t : state.tasks) {
    bool in_flight = t.state == engine::State::kDelayed;
    if (t.state == engine::State::kRunning) {
      for (const auto& a : t.actions) {
        if (!a.accepted || engine::IsCompleted(a.state)) continue;
        if (a.is_workflow) {
          auto sub = client.Get(ExecutionId(a.id));
          in_flight |= sub.ok() && sub->has_value() &&
                       !InFlightTasks(client, registry, **sub, depth + 1).empty();
        } else {
          const workers::ActionSignature* sig = registry.FindSignature(a.name);
          in_flight |= sig == nullptr || !sig->is_async;
        }
      }
    }
    if (in_flight) names.push_back(t.name);
  }
  return names;
}

int ExitCode(engine::State s) {
  switch (s) {
    case engine::State::kSuccess: return 0;
    case engine::State::kPaused: return 3;
    default: return 1;
  }
}

// Ctrl-C (SIGINT) or SIGTERM while `bora run` waits: the first one interrupts the wait (the run
// then prints where it stopped and exits 130), a second one exits at once. Construct it before any
// thread starts: it blocks both signals in this thread, and the threads started later inherit that,
// so only its own thread takes them.
class InterruptWatcher {
 public:
  InterruptWatcher() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
    thread_ = std::thread([this] { Loop(); });
  }
  ~InterruptWatcher() {
    stop_ = true;
    thread_.join();
  }
  void Attach(runtime::EmbeddedRuntime* rt) {
    rt_ = rt;
    if (signal_ != 0) rt->Interrupt();
  }
  bool interrupted() const { return signal_ != 0; }

 private:
  void Loop() {
    const timespec tick{0, 100'000'000};  // how soon the destructor is noticed
    while (!stop_) {
      const int sig = sigtimedwait(&set_, nullptr, &tick);
      if (sig <= 0) continue;
      if (signal_.exchange(sig) != 0) {
        std::fputs("\nbora run: interrupted again: exiting\n", stderr);
        std::_Exit(130);
      }
      if (runtime::EmbeddedRuntime* rt = rt_) rt->Interrupt();
    }
  }

  sigset_t set_;
  std::atomic<bool> stop_{false};
  std::atomic<int> signal_{0};
  std::atomic<runtime::EmbeddedRuntime*> rt_{nullptr};
  std::thread thread_;
};

}  // namespace

int RunRun(const RunArgs& args) {
  const bool tty = isatty(STDOUT_FILENO) != 0 && !args.json;
  auto fail = [&](const std::string& msg) {
    std::cerr << "bora run: " << msg << "\n";
    return 2;
  };
  auto text = ReadFile(args.file);
  if (!text.ok()) return fail(text.status().message());
  auto input = JsonArg("--input", args.input);
  if (!input.ok()) return fail(input.status().message());
  Json params = JsonObject();
  if (!args.env.empty()) {
    auto env = JsonArg("--env", args.env);
    if (!env.ok()) return fail(env.status().message());
    params.get_object()["env"] = *env;
  }
  for (const auto& kv : args.params) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) return fail("--param expects key=value, got '" + kv + "'");
    std::string key = kv.substr(0, eq), value = kv.substr(eq + 1);
    auto parsed = ParseJson(value);
    if (IsNonFiniteNumberError(parsed.status())) {
      return fail("--param " + key + ": " + parsed.status().message());
    }
    params.get_object()[key] = parsed.ok() ? *parsed : Json(value);
  }

  runtime::EmbeddedOptions options;
  options.partitions = args.partitions;
  options.worker_threads = args.workers;
  options.std_actions.allow_shell = args.allow_shell;
  options.std_actions.allow_loopback_http = args.allow_loopback_http;
  options.engine_limits = args.engine_limits;
  InterruptWatcher interrupts;
  runtime::EmbeddedRuntime rt(options);
  interrupts.Attach(&rt);
  Progress progress(tty);
  if (tty) rt.AddObserver(&progress);

  lang::ParseOptions po;
  po.file_name = args.file == "-" ? "<stdin>" : args.file;
  auto doc = lang::ParseDocument(*text, po);
  if (!doc.ok()) return fail("invalid workflow definition:\n" + doc.status().message());
  if (doc->workflows.empty()) return fail(po.file_name + " defines no workflow");
  std::string workflow = args.workflow.empty() ? doc->workflows.front().full_name : args.workflow;
  rt.definitions().Add(std::make_shared<const lang::Document>(std::move(*doc)));

  Status started = rt.Start();
  if (!started.ok()) return fail(started.ToString());
  runtime::StartRequest request;
  request.workflow_name = workflow;
  request.input = *input;
  request.params = params;
  auto t0 = std::chrono::steady_clock::now();
  auto id = rt.client().Start(request);
  if (!id.ok()) return fail(id.status().message());
  if (tty) std::printf("Running %s (execution %s)\n", workflow.c_str(), id->value().c_str());

  auto timeout = std::chrono::milliseconds(static_cast<int64_t>(args.timeout_seconds * 1000));
  auto state = rt.WaitUntilSettled(*id, timeout);
  // A finished workflow may still have tasks running: wait for them (saying so), so what is printed is
  // final. A paused one is printed as it is.
  if (state.ok() && engine::IsCompleted(state->state)) {
    if (auto running = InFlightTasks(rt.client(), rt.actions(), *state); !running.empty()) {
      std::string names;
      for (const auto& n : running) names += (names.empty() ? "" : ", ") + n;
      std::cerr << "bora run: workflow " << workflow << " is " << engine::StateName(state->state)
                << "; waiting for " << running.size() << " task(s) still running: " << names << "\n";
      auto remaining = timeout - std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::steady_clock::now() - t0);
      state = rt.WaitUntil(*id, std::max(remaining, std::chrono::milliseconds(0)),
                           [&](const engine::ExecutionState& st) {
                             return InFlightTasks(rt.client(), rt.actions(), st).empty();
                           });
    }
  }
  double elapsed_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  if (!state.ok()) {
    const bool interrupted = interrupts.interrupted();
    if (!interrupted && state.status().code() != StatusCode::kDeadlineExceeded) {
      return fail(state.status().message());
    }
    // Where it stopped: the execution as it is now (nothing is kept after this process ends).
    std::cerr << "\nbora run: "
              << (interrupted ? "interrupted" : state.status().message() + " (--timeout)") << "\n";
    auto now = rt.client().Get(*id);
    if (now.ok() && now->has_value()) {
      std::printf("\nStopped waiting: workflow %s is %s after %.1f ms (execution %s)\n",
                  workflow.c_str(), std::string(engine::StateName((*now)->state)).c_str(),
                  elapsed_ms, id->value().c_str());
      std::printf("Tasks:\n");
      PrintTree(rt.client(), **now, 0, tty);
    }
    std::fflush(stdout);
    // Running actions are abandoned with the process, not waited for.
    std::_Exit(interrupted ? 130 : 4);
  }
  rt.Stop();

  if (args.json) {
    // Sub-workflow executions nested under their action executions ("sub_execution"), recursively.
    auto lookup = [&](const std::string& sub_id) -> std::optional<engine::ExecutionState> {
      auto sub = rt.client().Get(ExecutionId(sub_id));
      if (!sub.ok() || !sub->has_value()) return std::nullopt;
      return std::move(**sub);
    };
    std::cout << PythonJsonDumps(runtime::ExecutionTreeView(*state, lookup)) << "\n";
    return ExitCode(state->state);
  }
  std::printf("\nWorkflow %s: %s%s%s in %.1f ms\n", workflow.c_str(), StateColor(state->state, tty),
              std::string(engine::StateName(state->state)).c_str(), ResetColor(tty), elapsed_ms);
  if (state->state_info) std::printf("State info: %s\n", state->state_info->c_str());
  std::printf("Tasks:\n");
  PrintTree(rt.client(), *state, 0, tty);
  std::printf("Output: %s\n", PythonJsonDumps(state->output, 2).c_str());
  return ExitCode(state->state);
}

}  // namespace bora::cli
