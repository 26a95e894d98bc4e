// std.http and std.mistral_http on libcurl (one easy handle per request, so any number of threads
// may run them at once). Mirrors Mistral's HTTPAction (requests): parameters, result shape,
// 200..306 ⇒ success. SSRF guard: each hop's host is resolved here, checked against the
// NetworkPolicy and pinned for curl with CURLOPT_RESOLVE; the open-socket callback re-checks the
// address curl actually connects to. Redirects are followed by this code (not curl) so that every
// hop is checked. Proxies are never used.
#include <curl/curl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <memory>
#include <mutex>

#include "common/log.h"
#include "workers/net_policy.h"
#include "workers/std_actions_internal.h"

namespace bora::workers::internal {
namespace {

constexpr int kMaxRedirects = 30;  // requests' default

const Json& Param(const Json& input, std::string_view name) {
  static const Json kNull;
  if (!input.is_object()) return kNull;
  auto it = input.get_object().find(name);
  return it == input.get_object().end() ? kNull : it->value();
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

struct CurlUrlDeleter {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};
struct CurlEasyDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct CurlSlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
struct CurlStrDeleter {
  void operator()(char* p) const { curl_free(p); }
};
using UrlPtr = std::unique_ptr<CURLU, CurlUrlDeleter>;
using EasyPtr = std::unique_ptr<CURL, CurlEasyDeleter>;
using SlistPtr = std::unique_ptr<curl_slist, CurlSlistDeleter>;
using CurlStr = std::unique_ptr<char, CurlStrDeleter>;

std::string GetUrlPart(CURLU* url, CURLUPart part, unsigned flags = 0) {
  char* raw = nullptr;
  if (curl_url_get(url, part, &raw, flags) != CURLUE_OK || raw == nullptr) return "";
  CurlStr holder(raw);
  return raw;
}

// Python's urllib.parse.quote_plus (what requests uses for `params`): unreserved characters kept, space
// as '+', everything else %XX.
std::string Escape(std::string_view s) {
  char* raw = curl_easy_escape(nullptr, s.data(), static_cast<int>(s.size()));
  if (raw == nullptr) return "";
  CurlStr holder(raw);
  std::string out;
  for (const char* p = raw; *p; ++p) {
    if (p[0] == '%' && p[1] == '2' && p[2] == '0') {
      out += '+';
      p += 2;
    } else {
      out += *p;
    }
  }
  return out;
}

// One HTTP exchange's response as curl delivered it.
struct Response {
  long status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;  // in order, original case
  std::string body;
  bool too_large = false;
  int64_t max_bytes = 0;
  double elapsed = 0;
};

size_t WriteBody(char* data, size_t size, size_t n, void* user) {
  auto* resp = static_cast<Response*>(user);
  size_t len = size * n;
  if (static_cast<int64_t>(resp->body.size() + len) > resp->max_bytes) {
    resp->too_large = true;
    return 0;  // makes curl fail with CURLE_WRITE_ERROR
  }
  resp->body.append(data, len);
  return len;
}

size_t WriteHeader(char* data, size_t size, size_t n, void* user) {
  auto* resp = static_cast<Response*>(user);
  size_t len = size * n;
  std::string_view line(data, len);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.substr(0, 5) == "HTTP/") {
    // A new response (a 100 Continue, or the final one): start over.
    resp->headers.clear();
    resp->reason.clear();
    size_t sp1 = line.find(' ');
    if (sp1 != std::string_view::npos) {
      size_t sp2 = line.find(' ', sp1 + 1);
      if (sp2 != std::string_view::npos) resp->reason = Trim(line.substr(sp2 + 1));
    }
    return len;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return len;
  resp->headers.emplace_back(Trim(line.substr(0, colon)), Trim(line.substr(colon + 1)));
  return len;
}

struct ProgressState {
  const CancelToken* cancel = nullptr;
};

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* st = static_cast<ProgressState*>(user);
  return st->cancel->cancelled.load(std::memory_order_relaxed) ? 1 : 0;
}

struct SocketGuard {
  const NetworkPolicy* policy = nullptr;
  std::string denied_message;
};

curl_socket_t OpenSocket(void* user, curlsocktype purpose, struct curl_sockaddr* address) {
  auto* guard = static_cast<SocketGuard*>(user);
  Result<IpAddress> ip = IpAddress::FromSockaddr(&address->addr);
  if (!ip.ok()) {
    guard->denied_message = ip.status().message();
    return CURL_SOCKET_BAD;
  }
  Status st = guard->policy->Check(*ip);
  if (!st.ok()) {
    guard->denied_message = st.message();
    return CURL_SOCKET_BAD;
  }
  return socket(address->family, address->socktype, address->protocol);
}

// Python requests' get_encoding_from_headers.
Json EncodingFromContentType(const std::string& content_type) {
  if (content_type.empty()) return nullptr;
  std::string lower = Lower(content_type);
  size_t pos = lower.find("charset=");
  if (pos != std::string::npos) {
    std::string cs = content_type.substr(pos + 8);
    size_t semi = cs.find(';');
    if (semi != std::string::npos) cs = cs.substr(0, semi);
    cs = Trim(cs);
    if (cs.size() >= 2 && (cs.front() == '"' || cs.front() == '\''))
      cs = cs.substr(1, cs.size() - 2);
    return Json(cs);
  }
  if (lower.find("text") != std::string::npos) return Json("ISO-8859-1");
  if (lower.find("application/json") != std::string::npos) return Json("utf-8");
  return nullptr;
}

class HttpAction final : public Action {
 public:
  HttpAction(const StdActionOptions& options, bool mistral_async)
      : policy_(options.denied_cidrs, options.allow_loopback_http),
        max_response_bytes_(options.max_response_bytes),
        default_timeout_(options.default_http_timeout_seconds),
        mistral_async_(mistral_async) {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    if (!policy_.config_error().ok()) {
      BORA_LOG_ERROR("std.http: {}; every HTTP request will be refused",
                     policy_.config_error().message());
    }
  }

