#pragma once
// LogCapture (tests only): replaces the process's logger ("bora") with one whose sink keeps every
// line, formatted as InitLogging's format sets, so a test can read what real code logged and wait
// for a line written on another thread. The destructor drops it and goes back to warn-level text on
// stderr.
//
// Thread-safety: lines may be logged from any thread; Lines/WaitFor from any.
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/log.h"
#include "common/thread_annotations.h"

namespace bora {

class LogCapture {
 public:
  LogCapture(std::string_view level, LogFormat format) : sink_(std::make_shared<Sink>()) {
    spdlog::drop("bora");
    spdlog::register_logger(std::make_shared<spdlog::logger>("bora", sink_));
    InitLogging(level, format);
  }
  ~LogCapture() {
    spdlog::drop("bora");
    InitLogging("warn", LogFormat::kText);
  }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  // The lines containing `needle` (each with its newline), waiting up to `timeout` for `count`.
  std::vector<std::string> WaitFor(std::string_view needle, size_t count = 1,
                                   std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    return sink_->WaitFor(needle, count, timeout);
  }
  // The lines containing `needle` now.
  std::vector<std::string> Lines(std::string_view needle) {
    return sink_->WaitFor(needle, 0, std::chrono::milliseconds(0));
  }
  // Everything captured, for failure messages.
  std::string All() {
    std::string out;
    for (const auto& l : Lines("")) out += l;
    return out;
  }

 private:
  class Sink final : public spdlog::sinks::base_sink<std::mutex> {
   public:
    std::vector<std::string> WaitFor(std::string_view needle, size_t count,
                                     std::chrono::milliseconds timeout) {
      MutexLock lock(mu_);
      cv_.WaitFor(mu_, timeout, [&] {
        mu_.AssertHeld();
        return Matching(needle).size() >= count;
      });
      return Matching(needle);
    }

   protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
      spdlog::memory_buf_t buf;
      formatter_->format(msg, buf);
      MutexLock lock(mu_);
      lines_.emplace_back(buf.data(), buf.size());
      cv_.NotifyAll();
    }
    void flush_() override {}

   private:
    std::vector<std::string> Matching(std::string_view needle) REQUIRES(mu_) {
      std::vector<std::string> out;
      for (const auto& l : lines_)
        if (l.find(needle) != std::string::npos) out.push_back(l);
      return out;
    }
    Mutex mu_;
    CondVar cv_;
    std::vector<std::string> lines_ GUARDED_BY(mu_);
  };

  std::shared_ptr<Sink> sink_;
};

}  // namespace bora
