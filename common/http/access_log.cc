#include "common/http/access_log.h"

#include <cctype>

#include "common/http/request_reader.h"
#include "common/ids.h"
#include "common/log_line.h"

namespace bora::http {

std::string RequestIdFor(std::string_view client_value) {
  bool sane = !client_value.empty() && client_value.size() <= kMaxRequestIdBytes;
  for (char c : client_value) {
    if (c < 0x21 || c > 0x7e) {
      sane = false;
      break;
    }
  }
  return sane ? std::string(client_value) : NewUuid();
}

namespace {

// Whether a query parameter's name (percent-encoded as received) looks like it names a secret.
bool SecretName(std::string_view name) {
  std::string lower;
  if (!internal::PercentDecode(name, true, lower)) lower = name;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (std::string_view word :
       {"token", "secret", "password", "signature", "api_key", "apikey", "access_key"}) {
    if (lower.find(word) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

std::string LoggedTarget(std::string_view target) {
  std::string out;
  size_t q = target.find('?');
  if (q == std::string_view::npos) {
    out = target;
  } else {
    out = target.substr(0, q + 1);
    std::string_view query = target.substr(q + 1);
    size_t start = 0;
    while (start <= query.size()) {
      size_t end = query.find('&', start);
      if (end == std::string_view::npos) end = query.size();
      std::string_view param = query.substr(start, end - start);
      size_t eq = param.find('=');
      if (eq != std::string_view::npos && SecretName(param.substr(0, eq))) {
        out += param.substr(0, eq + 1);
        out += "***";
      } else {
        out += param;
      }
      if (end < query.size()) out += '&';
      start = end + 1;
    }
  }
  if (out.size() > kMaxLoggedTarget) {
    out.resize(kMaxLoggedTarget);
    out += "...";
  }
  return out;
}

void LogAccess(const AccessRecord& r) {
  if (!spdlog::should_log(spdlog::level::info)) return;
  double ms = std::chrono::duration<double, std::milli>(r.duration).count();
  std::vector<LogValue> fields = {
      LogValue::Str("method", r.method.empty() ? "-" : r.method),
      LogValue::Str("path", r.target.empty() ? "-" : LoggedTarget(r.target)),
      LogValue::Int("status", r.status),
      LogValue::Int("bytes", static_cast<int64_t>(r.bytes)),
      LogValue::Fixed("duration_ms", ms),
      LogValue::Str("request_id", r.request_id),
      LogValue::Str("remote", r.remote.empty() ? "-" : r.remote)};
  if (!r.project_id.empty()) fields.push_back(LogValue::Str("project", r.project_id));
  LogLine(spdlog::level::info, "access", fields);
}

}  // namespace bora::http
