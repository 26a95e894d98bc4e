#pragma once
// BORA_CHECK / BORA_DCHECK: invariants that only a programming error can break. A broken one
// aborts the process with the file, the line, the condition and the streamed message on stderr:
//
//   BORA_CHECK(owned.cache.count(id) == 0) << "execution " << id << " is cached twice";
//   BORA_DCHECK(std::is_sorted(v.begin(), v.end()));
//
// The message is only built when the check fails. BORA_DCHECK is compiled out in NDEBUG builds
// (the condition is still type-checked, never evaluated): use it for checks that cost time on a hot
// path.
//
// Never on anything user input, files, network or bus messages can reach: those are errors as
// values (common/status.h). A check states what the code around it already relies on.
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

namespace bora::internal {

// Collects the message of a failed check; its destructor prints it and aborts.
class CheckFailure {
 public:
  CheckFailure(const char* file, int line, const char* condition) {
    stream_ << file << ":" << line << ": check failed: " << condition;
    prefix_size_ = stream_.tellp();
  }
  CheckFailure(const CheckFailure&) = delete;
  CheckFailure& operator=(const CheckFailure&) = delete;
  [[noreturn]] ~CheckFailure() {
    std::string text = stream_.str();
    if (text.size() > prefix_size_) text.insert(prefix_size_, ": ");
    text += "\n";
    std::fputs(text.c_str(), stderr);
    std::fflush(stderr);
    std::abort();
  }
  std::ostream& stream() { return stream_; }

 private:
  std::ostringstream stream_;
  size_t prefix_size_ = 0;
};

// Turns `stream << ...` into void, so both arms of the check's conditional are void.
struct CheckVoidify {
  void operator&(std::ostream&) {}
};

}  // namespace bora::internal

#define BORA_CHECK(condition)                      \
  (condition) ? static_cast<void>(0)               \
              : ::bora::internal::CheckVoidify() & \
                    ::bora::internal::CheckFailure(__FILE__, __LINE__, #condition).stream()

#ifdef NDEBUG
#define BORA_DCHECK(condition) \
  while (false) BORA_CHECK(condition)
#else
#define BORA_DCHECK(condition) BORA_CHECK(condition)
#endif
