#pragma once
// Test-only: a tiny deterministic single-threaded runtime for the engine. Owns a map of
// ExecutionStates, a FIFO of events, an inline fake executor (std.echo, std.noop, std.fail,
// std.http (always fails), std.sleep, std.async_noop, plus `test.*` actions answered by a
// scriptable callback) and a manual clock: when no event is queued, time jumps to the earliest
// SetTimer and fires it. Single-threaded; not for production use.
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/json.h"
#include "common/status.h"
#include "orchestrator/engine/engine.h"
#include "workers/action.h"

namespace bora::engine::testing {

class TestDriver {
 public:
  // A scripted answer for `test.*` actions; nullopt = never completes (async).
  using Script = std::function<std::optional<ActionCompleted>(const RunAction&)>;

  explicit TestDriver(EngineLimits limits = EngineLimits());

  Status LoadYaml(std::string_view yaml, const std::string& namespace_name = "");
  void SetScript(Script script) { script_ = std::move(script); }
  // When set, every state is serialised to JSON and parsed back after each Apply (as a store would
  // do).
  void SetRoundTrip(bool on) { round_trip_ = on; }

  // Applies StartExecution for a new top-level execution and runs until quiescent.
  Result<std::string> Start(const std::string& workflow, const Json& input = JsonObject(),
                            const Json& params = JsonObject(),
                            const std::string& namespace_name = "");
  // Applies one event (to its execution) and runs until quiescent.
  Status Send(const Event& event);
  // Processes queued events and timers until nothing is left (bounded by a step limit).
  Status Run();

  ExecutionState* Find(const std::string& execution_id);
  const std::map<std::string, ExecutionState>& executions() const { return executions_; }
  // Sub-executions (direct children) of an execution, in start order.
  std::vector<const ExecutionState*> Children(const std::string& execution_id) const;
  // Every command emitted so far, in order.
  const std::vector<Command>& commands() const { return commands_; }
  // RunAction commands of async actions that have not been completed.
  const std::vector<RunAction>& pending_async() const { return pending_async_; }
  // Non-OK statuses returned by Apply while running (should stay empty).
  const std::vector<std::string>& errors() const { return errors_; }
  TimestampUs now() const { return now_; }
  const Engine& engine() const { return *engine_; }
  workers::ActionRegistry& registry() { return registry_; }

 private:
  void Handle(const Command& cmd);
  Status ApplyNow(const Event& event);

  MemoryDefinitions definitions_;
  workers::ActionRegistry registry_;
  std::unique_ptr<Engine> engine_;
  std::map<std::string, ExecutionState> executions_;
  std::vector<std::string> start_order_;
  std::vector<Event> queue_;
  size_t queue_pos_ = 0;
  std::multimap<TimestampUs, std::pair<std::string, std::string>>
      timers_;  // fire_at -> (exec, timer)
  std::vector<Command> commands_;
  std::vector<RunAction> pending_async_;
  std::vector<std::string> errors_;
  Script script_;
  TimestampUs now_ = 1767225600000000;  // 2026-01-01 00:00:00 UTC
  uint64_t exec_counter_ = 0;
  bool round_trip_ = false;
};

// Runs one conformance-style case: `yaml` + the parsed expectation object (see
// ../../shared/conformance/README.md; extra step ops documented in README.md here). Returns the
// list of failed checks (empty = pass). Unknown keys are reported as "unchecked".
std::vector<std::string> RunCase(const std::string& yaml, const Json& expect,
                                 bool round_trip = false);

// The engine limits a case asks for (its optional "limits" object), defaults otherwise.
EngineLimits LimitsOfCase(const Json& expect);

// The stems of every <stem>.yaml in `dir` that has a <stem>.expect.json beside it, sorted; empty if the
// folder is absent or holds none.
std::vector<std::string> ListCaseStems(const std::string& dir);

}  // namespace bora::engine::testing
