#pragma once
// `--wait` of the `bora` REST client: follows an execution until it reaches a final state
// (SUCCESS, ERROR, CANCELLED) through its Server-Sent Events stream
// (`GET /v2/executions/{id}/stream`, read until `event: end`), or by polling
// `GET /v2/executions/{id}` when the stream is not available or breaks off.
//
// Thread-safety: WaitForExecution runs on the calling thread; `interrupted` may be set from a
// signal handler or another thread. InterruptGuard changes the process's SIGINT disposition while
// it lives (one at a time).
#include <atomic>
#include <string>

#include "cli/client_http.h"

namespace bora::cli {

// Exit codes of a wait (also a command's after --wait).
inline constexpr int kExitTimeout = 4;
inline constexpr int kExitInterrupted = 130;

struct WaitResult {
  int code = 1;       // 0 SUCCESS; 1 ERROR or CANCELLED (or a request failed); 3 server away;
                      // kExitTimeout; kExitInterrupted
  std::string state;  // the last state seen ("" when none)
};

// Waits for execution `id` (at most `timeout_s` seconds; 0: no bound) or until `interrupted`.
// Prints to the client's err only when giving up: on timeout "bora: timed out after N s waiting
// for execution ID (still STATE)", on interruption "stopped waiting; execution ID is still STATE".
WaitResult WaitForExecution(Client& client, const std::string& id, double timeout_s,
                            const std::atomic<bool>& interrupted);

// While it lives, SIGINT sets flag() instead of ending the process.
class InterruptGuard {
 public:
  InterruptGuard();
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;
  const std::atomic<bool>& flag() const;
};

}  // namespace bora::cli
