#pragma once
// The standard action library (Mistral's std.*): RegisterStdActions() adds the signatures and the
// implementations of std.noop, std.echo, std.fail, std.sleep, std.async_noop, std.test_dict,
// std.http, std.mistral_http, std.email, std.ssh, std.shell, std.javascript and std.js to a
// registry (and std.ssh_proxied, which fails with "not supported"). Call it once at start-up,
// before the registry is shared (ActionRegistry::Register is not thread-safe). The registered
// actions are stateless and may run on any number of threads at once. See workers/README.md for
// each action's parameters, result shape and the security options.
#include <cstdint>
#include <string>
#include <vector>

#include "common/clock.h"
#include "workers/action.h"

namespace bora::workers {

// 127.0.0.0/8, ::1, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 169.254.0.0/16, fc00::/7, fe80::/10,
// 0.0.0.0/8 and ::/128 (the unspecified IPv6 address, which connects to the local host).
std::vector<std::string> DefaultDeniedCidrs();

struct StdActionOptions {
  // std.http / std.mistral_http may connect to loopback addresses (tests, sidecars). Loopback is
  // always denied otherwise, whether or not it is in `denied_cidrs`.
  bool allow_loopback_http = false;
  // Outbound HTTP to an address in one of these blocks is refused (SSRF guard). Each host is
  // resolved once and the connection pinned to the checked address, so DNS rebinding cannot bypass
  // the list; redirects are checked hop by hop. An invalid entry makes every HTTP request fail
  // (fail closed).
  std::vector<std::string> denied_cidrs = DefaultDeniedCidrs();
  // Larger HTTP responses (body bytes, after decompression) fail the action. 4 MiB: half the bus
  // message limit (8 MiB) that the result (the body as JSON text, escaped, plus headers) must fit
  // in; a result that still does not fit fails with the bus limit's error (ActionWorker).
  int64_t max_response_bytes = 4 * 1024 * 1024;
  // std.http timeout when neither the `timeout` parameter nor the request's timeout_ms is set.
  double default_http_timeout_seconds = 60.0;
  // std.shell runs local commands only when this is set (the worker's explicit allow flag).
  bool allow_shell = false;
  // Combined stdout+stderr bytes a std.shell command may write before it is killed.
  int64_t max_shell_output_bytes = 1024 * 1024;
  // std.shell timeout when neither `timeout` nor the request's timeout_ms is set.
  double default_shell_timeout_seconds = 600.0;
  // std.ssh connect timeout.
  double ssh_connect_timeout_seconds = 10.0;
  // std.email: SMTP timeout.
  double smtp_timeout_seconds = 30.0;
  // std.email: the clock of the Date header (not owned). Required where std.email runs (the
  // process's assembly point passes its clock); a registry only read for signatures may leave it
  // null.
  const Clock* clock = nullptr;
  // std.javascript: wall-clock budget of one script and the heap size it may allocate.
  double javascript_time_limit_seconds = 5.0;
  int64_t javascript_max_heap_bytes = 64 * 1024 * 1024;
};

void RegisterStdActions(ActionRegistry& registry, const StdActionOptions& options = {});

}  // namespace bora::workers
