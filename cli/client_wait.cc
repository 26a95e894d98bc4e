#include "cli/client_wait.h"

#include <chrono>
#include <csignal>
#include <optional>
#include <ostream>
#include <sstream>
#include <thread>

namespace bora::cli {
namespace {

using Clock = std::chrono::steady_clock;

std::atomic<bool> g_interrupted{false};
void (*g_previous_handler)(int) = SIG_DFL;

extern "C" void OnSigint(int) { g_interrupted.store(true); }

bool IsFinal(const std::string& state) {
  return state == "SUCCESS" || state == "ERROR" || state == "CANCELLED";
}

std::string StateOf(const Json& record) {
  if (!record.is_object()) return {};
  const Json* state = record.as_object().if_contains("state");
  return state != nullptr && state->is_string() ? std::string(state->as_string()) : std::string();
}

// Server-Sent Events parsed from a byte stream: `event:` and `data:` lines, a blank line ends one.
class SseParser {
 public:
  // Feeds bytes; calls `on_event(name, data)` per complete event, stops when it returns false.
  template <typename F>
  bool Feed(std::string_view bytes, F&& on_event) {
    buffer_.append(bytes);
    size_t start = 0;
    for (;;) {
      size_t nl = buffer_.find('\n', start);
      if (nl == std::string::npos) break;
      std::string line = buffer_.substr(start, nl - start);
      start = nl + 1;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) {
        bool go_on = event_.empty() && data_.empty() ? true : on_event(event_, data_);
        event_.clear();
        data_.clear();
        if (!go_on) {
          buffer_.erase(0, start);
          return false;
        }
      } else if (line.rfind("event:", 0) == 0) {
        event_ = Trim(line.substr(6));
      } else if (line.rfind("data:", 0) == 0) {
        data_ += (data_.empty() ? "" : "\n") + Trim(line.substr(5));
      }  // comments (":") and other fields are ignored
    }
    buffer_.erase(0, start);
    return true;
  }

 private:
  static std::string Trim(std::string s) {
    if (!s.empty() && s.front() == ' ') s.erase(0, 1);
    return s;
  }
  std::string buffer_, event_, data_;
};

enum class StreamEnd { kFinal, kGone, kUnavailable, kTimedOut, kInterrupted };

// Follows the execution's stream; updates `*state` from `execution` and `end` events.
StreamEnd FollowStream(Client& client, const std::string& id,
                       std::optional<Clock::time_point> deadline,
                       const std::atomic<bool>& interrupted, std::string* state) {
  SseParser parser;
  bool final_seen = false;
  bool gone = false;
  auto timeout =
      deadline ? std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now())
               : std::chrono::milliseconds(std::chrono::hours(24 * 365));
  if (timeout.count() <= 0) return StreamEnd::kTimedOut;
  StreamOutcome outcome = client.Stream(
      "/v2/executions/" + Escape(id) + "/stream", timeout,
      [&](std::string_view bytes) {
        return parser.Feed(bytes, [&](const std::string& event, const std::string& data) {
          if (event == "execution" || event == "end") {
            auto parsed = ParseJson(data);
            if (parsed.ok() && !StateOf(*parsed).empty()) *state = StateOf(*parsed);
          }
          if (event == "end") final_seen = true;
          if (event == "gone") gone = true;
          return !final_seen && !gone;
        });
      },
      [&] { return interrupted.load(); });
  if (final_seen && IsFinal(*state)) return StreamEnd::kFinal;
  if (gone) return StreamEnd::kGone;
  if (interrupted.load()) return StreamEnd::kInterrupted;
  if (outcome.end == StreamOutcome::End::kTimedOut) return StreamEnd::kTimedOut;
  return StreamEnd::kUnavailable;  // not served here, refused, or broken off: poll instead
}

}  // namespace

WaitResult WaitForExecution(Client& client, const std::string& id, double timeout_s,
                            const std::atomic<bool>& interrupted) {
  const auto start = Clock::now();
  std::optional<Clock::time_point> deadline;
  if (timeout_s > 0)
    deadline = start + std::chrono::duration_cast<Clock::duration>(
                           std::chrono::duration<double>(timeout_s));
  WaitResult result;
  const std::string subject = "execution '" + id + "'";
  auto give_up = [&](int code) {
    result.code = code;
    const std::string still = result.state.empty() ? "RUNNING" : result.state;
    if (code == kExitInterrupted) {
      client.err() << "stopped waiting; execution " << id << " is still " << still << "\n";
    } else {
      std::ostringstream secs;
      secs << timeout_s;
      client.err() << "bora: timed out after " << secs.str() << " s waiting for execution " << id
                   << " (still " << still << ")\n";
    }
    return result;
  };
  auto finished = [&] {
    result.code = result.state == "SUCCESS" ? 0 : 1;
    return result;
  };

  // The current state first: an execution that already finished needs no stream.
  Json record;
  if (int code = client.GetJson("/v2/executions/" + Escape(id), subject, &record)) {
    result.code = code;
    return result;
  }
  result.state = StateOf(record);
  if (IsFinal(result.state)) return finished();
  if (interrupted.load()) return give_up(kExitInterrupted);

  switch (FollowStream(client, id, deadline, interrupted, &result.state)) {
    case StreamEnd::kFinal:
      return finished();
    case StreamEnd::kGone:
      client.err() << "ERROR: execution " << id << " was deleted while waiting\n";
      result.code = 1;
      return result;
    case StreamEnd::kInterrupted:
      return give_up(kExitInterrupted);
    case StreamEnd::kTimedOut:
      return give_up(kExitTimeout);
    case StreamEnd::kUnavailable:
      break;
  }
  // Polling: every 200 ms, checking for Ctrl-C every 20 ms.
  for (;;) {
    if (int code = client.GetJson("/v2/executions/" + Escape(id), subject, &record)) {
      result.code = code;
      return result;
    }
    result.state = StateOf(record);
    if (IsFinal(result.state)) return finished();
    for (int i = 0; i < 10; ++i) {
      if (interrupted.load()) return give_up(kExitInterrupted);
      if (deadline && Clock::now() >= *deadline) return give_up(kExitTimeout);
      // A poll interval of the client, not a test waiting.
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
}

InterruptGuard::InterruptGuard() {
  g_interrupted.store(false);
  g_previous_handler = std::signal(SIGINT, OnSigint);
}

InterruptGuard::~InterruptGuard() { std::signal(SIGINT, g_previous_handler); }

const std::atomic<bool>& InterruptGuard::flag() const { return g_interrupted; }

}  // namespace bora::cli
