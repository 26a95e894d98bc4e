#include "ingest/api/execution_stream.h"

#include <optional>
#include <thread>

#include "common/json.h"

namespace bora::api {
namespace {

using http::HttpRequest;
using http::HttpResponse;

// The finished state of an execution record ("SUCCESS", "ERROR", "CANCELLED"), or "".
std::string FinishedState(const std::string& record) {
  auto parsed = ParseJson(record);
  if (!parsed.ok() || !parsed->is_object()) return {};
  const Json* state = parsed->get_object().if_contains("state");
  if (state == nullptr || !state->is_string()) return {};
  std::string s(state->get_string());
  return s == "SUCCESS" || s == "ERROR" || s == "CANCELLED" ? s : std::string();
}

std::string Event(std::string_view name, std::string_view data) {
  // The views are compact JSON: one line, as an SSE data field needs.
  return "event: " + std::string(name) + "\ndata: " + std::string(data) + "\n\n";
}

class ExecutionStream final : public http::EventStream {
 public:
  ExecutionStream(std::shared_ptr<ExecutionsApi> api, HttpRequest request, std::string id,
                  std::chrono::milliseconds poll)
      : api_(std::move(api)), request_(std::move(request)), id_(std::move(id)), poll_(poll) {
    request_.query.clear();  // the views' own query parameters (fields, ...) do not apply
  }

  std::optional<std::string> Next(std::chrono::milliseconds wait) override {
    if (ended_) return std::nullopt;
    const auto deadline = std::chrono::steady_clock::now() + wait;
    for (;;) {
      std::string text = Changes();
      if (!text.empty()) return text;
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) return std::string();
      // A poll interval, not a test waiting: the API process learns of changes by reading.
      std::this_thread::sleep_for(
          std::min<std::chrono::steady_clock::duration>(poll_, deadline - now));
    }
  }

 private:
  // The events for what changed since the last call (all of them the first time).
  std::string Changes() {
    HttpResponse execution = api_->GetExecution(request_, id_);
    if (execution.status != 200) {
      ended_ = true;
      return Event("gone", execution.body);
    }
    std::string text;
    std::string finished;  // looked at only when the execution changed: it can only finish by one
    if (execution.body != last_execution_) {
      last_execution_ = execution.body;
      text += Event("execution", execution.body);
      finished = FinishedState(last_execution_);
    }
    HttpResponse tasks = api_->ListExecutionTasks(request_, id_);
    if (tasks.status == 200 && tasks.body != last_tasks_) {
      last_tasks_ = tasks.body;
      text += Event("tasks", tasks.body);
    }
    if (!finished.empty()) {
      ended_ = true;
      text += Event("end", DumpJson(JsonObject{{"state", finished}}));
    }
    return text;
  }

  std::shared_ptr<ExecutionsApi> api_;
  HttpRequest request_;
  std::string id_;
  std::chrono::milliseconds poll_;
  std::string last_execution_;
  std::string last_tasks_;
  bool ended_ = false;
};

}  // namespace

HttpResponse StreamExecution(std::shared_ptr<ExecutionsApi> api, const HttpRequest& request,
                             const std::string& id, std::chrono::milliseconds poll) {
  HttpResponse found = api->GetExecution(request, id);
  if (found.status != 200) return found;
  HttpResponse r;
  r.content_type = "text/event-stream";
  r.stream = std::make_shared<ExecutionStream>(std::move(api), request, id, poll);
  return r;
}

}  // namespace bora::api
