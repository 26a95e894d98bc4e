#pragma once
// Status and Result<T>: errors as values across module boundaries.
//
// A Status is a code plus a human-readable message that says what went wrong and where. Third-party exceptions
// (yaml-cpp, Boost.JSON, librdkafka, hiredis) are converted to a Status once, in the adapter that calls them.
// Both types are plain values: copyable, movable, safe to pass between threads.
#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace bora {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,    // bad user input: YAML, expression, JSON body, workflow input
  kNotFound,           // a named thing does not exist
  kAlreadyExists,      // create of something that exists
  kFailedPrecondition, // operation not allowed in the current state
  kResourceExhausted,  // a documented limit was hit (size, depth, expression budget)
  kDeadlineExceeded,   // a timeout
  kUnavailable,        // a service (Kafka, Redis, HTTP peer) cannot be reached; may be retried
  kPermissionDenied,   // refused by policy (auth, SSRF deny list, disabled action)
  kUnimplemented,      // not supported by this build
  kAborted,            // lost a race (fencing epoch, concurrent update)
  kInternal,           // a bug: an invariant did not hold
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "INVALID_ARGUMENT: message" (or "OK").
  std::string ToString() const;

  // Returns a copy whose message is prefixed with `context + ": "`.
  Status WithContext(std::string_view context) const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string msg) { return {StatusCode::kInvalidArgument, std::move(msg)}; }
inline Status NotFound(std::string msg) { return {StatusCode::kNotFound, std::move(msg)}; }
inline Status AlreadyExists(std::string msg) { return {StatusCode::kAlreadyExists, std::move(msg)}; }
inline Status FailedPrecondition(std::string msg) {
  return {StatusCode::kFailedPrecondition, std::move(msg)};
}
inline Status ResourceExhausted(std::string msg) {
  return {StatusCode::kResourceExhausted, std::move(msg)};
}
inline Status DeadlineExceeded(std::string msg) {
  return {StatusCode::kDeadlineExceeded, std::move(msg)};
}
inline Status Unavailable(std::string msg) { return {StatusCode::kUnavailable, std::move(msg)}; }
inline Status PermissionDenied(std::string msg) {
  return {StatusCode::kPermissionDenied, std::move(msg)};
}
inline Status Unimplemented(std::string msg) { return {StatusCode::kUnimplemented, std::move(msg)}; }
inline Status Aborted(std::string msg) { return {StatusCode::kAborted, std::move(msg)}; }
inline Status Internal(std::string msg) { return {StatusCode::kInternal, std::move(msg)}; }

// Result<T> holds either a T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}                     // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {              // NOLINT: implicit by design
    if (status_.ok()) status_ = Internal("Result constructed from an OK status without a value");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }
  T&& operator*() && { return std::move(*value_); }

  T value_or(T fallback) const& { return ok() ? *value_ : std::move(fallback); }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace bora

#define BORA_CONCAT_INNER_(a, b) a##b
#define BORA_CONCAT_(a, b) BORA_CONCAT_INNER_(a, b)

// Returns the status from the enclosing function if `expr` (a Status) is not OK.
#define BORA_RETURN_IF_ERROR(expr)               \
  do {                                           \
    ::bora::Status bora_status_ = (expr);        \
    if (!bora_status_.ok()) return bora_status_; \
  } while (0)

// `BORA_ASSIGN_OR_RETURN(auto x, Fn());` declares x from a Result, or returns its status.
#define BORA_ASSIGN_OR_RETURN(lhs, rexpr) \
  BORA_ASSIGN_OR_RETURN_IMPL_(BORA_CONCAT_(bora_result_, __LINE__), lhs, rexpr)
#define BORA_ASSIGN_OR_RETURN_IMPL_(result, lhs, rexpr) \
  auto result = (rexpr);                                \
  if (!result.ok()) return result.status();             \
  lhs = std::move(result).value()
