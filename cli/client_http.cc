#include "cli/client_http.h"

#include <curl/curl.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <ostream>
#include <sstream>

namespace bora::cli {
namespace {

constexpr const char* kDefaultUrl = "http://127.0.0.1:8989";

size_t AppendToString(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

void InitCurl() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// The headers every request carries.
curl_slist* BaseHeaders(const std::string& token, const char* accept) {
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, (std::string("Accept: ") + accept).c_str());
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
  if (!token.empty())
    headers = curl_slist_append(headers, ("Authorization: Bearer " + token).c_str());
  return headers;
}

// The state of a streamed GET, shared with libcurl's callbacks.
struct StreamState {
  CURL* curl = nullptr;
  const std::function<bool(std::string_view)>* on_data = nullptr;
  const std::function<bool()>* abandon = nullptr;
  bool stopped = false;
  std::string error_body;  // of a non-2xx answer
};

size_t StreamWrite(char* data, size_t size, size_t n, void* user) {
  auto* s = static_cast<StreamState*>(user);
  long status = 0;
  curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
  if (status < 200 || status >= 300) {
    s->error_body.append(data, size * n);
    return size * n;
  }
  if ((*s->abandon)() || !(*s->on_data)(std::string_view(data, size * n))) {
    s->stopped = true;
    return 0;  // aborts the transfer (CURLE_WRITE_ERROR)
  }
  return size * n;
}

int StreamProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* s = static_cast<StreamState*>(user);
  if ((*s->abandon)()) {
    s->stopped = true;
    return 1;  // aborts the transfer (CURLE_ABORTED_BY_CALLBACK)
  }
  return 0;
}

}  // namespace

Client::Client(Connection conn, std::ostream& out, std::ostream& err)
    : conn_(std::move(conn)), out_(out), err_(err) {
  InitCurl();
  if (conn_.url.empty()) {
    const char* env = std::getenv("BORA_URL");
    conn_.url = env && *env ? env : kDefaultUrl;
  }
  if (conn_.token.empty()) {
    const char* env = std::getenv("BORA_TOKEN");
    if (env) conn_.token = env;
  }
  while (!conn_.url.empty() && conn_.url.back() == '/') conn_.url.pop_back();
  // python-mistralclient URLs end in /v2; our paths carry it.
  if (conn_.url.size() >= 3 && conn_.url.compare(conn_.url.size() - 3, 3, "/v2") == 0)
    conn_.url.resize(conn_.url.size() - 3);
}

std::optional<Reply> Client::Call(const std::string& method, const std::string& path,
                                  const std::string& body, const std::string& content_type) {
  CURL* curl = curl_easy_init();
  if (curl == nullptr) {
    err_ << "bora: cannot initialise libcurl\n";
    return std::nullopt;
  }
  std::string url = conn_.url + path;
  Reply reply;
  curl_slist* headers = BaseHeaders(conn_.token, "application/json");
  const bool has_body = !body.empty() || method == "POST" || method == "PUT";
  if (has_body) headers = curl_slist_append(headers, ("Content-Type: " + content_type).c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (has_body) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, AppendToString);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply.body);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 120000L);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "bora-client");
  CURLcode rc = curl_easy_perform(curl);
  if (rc == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (rc == CURLE_COULDNT_CONNECT) {
    err_ << "bora: cannot connect to the Bora API at " << conn_.url
         << " (connection refused). Is `bora serve` running? Set --url or BORA_URL.\n";
    return std::nullopt;
  }
  if (rc != CURLE_OK) {
    err_ << "bora: request to " << url << " failed: " << curl_easy_strerror(rc) << "\n";
    return std::nullopt;
  }
  return reply;
}

StreamOutcome Client::Stream(const std::string& path, std::chrono::milliseconds timeout,
                             const std::function<bool(std::string_view)>& on_data,
                             const std::function<bool()>& abandon) {
  StreamOutcome outcome;
  CURL* curl = curl_easy_init();
  if (curl == nullptr) {
    outcome.error = "cannot initialise libcurl";
    return outcome;
  }
  StreamState state;
  state.curl = curl;
  state.on_data = &on_data;
  state.abandon = &abandon;
  std::string url = conn_.url + path;
  curl_slist* headers = BaseHeaders(conn_.token, "text/event-stream");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, StreamWrite);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &state);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, StreamProgress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &state);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(std::max<long long>(1, timeout.count())));
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "bora-client");
  CURLcode rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &outcome.status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (state.stopped) {
    outcome.end = StreamOutcome::End::kStopped;
  } else if (rc == CURLE_OK) {
    outcome.end = StreamOutcome::End::kClosed;
  } else if (rc == CURLE_OPERATION_TIMEDOUT) {
    outcome.end = StreamOutcome::End::kTimedOut;
  } else {
    outcome.error = curl_easy_strerror(rc);
  }
  return outcome;
}

int Client::CheckError(const Reply& r, const std::string& subject) {
  if (r.status < 400) return 0;
  auto parsed = ParseJson(r.body);
  std::string fault;
  if (parsed.ok() && parsed->is_object() && parsed->as_object().contains("faultstring")) {
    const Json& f = parsed->as_object().at("faultstring");
    fault = f.is_string() ? std::string(f.as_string()) : PythonStr(f);
  }
  if (r.status == 404 && !subject.empty()) {
    err_ << "ERROR: " << subject << " not found\n";
  } else if (!fault.empty()) {
    err_ << "ERROR: " << fault << "\n";
  } else {
    err_ << "ERROR: HTTP " << r.status << (r.body.empty() ? "" : ": " + r.body) << "\n";
  }
  return 1;
}

