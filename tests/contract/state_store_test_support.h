#pragma once
// Helpers of the state store tests (state_store_contract_test.cc, state_store_backends_test.cc).
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <system_error>

#include "common/ids.h"
#include "orchestrator/engine/state.h"

namespace bora::store {

// What the engine does on every change (Runner::MutTask / MutAction): a new revision, without which
// a store may take the task (the action) for unchanged and not write it.
inline engine::TaskExecution& Changed(engine::TaskExecution& t) {
  t.revision = engine::NextRevision();
  return t;
}
inline engine::ActionExecution& Changed(engine::ExecutionState& s, size_t task, size_t action) {
  engine::TaskExecution& t = Changed(s.tasks[task]);
  t.actions[action].revision = engine::NextRevision();
  s.ListChangedAction(task, action);
  return t.actions[action];
}

// A fresh directory under the system's temporary directory, removed with this object.
class TempDir {
 public:
  TempDir() : path_(std::filesystem::temp_directory_path() / ("bora-store-test-" + NewUuid())) {
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string Sub(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline std::shared_ptr<engine::ExecutionState> MakeState(const std::string& id, engine::State st) {
  auto s = std::make_shared<engine::ExecutionState>();
  s->id = id;
  s->workflow_name = "wf";
  s->state = st;
  return s;
}

inline engine::TaskExecution MakeTask(int i, engine::State st) {
  engine::TaskExecution t;
  t.id = "task-" + std::to_string(i);
  t.name = "t" + std::to_string(i);
  t.state = st;
  return t;
}

inline engine::ActionExecution MakeAction(const std::string& id) {
  engine::ActionExecution a;
  a.id = id;
  a.name = "std.noop";
  return a;
}

}  // namespace bora::store