  ActionResult Run(const ActionRequest& request, const CancelToken& cancel) override {
    try {
      return RunImpl(request, cancel);
    } catch (const std::exception& e) {
      return ActionResult::Error(std::string("Failed to send HTTP request: ") + e.what());
    }
  }

 private:
  static ActionResult Fail(const std::string& msg) {
    return ActionResult::Error("Failed to send HTTP request: " + msg);
  }

  ActionResult RunImpl(const ActionRequest& request, const CancelToken& cancel) {
    const Json& input = request.input;
    const Json& url_v = Param(input, "url");
    if (!url_v.is_string()) {
      return Fail("Invalid URL " + PythonRepr(url_v) + ": the url must be a string");
    }
    std::string url_text(url_v.get_string());
    std::string method = "GET";
    if (const Json& m = Param(input, "method"); !m.is_null()) {
      if (!m.is_string()) return Fail("method must be a string");
      method = std::string(m.get_string());
      for (char& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (method.empty() || method.find_first_of(" \r\n\t") != std::string::npos) {
        return Fail("invalid method '" + method + "'");
      }
    }

    UrlPtr url(curl_url());
    if (!url) return Fail("out of memory");
    // No default scheme: "some.not.existing.url" is an invalid URL (requests' MissingSchema).
    if (url_text.find("://") == std::string::npos) {
      return Fail("Invalid URL '" + url_text + "': No scheme supplied. Perhaps you meant http://" +
                  url_text + "?");
    }
    if (CURLUcode uc = curl_url_set(url.get(), CURLUPART_URL, url_text.c_str(), 0);
        uc != CURLUE_OK) {
      return Fail("Invalid URL '" + url_text + "': " + curl_url_strerror(uc));
    }
    std::string scheme = Lower(GetUrlPart(url.get(), CURLUPART_SCHEME));
    if (scheme != "http" && scheme != "https") {
      return Fail("No connection adapters were found for '" + url_text + "'");
    }
    if (GetUrlPart(url.get(), CURLUPART_HOST).empty()) {
      return Fail("Invalid URL '" + url_text + "': No host supplied");
    }

    // Query parameters.
    const Json& params = Param(input, "params");
    if (params.is_object()) {
      for (const auto& kv : params.get_object()) {
        auto add = [&](const Json& v) {
          if (v.is_null()) return;
          std::string pair = Escape(kv.key()) + "=" + Escape(ToText(v));
          curl_url_set(url.get(), CURLUPART_QUERY, pair.c_str(), CURLU_APPENDQUERY);
        };
        if (kv.value().is_array()) {
          for (const Json& item : kv.value().get_array()) add(item);
        } else {
          add(kv.value());
        }
      }
    } else if (params.is_string() && !params.get_string().empty()) {
      std::string q(params.get_string());
      curl_url_set(url.get(), CURLUPART_QUERY, q.c_str(), CURLU_APPENDQUERY);
    } else if (!params.is_null()) {
      return Fail("params must be a dict or a string, got " + std::string(PythonTypeName(params)));
    }

    // Body.
    const Json& body_v = Param(input, "body");
    const Json& json_v = Param(input, "json");
    if (IsTruthy(body_v) && IsTruthy(json_v)) {
      return ActionResult::Error("Only one of the parameters 'json' and 'body' can be passed");
    }
    std::optional<std::string> body;
    bool json_body = false;
    if (IsTruthy(body_v)) {
      if (body_v.is_string()) {
        body = std::string(body_v.get_string());
      } else if (body_v.is_object() || body_v.is_array()) {
        body = PythonJsonDumps(body_v);
      } else {
        body = ToText(body_v);
      }
    } else if (!json_v.is_null()) {
      body = PythonJsonDumps(json_v);
      json_body = true;
    }

    // Headers.
    std::vector<std::pair<std::string, std::string>> headers;
    const Json& headers_v = Param(input, "headers");
    if (headers_v.is_object()) {
      for (const auto& kv : headers_v.get_object()) {
        if (kv.value().is_null()) continue;
        std::string value = ToText(kv.value());
        std::string name(kv.key());
        if (name.find_first_of(":\r\n") != std::string::npos ||
            value.find_first_of("\r\n") != std::string::npos) {
          return Fail("Invalid header " + PythonRepr(Json(name)) +
                      ": contains a line break or colon");
        }
        headers.emplace_back(std::move(name), std::move(value));
      }
    } else if (!headers_v.is_null()) {
      return Fail("headers must be a dict, got " + std::string(PythonTypeName(headers_v)));
    }
    if (mistral_async_) {
      headers.emplace_back("Mistral-Workflow-Name", request.workflow_name);
      headers.emplace_back("Mistral-Workflow-Execution-Id", request.execution_id);
      headers.emplace_back("Mistral-Task-Id", request.task_execution_id);
      headers.emplace_back("Mistral-Action-Execution-Id", request.action_execution_id);
      headers.emplace_back("Mistral-Callback-URL", request.callback_url);
    }
    auto has_header = [&headers](std::string_view name) {
      return std::any_of(headers.begin(), headers.end(),
                         [&](const auto& h) { return Lower(h.first) == Lower(name); });
    };
    if (json_body && !has_header("Content-Type"))
      headers.emplace_back("Content-Type", "application/json");

    // Cookies.
    std::string cookie_header;
    const Json& cookies_v = Param(input, "cookies");
    if (cookies_v.is_object()) {
      for (const auto& kv : cookies_v.get_object()) {
        if (!cookie_header.empty()) cookie_header += "; ";
        cookie_header += std::string(kv.key()) + "=" + ToText(kv.value());
      }
    } else if (!cookies_v.is_null()) {
      return Fail("cookies must be a dict, got " + std::string(PythonTypeName(cookies_v)));
    }

    // Auth "user:password" (Mistral splits on ':' and needs exactly two parts).
    std::optional<std::pair<std::string, std::string>> auth;
    const Json& auth_v = Param(input, "auth");
    if (IsTruthy(auth_v)) {
      std::string a = ToText(auth_v);
      size_t colon = a.find(':');
      if (!auth_v.is_string() || colon == std::string::npos ||
          a.find(':', colon + 1) != std::string::npos) {
        return Fail("auth must be a string 'user:password'");
      }
      auth.emplace(a.substr(0, colon), a.substr(colon + 1));
    }

    if (IsTruthy(Param(input, "proxies"))) {
      return Fail(
          "the 'proxies' parameter is not supported (requests go direct so that the SSRF "
          "deny list holds)");
    }

    // Timeout: a number, or [connect, read] like requests.
    const Json& timeout_v = Param(input, "timeout");
    double connect_timeout = 0;
    double total_timeout = 0;
    if (timeout_v.is_array() && timeout_v.get_array().size() == 2) {
      connect_timeout = ToDouble(timeout_v.get_array()[0]).value_or(0);
      double read = ToDouble(timeout_v.get_array()[1]).value_or(0);
      total_timeout = connect_timeout > 0 && read > 0
                          ? connect_timeout + read
                          : EffectiveTimeoutSeconds(nullptr, request, default_timeout_);
    } else {
      total_timeout = EffectiveTimeoutSeconds(timeout_v, request, default_timeout_);
    }
    if (request.timeout_ms > 0) {
      total_timeout = std::min(total_timeout, static_cast<double>(request.timeout_ms) / 1000.0);
    }
    const bool allow_redirects = IsTruthy(Param(input, "allow_redirects"));
    const Json& verify_v = Param(input, "verify");

    using SteadyClock = std::chrono::steady_clock;
    const auto deadline = SteadyClock::now() + std::chrono::duration_cast<SteadyClock::duration>(
                                                   std::chrono::duration<double>(total_timeout));
    std::string original_host = Lower(GetUrlPart(url.get(), CURLUPART_HOST));

    for (int hop = 0;; ++hop) {
      if (cancel.cancelled.load()) return ActionResult::Cancelled();
      std::string current_url = GetUrlPart(url.get(), CURLUPART_URL);
      std::string host = GetUrlPart(url.get(), CURLUPART_HOST);
      std::string hop_scheme = Lower(GetUrlPart(url.get(), CURLUPART_SCHEME));
      if (hop_scheme != "http" && hop_scheme != "https") {
        return Fail("redirect to an unsupported scheme: '" + current_url + "'");
      }
      std::string port = GetUrlPart(url.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT);

      // Resolve and check here; pin curl to the checked address.
      std::string bare_host = host;
      if (bare_host.size() >= 2 && bare_host.front() == '[')
        bare_host = bare_host.substr(1, bare_host.size() - 2);
      Result<std::vector<IpAddress>> addrs = ResolveHost(bare_host);
      if (!addrs.ok()) return Fail(addrs.status().message());
      // Every allowed address is pinned (curl tries them in turn); denied ones are dropped.
      std::string pinned;
      Status denied;
      for (const IpAddress& ip : *addrs) {
        Status st = policy_.Check(ip);
        if (st.ok()) {
          if (!pinned.empty()) pinned += ",";
          pinned += ip.is_v6 ? "[" + ip.ToString() + "]" : ip.ToString();
        } else if (denied.ok()) {
          denied = st;
        }
      }
      if (pinned.empty()) {
        return Fail("connection to '" + host + "' refused by the SSRF policy: " + denied.message());
      }

      EasyPtr easy(curl_easy_init());
      if (!easy) return Fail("cannot create a curl handle");
      CURL* c = easy.get();
      char errbuf[CURL_ERROR_SIZE] = {};
      Response resp;
      resp.max_bytes = max_response_bytes_;
      ProgressState progress{&cancel};
      SocketGuard guard{&policy_, ""};

      // IP literals are not resolved by curl; names are pinned to the checked address.
      SlistPtr resolve(
          IpAddress::Parse(bare_host).ok()
              ? nullptr
              : curl_slist_append(nullptr, (bare_host + ":" + port + ":" + pinned).c_str()));
      SlistPtr header_list;
      curl_slist* hl = nullptr;
      for (const auto& [name, value] : headers) {
        // Like requests: credentials are not sent on to another host.
        if (hop > 0 && Lower(host) != original_host && Lower(name) == "authorization") continue;
        std::string line = value.empty() ? name + ";" : name + ": " + value;
        hl = curl_slist_append(hl, line.c_str());
      }
      hl = curl_slist_append(hl, "Expect:");  // no 100-continue round trip
      header_list.reset(hl);

      curl_easy_setopt(c, CURLOPT_URL, current_url.c_str());
      curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
      curl_easy_setopt(c, CURLOPT_RESOLVE, resolve.get());
      curl_easy_setopt(c, CURLOPT_PROXY, "");
      curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
      curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
      curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, &OpenSocket);
      curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &guard);
      curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &WriteBody);
      curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp);
      curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &WriteHeader);
      curl_easy_setopt(c, CURLOPT_HEADERDATA, &resp);
      curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
      curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, &OnProgress);
      curl_easy_setopt(c, CURLOPT_XFERINFODATA, &progress);
      curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
      curl_easy_setopt(c, CURLOPT_HTTPHEADER, header_list.get());
      curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");  // gzip/deflate like requests
      curl_easy_setopt(c, CURLOPT_USERAGENT, "bora-std.http/1.0");
      if (max_response_bytes_ > 0) {
        curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
                         static_cast<curl_off_t>(max_response_bytes_));
      }
      auto remaining =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
      if (remaining.count() <= 0)
        return Fail("Read timed out (timeout=" + PythonFloatRepr(total_timeout) + ")");
      curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(remaining.count()));
      if (connect_timeout > 0) {
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connect_timeout * 1000));
      }
      if (!cookie_header.empty()) curl_easy_setopt(c, CURLOPT_COOKIE, cookie_header.c_str());
      if (auth && (hop == 0 || Lower(host) == original_host)) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERNAME, auth->first.c_str());
        curl_easy_setopt(c, CURLOPT_PASSWORD, auth->second.c_str());
      }
      if (hop_scheme == "https") {
        if (verify_v.is_bool() && !verify_v.get_bool()) {
          curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
          curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
        } else if (verify_v.is_string()) {
          std::string ca(verify_v.get_string());
          curl_easy_setopt(c, CURLOPT_CAINFO, ca.c_str());
        }
      }
      if (method == "HEAD") {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
      } else if (method != "GET" || body) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
      }
      if (!body && (method == "POST" || method == "PUT" || method == "PATCH")) {
        body = std::string();  // "Content-Length: 0" like requests
      }
      if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body->data());
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
      }

      CURLcode rc = curl_easy_perform(c);
      if (rc != CURLE_OK) {
        if (cancel.cancelled.load()) return ActionResult::Cancelled();
        if (resp.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
          return Fail("the response is larger than the limit of " +
                      std::to_string(max_response_bytes_) + " bytes");
        }
        if (!guard.denied_message.empty()) {
          return Fail("connection refused by the SSRF policy: " + guard.denied_message);
        }
        if (rc == CURLE_OPERATION_TIMEDOUT) {
          return Fail("Read timed out (timeout=" + PythonFloatRepr(total_timeout) +
                      "): " + (errbuf[0] ? errbuf : curl_easy_strerror(rc)));
        }
        return Fail(std::string(curl_easy_strerror(rc)) +
                    (errbuf[0] ? std::string(": ") + errbuf : ""));
      }
      curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp.status);
      curl_easy_getinfo(c, CURLINFO_TOTAL_TIME, &resp.elapsed);

      std::string location;
      for (const auto& [k, v] : resp.headers) {
        if (Lower(k) == "location") location = v;
      }
      bool is_redirect = resp.status == 301 || resp.status == 302 || resp.status == 303 ||
                         resp.status == 307 || resp.status == 308;
      if (allow_redirects && is_redirect && !location.empty()) {
        if (hop >= kMaxRedirects)
          return Fail("Exceeded " + std::to_string(kMaxRedirects) + " redirects.");
        if (curl_url_set(url.get(), CURLUPART_URL, location.c_str(), 0) != CURLUE_OK) {
          return Fail("invalid redirect location '" + location + "'");
        }
        if ((resp.status == 303 && method != "HEAD") ||
            ((resp.status == 301 || resp.status == 302) && method == "POST")) {
          method = "GET";
          body.reset();
          headers.erase(std::remove_if(headers.begin(), headers.end(),
                                       [](const auto& h) {
                                         std::string n = Lower(h.first);
                                         return n == "content-type" || n == "content-length";
                                       }),
                        headers.end());
        }
        continue;
      }
      return MakeResult(std::move(resp), current_url);
    }
  }

  ActionResult MakeResult(Response resp, const std::string& final_url) const {
    JsonObject headers;
    JsonObject cookies;
    std::string content_type;
    for (const auto& [k, v] : resp.headers) {
      std::string lk = Lower(k);
      if (lk == "content-type") content_type = v;
      if (lk == "set-cookie") {
        std::string pair = v.substr(0, v.find(';'));
        size_t eq = pair.find('=');
        if (eq != std::string::npos) cookies[Trim(pair.substr(0, eq))] = Trim(pair.substr(eq + 1));
      }
      // Case-insensitive keys, first spelling kept, repeated headers joined with ", " (requests).
      bool merged = false;
      for (auto& kv : headers) {
        if (Lower(kv.key()) == lk) {
          kv.value() = Json(std::string(kv.value().get_string()) + ", " + v);
          merged = true;
          break;
        }
      }
      if (!merged) headers[k] = v;
    }
    Json encoding = EncodingFromContentType(content_type);
    Json content;
    Result<Json> parsed =
        resp.body.empty() ? Result<Json>(InvalidArgument("empty")) : ParseJson(resp.body);
    if (parsed.ok()) {
      content = std::move(*parsed);
    } else {
      bool latin1 = encoding.is_string() && (Lower(encoding.get_string()) == "iso-8859-1" ||
                                             Lower(encoding.get_string()) == "latin-1");
      content = Json(ToUtf8(resp.body, latin1));
    }
    JsonObject out;
    out["content"] = std::move(content);
    out["status"] = static_cast<int64_t>(resp.status);
    out["headers"] = std::move(headers);
    out["url"] = final_url;
    out["history"] = JsonArray();
    out["encoding"] = std::move(encoding);
    out["reason"] = resp.reason;
    out["cookies"] = std::move(cookies);
    out["elapsed"] = resp.elapsed;
    if (resp.status < 200 || resp.status > 306) return ActionResult::Error(std::move(out));
    if (mistral_async_) return ActionResult::Async();
    return ActionResult::Success(std::move(out));
  }

  NetworkPolicy policy_;
  int64_t max_response_bytes_;
  double default_timeout_;
  bool mistral_async_;
};

}  // namespace

std::shared_ptr<Action> MakeHttpAction(const StdActionOptions& options, bool mistral_async) {
  return std::make_shared<HttpAction>(options, mistral_async);
}

}  // namespace bora::workers::internal