int Client::Finish(const std::optional<Reply>& r, const std::function<void(const Json&)>& render,
                   const std::string& subject) {
  if (!r) return 3;
  if (int code = CheckError(*r, subject)) return code;
  if (conn_.format == OutputFormat::kJson) {
    if (!r->body.empty()) out_ << r->body << (r->body.back() == '\n' ? "" : "\n");
    return 0;
  }
  Json body = nullptr;
  if (!r->body.empty()) {
    auto parsed = ParseJson(r->body);
    if (!parsed.ok()) {
      err_ << "ERROR: the server sent a reply that is not JSON: " << parsed.status().message()
           << "\n";
      return 1;
    }
    body = std::move(*parsed);
  }
  if (conn_.format == OutputFormat::kYaml) {
    if (!r->body.empty()) out_ << JsonToYaml(body);
    return 0;
  }
  render(body);
  return 0;
}

int Client::List(const std::string& path, const std::string& collection,
                 const std::vector<Column>& columns, const std::string& subject) {
  return Finish(
      Call("GET", path),
      [&](const Json& body) { PrintList(out_, columns, ArrayAt(body, collection)); }, subject);
}

int Client::Show(const std::optional<Reply>& r, const std::vector<Column>& columns,
                 const std::string& subject) {
  return Finish(
      r,
      [&](const Json& body) {
        if (body.is_object()) PrintObject(out_, columns, body.as_object());
      },
      subject);
}

int Client::Delete(const std::string& path, const std::string& subject) {
  return Finish(
      Call("DELETE", path),
      [&](const Json&) { out_ << "Request to delete " << subject << " has been accepted.\n"; },
      subject);
}

int Client::GetJson(const std::string& path, const std::string& subject, Json* body) {
  auto r = Call("GET", path);
  if (!r) return 3;
  if (int code = CheckError(*r, subject)) return code;
  auto parsed = ParseJson(r->body);
  if (!parsed.ok()) {
    err_ << "ERROR: the server sent a reply that is not JSON: " << parsed.status().message()
         << "\n";
    return 1;
  }
  *body = std::move(*parsed);
  return 0;
}

void Client::PrintValue(const Json& v) {
  switch (conn_.format) {
    case OutputFormat::kJson:
      out_ << DumpJson(v) << "\n";
      break;
    case OutputFormat::kYaml:
      out_ << JsonToYaml(v);
      break;
    case OutputFormat::kTable:
      out_ << (v.is_string() ? std::string(v.as_string()) : PythonJsonDumps(v, 4)) << "\n";
      break;
  }
}

std::string Escape(const std::string& segment) {
  InitCurl();
  char* escaped = curl_easy_escape(nullptr, segment.data(), static_cast<int>(segment.size()));
  if (escaped == nullptr) return segment;
  std::string out(escaped);
  curl_free(escaped);
  return out;
}

std::string WithQuery(std::string path,
                      const std::vector<std::pair<std::string, std::string>>& query) {
  char sep = '?';
  for (const auto& [k, v] : query) {
    if (v.empty()) continue;
    path += sep + Escape(k) + "=" + Escape(v);
    sep = '&';
  }
  return path;
}

std::optional<std::string> ReadTextFile(const std::string& path, const std::string& what,
                                        std::ostream& err) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    err << "bora: cannot read " << what << " file " << path << ": " << std::strerror(errno) << "\n";
    return std::nullopt;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::optional<Json> ReadJsonArg(const std::string& text, const std::string& flag, std::ostream& err,
                                bool object_only) {
  std::string content = text;
  std::string where = flag;
  if (!text.empty() && text.front() == '@') {
    auto file = ReadTextFile(text.substr(1), flag, err);
    if (!file) return std::nullopt;
    content = std::move(*file);
    where = flag + " file " + text.substr(1);
  }
  auto parsed = ParseJson(content);
  if (!parsed.ok()) {
    err << "bora: " << where << " is not valid JSON: " << parsed.status().message() << "\n";
    return std::nullopt;
  }
  if (object_only && !parsed->is_object()) {
    err << "bora: " << where << " must be a JSON object\n";
    return std::nullopt;
  }
  return *parsed;
}

bool SetJsonArg(JsonObject* body, const char* key, const std::string& text, const std::string& flag,
                std::ostream& err, const char* fallback, bool object_only) {
  if (text.empty() && fallback == nullptr) return true;
  auto value = ReadJsonArg(text.empty() ? fallback : text, flag, err, object_only);
  if (!value) return false;
  (*body)[key] = PythonJsonDumps(*value);
  return true;
}

Json JsonField(const JsonObject& o, const std::string& key) {
  const Json* v = o.if_contains(key);
  if (v == nullptr) return nullptr;
  if (!v->is_string()) return *v;
  auto parsed = ParseJson(v->as_string());
  return parsed.ok() ? *parsed : *v;
}

}  // namespace bora::cli
