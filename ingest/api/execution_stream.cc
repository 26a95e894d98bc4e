#include "ingest/api/execution_stream.h"

#include <map>
#include <optional>
#include <thread>

#include "common/json.h"
#include "ingest/api/mistral_format.h"

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
  std::string Gone(const HttpResponse& fault) {
    ended_ = true;
    return Event("gone", fault.body);
  }

  // The events for what changed since the last call (all of it the first time). The execution's
  // head is read every call (cheap); its views only when the head says something changed.
  std::string Changes() {
    auto marker = api_->ChangeMarker(id_);
    if (!marker.ok()) {
      if (marker.status().code() == StatusCode::kNotFound) return Gone(FaultFrom(marker.status()));
      return std::string();  // the store is away: try again at the next poll
    }
    if (*marker == last_marker_) return std::string();
    // A large execution that changes all the time (a with-items of 100,000 items) would be read whole
    // every poll: its full reads are spaced by 4x the time the last one took (at most a fifth of a
    // thread, and of the store, per stream).
    const auto started = std::chrono::steady_clock::now();
    if (started < next_full_read_) return std::string();
    HttpResponse execution = api_->GetExecution(request_, id_);
    if (execution.status == 404) return Gone(execution);
    if (execution.status != 200) return std::string();
    // Read after the execution: a finished execution's tasks are then final too.
    auto summaries = api_->TaskSummaries(id_);
    if (!summaries.ok()) {
      if (summaries.status().code() == StatusCode::kNotFound)
        return Gone(FaultFrom(summaries.status()));
      return std::string();
    }
    last_marker_ = std::move(marker).value();
    const auto read = std::chrono::steady_clock::now();
    next_full_read_ = read + 3 * (read - started);
    std::string text;
    std::string finished;  // looked at only when the execution changed: it can only finish by one
    if (execution.body != last_execution_) {
      last_execution_ = execution.body;
      text += Event("execution", execution.body);
      finished = FinishedState(last_execution_);
    }
    JsonArray changed;
    for (auto& [task_id, summary] : *summaries) {
      std::string dumped = DumpJson(summary);
      auto [it, inserted] = last_tasks_.try_emplace(task_id, dumped);
      if (!inserted && it->second == dumped) continue;
      it->second = std::move(dumped);
      changed.push_back(std::move(summary));
    }
    if (!changed.empty() || !tasks_sent_) {
      tasks_sent_ = true;
      text += Event("tasks", DumpJson(JsonObject{{"tasks", std::move(changed)}}));
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
  std::string last_marker_;
  std::chrono::steady_clock::time_point next_full_read_;  // see Changes()
  std::string last_execution_;
  std::map<std::string, std::string> last_tasks_;  // task execution id -> its last summary sent
  bool tasks_sent_ = false;
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
