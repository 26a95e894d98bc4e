// The cli conformance driver: each Start runs the built `bora run --json FILE -w WF -i INPUT -e ENV
// -p k=v ...` as a subprocess (posix_spawn, argv without a shell), reads the execution tree it
// prints (sub-workflow executions nested under "sub_execution") and answers Get from it. `bora run`
// exits at the first stop, so Resume and SkipTask are kUnimplemented.
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

#include "tests/conformance/driver.h"

extern char** environ;

namespace bora::conformance {

namespace {

struct Captured {
  int exit_code = -1;  // -1: killed by a signal
  std::string out;
  std::string err;
};

// Runs argv[0] with `argv`, waits for it, returns what it wrote to stdout and stderr.
Result<Captured> RunCapture(const std::vector<std::string>& argv) {
  int out_pipe[2], err_pipe[2];
  if (pipe(out_pipe) != 0) return Internal(std::string("pipe: ") + std::strerror(errno));
  if (pipe(err_pipe) != 0) {
    close(out_pipe[0]);
    close(out_pipe[1]);
    return Internal(std::string("pipe: ") + std::strerror(errno));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addclose(&actions, out_pipe[0]);
  posix_spawn_file_actions_addclose(&actions, err_pipe[0]);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);
  posix_spawn_file_actions_addclose(&actions, out_pipe[1]);
  posix_spawn_file_actions_addclose(&actions, err_pipe[1]);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (rc != 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    return Internal("cannot run " + argv[0] + ": " + std::strerror(rc));
  }
  Captured c;
  // Both pipes read together, so neither fills up while the other is waited on.
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&c.out, &c.err};
  int open_fds = 2;
  char buf[65536];
  while (open_fds > 0) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      ssize_t n = read(fds[i].fd, buf, sizeof(buf));
      if (n > 0) {
        sinks[i]->append(buf, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (auto& f : fds) {
    if (f.fd >= 0) close(f.fd);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return Internal(std::string("waitpid: ") + std::strerror(errno));
  }
  c.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return c;
}

const Json& Field(const JsonObject& o, std::string_view key) {
  static const Json kNull = nullptr;
  auto it = o.find(key);
  return it == o.end() ? kNull : it->value();
}

std::string Text(const JsonObject& o, std::string_view key) {
  const Json& v = Field(o, key);
  return v.is_string() ? std::string(v.get_string()) : std::string();
}

std::optional<std::string> OptText(const JsonObject& o, std::string_view key) {
  const Json& v = Field(o, key);
  if (v.is_string()) return std::string(v.get_string());
  return std::nullopt;
}

Result<engine::State> StateOf(const JsonObject& o, std::string_view key, const std::string& where) {
  auto s = engine::StateFromName(Text(o, key));
  if (!s) return InvalidArgument(where + ": bad " + std::string(key) + " '" + Text(o, key) + "'");
  return *s;
}

Result<JsonObject> ObjectOf(const Json& v, const std::string& where) {
  if (!v.is_object()) return InvalidArgument(where + ": not an object: " + DumpJson(v));
  return v.get_object();
}

// A TaskView back into a TaskExecution: what the runner reads (name, state, state_info, published,
// actions, the retry counters) and what makes Result() and RuntimeContextJson() give back the
// printed `result` and `runtime_context` (checked: a view this cannot read back fails the case).
Result<engine::TaskExecution> TaskFromView(const JsonObject& o, const std::string& where,
                                           std::map<std::string, engine::ExecutionState>* subs,
                                           int depth);

// An ExecutionTreeView back into ExecutionState; the sub-executions nested in it go to `subs`.
Result<engine::ExecutionState> ExecutionFromView(
    const Json& view, std::map<std::string, engine::ExecutionState>* subs, int depth) {
  if (depth > 64) return InvalidArgument("sub_execution nesting deeper than 64");
  BORA_ASSIGN_OR_RETURN(JsonObject o, ObjectOf(view, "execution"));
  engine::ExecutionState s;
  s.id = Text(o, "id");
  std::string where = "execution " + s.id;
  s.workflow_name = Text(o, "workflow");
  BORA_ASSIGN_OR_RETURN(s.state, StateOf(o, "state", where));
  s.state_info = OptText(o, "state_info");
  s.input = Field(o, "input");
  s.output = Field(o, "output");
  s.params = Field(o, "params");
  s.parent_execution_id = Text(o, "parent_execution_id");
  s.parent_task_execution_id = Text(o, "parent_task_execution_id");
  const Json& tasks = Field(o, "tasks");
  if (!tasks.is_array()) return InvalidArgument(where + ": tasks is not a list");
  for (const auto& t : tasks.get_array()) {
    BORA_ASSIGN_OR_RETURN(JsonObject to, ObjectOf(t, where + " task"));
    BORA_ASSIGN_OR_RETURN(auto task,
                          TaskFromView(to, where + " task " + Text(to, "name"), subs, depth));
    s.tasks.push_back(std::move(task));
  }
  s.RebuildIndex();
  return s;
}

Result<engine::TaskExecution> TaskFromView(const JsonObject& o, const std::string& where,
                                           std::map<std::string, engine::ExecutionState>* subs,
                                           int depth) {
  engine::TaskExecution t;
  t.id = Text(o, "id");
  t.name = Text(o, "name");
  t.type = Text(o, "type") == "WORKFLOW" ? engine::TaskExecution::Type::kWorkflow
                                         : engine::TaskExecution::Type::kAction;
  BORA_ASSIGN_OR_RETURN(t.state, StateOf(o, "state", where));
  t.state_info = OptText(o, "state_info");
  t.published = Field(o, "published");
  const Json& rc = Field(o, "runtime_context");
  if (rc.is_object()) {
    const JsonObject& rco = rc.get_object();
    if (const Json& policy = Field(rco, "retry_task_policy"); policy.is_object()) {
      t.retry_started = true;
      if (const Json& n = Field(policy.get_object(), "retry_no"); n.is_number())
        t.retry_no = n.to_number<int>();
    }
    if (const Json& trig = Field(rco, "triggered_by"); trig.is_array()) {
      for (const auto& tb : trig.get_array()) {
        if (!tb.is_object()) continue;
        t.triggered_by.push_back(
            {Text(tb.get_object(), "task_id"), Text(tb.get_object(), "event")});
      }
    }
    if (const Json& wi = Field(rco, "with_items"); wi.is_object()) {
      const JsonObject& wio = wi.get_object();
      t.with_items.enabled = true;
      t.with_items.count =
          Field(wio, "count").is_number() ? Field(wio, "count").to_number<int64_t>() : 0;
      t.with_items.concurrency = Field(wio, "concurrency").is_number()
                                     ? Field(wio, "concurrency").to_number<int64_t>()
                                     : 0;
      if (t.with_items.concurrency > 0 && Field(wio, "capacity").is_number()) {
        t.with_items.running =
            t.with_items.concurrency - Field(wio, "capacity").to_number<int64_t>();
      }
    }
  }
  const Json& actions = Field(o, "action_executions");
  if (!actions.is_array()) return InvalidArgument(where + ": action_executions is not a list");
  for (const auto& a : actions.get_array()) {
    BORA_ASSIGN_OR_RETURN(JsonObject ao, ObjectOf(a, where + " action execution"));
    engine::ActionExecution ae;
    ae.id = Text(ao, "id");
    ae.name = Text(ao, "name");
    ae.is_workflow = Field(ao, "is_workflow").is_bool() && Field(ao, "is_workflow").get_bool();
    ae.index = Field(ao, "index").is_number() ? Field(ao, "index").to_number<int>() : 0;
    BORA_ASSIGN_OR_RETURN(ae.state, StateOf(ao, "state", where + " action " + ae.id));
    ae.accepted = Field(ao, "accepted").is_bool() && Field(ao, "accepted").get_bool();
    ae.state_info = OptText(ao, "state_info");
    ae.input = Field(ao, "input");
    ae.output = Field(ao, "output");
    if (ae.is_workflow) {
      auto it = ao.find("sub_execution");
      if (it == ao.end())
        return InvalidArgument(where + ": workflow action " + ae.id + " lacks sub_execution");
      if (!it->value().is_null()) {
        BORA_ASSIGN_OR_RETURN(auto sub, ExecutionFromView(it->value(), subs, depth + 1));
        if (sub.id != ae.id) {
          return InvalidArgument(where + ": sub_execution " + sub.id + " under action " + ae.id);
        }
        (*subs)[sub.id] = std::move(sub);
      }
    }
    t.actions.push_back(std::move(ae));
  }
  // keep-result: false prints a null result whatever ran.
  const Json& result = Field(o, "result");
  if (result.is_null() && !t.Result().is_null()) t.keep_result = false;
  if (!JsonEquals(t.Result(), result)) {
    return InvalidArgument(where + ": result " + DumpJson(result) +
                           " is not what its action executions give (" + DumpJson(t.Result()) +
                           ")");
  }
  if (!JsonEquals(t.RuntimeContextJson(), rc)) {
    return InvalidArgument(where + ": runtime_context " + DumpJson(rc) + " read back as " +
                           DumpJson(t.RuntimeContextJson()));
  }
  return t;
}

class CliDriver final : public Driver {
 public:
  explicit CliDriver(std::string bora) : bora_(std::move(bora)) {}

  Status Load(const std::string&, const std::string& file_name) override {
    file_ = file_name;
    return Status::Ok();
  }

  Result<std::string> Start(const runtime::StartRequest& request) override {
    std::vector<std::string> argv = {bora_,       "run",
                                     "--json",    file_,
                                     "--timeout", "120",
                                     "-w",        request.workflow_name,
                                     "-i",        DumpJson(request.input)};
    if (request.params.is_object()) {
      for (const auto& kv : request.params.get_object()) {
        if (kv.key() == "env") {
          argv.insert(argv.end(), {"-e", DumpJson(kv.value())});
        } else {
          // The value as JSON text: `-p` decodes it, so a string stays a string ("\"true\"").
          argv.insert(argv.end(), {"-p", std::string(kv.key()) + "=" + DumpJson(kv.value())});
        }
      }
    }
    std::string command;
    for (const auto& a : argv) command += (command.empty() ? "" : " ") + a;
    BORA_ASSIGN_OR_RETURN(Captured c, RunCapture(argv));
    auto fail = [&](const std::string& why) {
      return Internal(why + "\n  command: " + command +
                      "\n  exit code: " + std::to_string(c.exit_code) + "\n  stderr: " + c.err +
                      "\n  stdout: " + c.out.substr(0, 4000));
    };
    auto parsed = ParseJson(c.out, 4096);
    if (!parsed.ok()) return fail("bora run --json printed no JSON: " + parsed.status().ToString());
    executions_.clear();
    auto root = ExecutionFromView(*parsed, &executions_, 0);
    if (!root.ok()) return fail("cannot read the printed execution: " + root.status().ToString());
    // Exit code: 0 SUCCESS, 1 ERROR or CANCELLED, 3 PAUSED (run_command.h).
    int want = root->state == engine::State::kSuccess  ? 0
               : root->state == engine::State::kPaused ? 3
                                                       : 1;
    if (c.exit_code != want) {
      return fail("exit code " + std::to_string(c.exit_code) + " for state " +
                  std::string(engine::StateName(root->state)));
    }
    std::string id = root->id;
    executions_[id] = std::move(*root);
    return id;
  }

  // `bora run` printed a settled execution.
  Status Settle(const std::string&) override { return Status::Ok(); }

  Result<std::optional<engine::ExecutionState>> Get(const std::string& id) override {
    auto it = executions_.find(id);
    if (it == executions_.end()) return std::optional<engine::ExecutionState>();
    return std::optional<engine::ExecutionState>(it->second);
  }

  Status Resume(const std::string&) override {
    return Unimplemented(
        "bora run exits at the first stop: resume runs in the embedded and distributed runs");
  }
  Status SkipTask(const std::string&, const std::string&) override {
    return Unimplemented(
        "bora run exits at the first stop: skip_task runs in the embedded and distributed runs");
  }

 private:
  std::string bora_;
  std::string file_;
  // The root and every sub-execution printed.
  std::map<std::string, engine::ExecutionState> executions_;
};

}  // namespace

std::unique_ptr<Driver> MakeCliDriver(const std::string& bora_binary) {
  return std::make_unique<CliDriver>(bora_binary);
}

}  // namespace bora::conformance
