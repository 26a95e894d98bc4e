#include "common/auth/keystone_http_client.h"

#include <curl/curl.h>

#include <cctype>
#include <cstdio>
#include <ctime>
#include <memory>
#include <vector>

#include "common/json.h"

namespace bora::auth {
namespace {

struct Reply {
  long status = 0;
  std::string body;
  std::string subject_token;  // the X-Subject-Token header
};

size_t WriteBody(char* data, size_t size, size_t n, void* user) {
  auto* reply = static_cast<Reply*>(user);
  if (reply->body.size() + size * n > (1 << 20)) return 0;  // a token body is far smaller
  reply->body.append(data, size * n);
  return size * n;
}

size_t WriteHeader(char* data, size_t size, size_t n, void* user) {
  std::string_view line(data, size * n);
  constexpr std::string_view kName = "x-subject-token:";
  if (line.size() > kName.size()) {
    std::string name(line.substr(0, kName.size()));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (name == kName) {
      std::string_view value = line.substr(kName.size());
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
        value.remove_prefix(1);
      while (!value.empty() &&
             (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
        value.remove_suffix(1);
      static_cast<Reply*>(user)->subject_token = std::string(value);
    }
  }
  return size * n;
}

// One request; kUnavailable when no HTTP answer came (refused, timeout, DNS).
// `method` other than GET/POST (DELETE) is sent as a custom request.
Result<Reply> Call(const std::string& url, const std::vector<std::string>& headers,
                   const std::string* post_body, std::chrono::milliseconds timeout,
                   const char* method = nullptr) {
  std::unique_ptr<CURL, void (*)(CURL*)> c(curl_easy_init(), curl_easy_cleanup);
  if (!c) return Internal("curl_easy_init failed");
  curl_slist* list = nullptr;
  for (const std::string& h : headers) list = curl_slist_append(list, h.c_str());
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> header_list(list, curl_slist_free_all);
  Reply reply;
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(c.get(), CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c.get(), CURLOPT_PROXY, "");
  curl_easy_setopt(c.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c.get(), CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c.get(), CURLOPT_WRITEFUNCTION, &WriteBody);
  curl_easy_setopt(c.get(), CURLOPT_WRITEDATA, &reply);
  curl_easy_setopt(c.get(), CURLOPT_HEADERFUNCTION, &WriteHeader);
  curl_easy_setopt(c.get(), CURLOPT_HEADERDATA, &reply);
  curl_easy_setopt(c.get(), CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c.get(), CURLOPT_HTTPHEADER, header_list.get());
  curl_easy_setopt(c.get(), CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(c.get(), CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(c.get(), CURLOPT_USERAGENT, "bora-keystone/1.0");
  if (post_body) {
    curl_easy_setopt(c.get(), CURLOPT_POSTFIELDS, post_body->c_str());
    curl_easy_setopt(c.get(), CURLOPT_POSTFIELDSIZE, static_cast<long>(post_body->size()));
  }
  if (method != nullptr) curl_easy_setopt(c.get(), CURLOPT_CUSTOMREQUEST, method);
  CURLcode rc = curl_easy_perform(c.get());
  if (rc != CURLE_OK) {
    return Unavailable(url + ": " + (errbuf[0] ? errbuf : curl_easy_strerror(rc)));
  }
  curl_easy_getinfo(c.get(), CURLINFO_RESPONSE_CODE, &reply.status);
  return reply;
}

std::string Str(const JsonObject& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

// {"id","name","domain":{"name"}} -> id, name, domain name.
void IdNameDomain(const Json* v, std::string* id, std::string* name, std::string* domain) {
  if (!v || !v->is_object()) return;
  const JsonObject& o = v->as_object();
  *id = Str(o, "id");
  *name = Str(o, "name");
  if (auto* d = o.if_contains("domain"); d && d->is_object()) *domain = Str(d->as_object(), "name");
}

// A token is one header line: refuse what could add another.
bool OneLine(std::string_view value) {
  return value.find_first_of("\r\n") == std::string_view::npos;
}

// Keystone's answer to a trust call as a Status (`what` names the call in messages).
Status TrustFault(const Reply& reply, const std::string& what) {
  std::string code = " (HTTP " + std::to_string(reply.status) + ")";
  if (reply.status == 401 || reply.status == 403) {
    return PermissionDenied("Keystone refused to " + what + code);
  }
  if (reply.status == 404) return NotFound("Keystone: not found, cannot " + what + code);
  return Unavailable("Keystone answered HTTP " + std::to_string(reply.status) + ", cannot " + what);
}

// The token a POST /v3/auth/tokens answered (201/200), else its fault.
Result<IssuedToken> TokenFromReply(const Reply& reply) {
  if (reply.subject_token.empty()) return Unavailable("Keystone sent no X-Subject-Token");
  Result<http::Identity> identity = ParseTokenBody(reply.body);
  if (!identity.ok()) return Unavailable(identity.status().message());
  IssuedToken issued{reply.subject_token, identity->expires_at_us, *identity};
  Result<Json> body = ParseJson(reply.body);
  const Json* token =
      body.ok() && body->is_object() ? body->as_object().if_contains("token") : nullptr;
  const Json* catalog =
      token && token->is_object() ? token->as_object().if_contains("catalog") : nullptr;
  if (catalog && catalog->is_array()) issued.catalog = *catalog;
  return issued;
}

}  // namespace

Result<int64_t> ParseKeystoneTime(std::string_view text) {
  int y, mo, d, h, mi, s, n = 0;
  std::string t(text);
  if (std::sscanf(t.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &n) != 6 ||
      n != 19) {
    return InvalidArgument("not a Keystone time: '" + t + "'");
  }
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  int64_t us = static_cast<int64_t>(timegm(&tm)) * 1000000;
  size_t i = 19;
  if (i < t.size() && t[i] == '.') {
    int64_t scale = 100000;
    for (++i; i < t.size() && std::isdigit(static_cast<unsigned char>(t[i])); ++i) {
      us += (t[i] - '0') * scale;
      scale /= 10;
    }
  }
  std::string_view zone = std::string_view(t).substr(i);
  if (!zone.empty() && zone != "Z" && zone != "+00:00") {
    return InvalidArgument("not a UTC Keystone time: '" + t + "'");
  }
  return us;
}

Result<http::Identity> ParseTokenBody(std::string_view body) {
  Result<Json> parsed = ParseJson(body);
  if (!parsed.ok()) return parsed.status().WithContext("Keystone token body");
  const Json* token = parsed->is_object() ? parsed->as_object().if_contains("token") : nullptr;
  if (!token || !token->is_object()) {
    return InvalidArgument("Keystone token body has no \"token\" object");
  }
  const JsonObject& t = token->as_object();
  http::Identity id;
  IdNameDomain(t.if_contains("user"), &id.user_id, &id.user_name, &id.user_domain);
  IdNameDomain(t.if_contains("project"), &id.project_id, &id.project_name, &id.project_domain);
  if (id.user_id.empty()) return InvalidArgument("Keystone token body has no user id");
  if (auto* roles = t.if_contains("roles"); roles && roles->is_array()) {
    for (const Json& r : roles->as_array()) {
      if (!r.is_object()) continue;
      std::string name = Str(r.as_object(), "name");
      if (name.empty()) continue;
      id.is_admin |= name == "admin";
      id.roles.push_back(std::move(name));
    }
  }
  std::string expires = Str(t, "expires_at");
  if (!expires.empty()) {
    Result<int64_t> at = ParseKeystoneTime(expires);
    if (!at.ok()) return at.status();
    id.expires_at_us = *at;
  }
  return id;
}

namespace {

// Password authentication of `c`'s user with `scope`.
std::string AuthBody(const PasswordCredentials& c, Json scope) {
  Json password = {
      {"user",
       {{"name", c.user}, {"domain", {{"name", c.user_domain}}}, {"password", c.password}}}};
  Json body = {{"auth",
                {{"identity", {{"methods", {"password"}}, {"password", std::move(password)}}},
                 {"scope", std::move(scope)}}}};
  return DumpJson(body);
}

}  // namespace

std::string PasswordAuthBody(const PasswordCredentials& c) {
  return AuthBody(c,
                  {{"project", {{"name", c.project}, {"domain", {{"name", c.project_domain}}}}}});
}

std::string TrustAuthBody(const PasswordCredentials& c, std::string_view trust_id) {
  return AuthBody(c, {{"OS-TRUST:trust", {{"id", std::string(trust_id)}}}});
}

KeystoneHttpClient::KeystoneHttpClient(std::string auth_url, std::chrono::milliseconds timeout)
    : timeout_(timeout) {
  while (!auth_url.empty() && auth_url.back() == '/') auth_url.pop_back();
  if (auth_url.size() >= 3 && auth_url.compare(auth_url.size() - 3, 3, "/v3") == 0) {
    auth_url.resize(auth_url.size() - 3);
  }
  tokens_url_ = auth_url + "/v3/auth/tokens";
  trusts_url_ = auth_url + "/v3/OS-TRUST/trusts";
}

Result<IssuedToken> KeystoneHttpClient::IssueToken(const PasswordCredentials& credentials) {
  std::string body = PasswordAuthBody(credentials);
  Result<Reply> reply = Call(
      tokens_url_, {"Content-Type: application/json", "Accept: application/json"}, &body, timeout_);
  if (!reply.ok()) return reply.status();
  if (reply->status == 401 || reply->status == 403) {
    return PermissionDenied("Keystone refused the service credentials of user '" +
                            credentials.user + "' (HTTP " + std::to_string(reply->status) + ")");
  }
  if (reply->status != 201 && reply->status != 200) {
    return Unavailable("Keystone answered HTTP " + std::to_string(reply->status) +
                       " to the service authentication");
  }
  return TokenFromReply(*reply);
}

Result<TokenValidation> KeystoneHttpClient::ValidateToken(std::string_view service_token,
                                                          std::string_view subject_token) {
  for (std::string_view t : {service_token, subject_token}) {
    if (!OneLine(t)) return TokenValidation{};
  }
  Result<Reply> reply =
      Call(tokens_url_,
           {"Accept: application/json", "X-Auth-Token: " + std::string(service_token),
            "X-Subject-Token: " + std::string(subject_token)},
           nullptr, timeout_);
  if (!reply.ok()) return reply.status();
  TokenValidation v;
  switch (reply->status) {
    case 200: {
      Result<http::Identity> identity = ParseTokenBody(reply->body);
      if (!identity.ok()) return Unavailable(identity.status().message());
      v.kind = TokenValidation::Kind::kValid;
      v.identity = std::move(*identity);
      return v;
    }
    case 404:
      v.kind = TokenValidation::Kind::kInvalid;
      return v;
    case 401:
      v.kind = TokenValidation::Kind::kServiceTokenRejected;
      return v;
    default:
      return Unavailable("Keystone answered HTTP " + std::to_string(reply->status) +
                         " to a token validation");
  }
}

Result<std::string> KeystoneHttpClient::CreateTrust(std::string_view user_token,
                                                    const TrustRequest& trust) {
  if (!OneLine(user_token)) return PermissionDenied("malformed token");
  Json roles = JsonArray();
  for (const std::string& r : trust.roles) roles.as_array().push_back(Json{{"name", r}});
  Json body = {{"trust",
                {{"trustor_user_id", trust.trustor_user_id},
                 {"trustee_user_id", trust.trustee_user_id},
                 {"project_id", trust.project_id},
                 {"impersonation", true},
                 {"roles", roles}}}};
  std::string text = DumpJson(body);
  Result<Reply> reply = Call(trusts_url_,
                             {"Content-Type: application/json", "Accept: application/json",
                              "X-Auth-Token: " + std::string(user_token)},
                             &text, timeout_);
  if (!reply.ok()) return reply.status();
  const std::string what = "create a trust for user " + trust.trustor_user_id;
  if (reply->status != 201 && reply->status != 200) return TrustFault(*reply, what);
  Result<Json> parsed = ParseJson(reply->body);
  const Json* t =
      parsed.ok() && parsed->is_object() ? parsed->as_object().if_contains("trust") : nullptr;
  std::string id = t && t->is_object() ? Str(t->as_object(), "id") : std::string();
  if (id.empty()) return Unavailable("Keystone's trust body has no trust id");
  return id;
}

Result<IssuedToken> KeystoneHttpClient::IssueTrustToken(const PasswordCredentials& service,
                                                        std::string_view trust_id) {
  std::string body = TrustAuthBody(service, trust_id);
  Result<Reply> reply = Call(
      tokens_url_, {"Content-Type: application/json", "Accept: application/json"}, &body, timeout_);
  if (!reply.ok()) return reply.status();
  if (reply->status != 201 && reply->status != 200) {
    return TrustFault(*reply, "issue a token of trust " + std::string(trust_id) + " to user '" +
                                  service.user + "'");
  }
  return TokenFromReply(*reply);
}

Status KeystoneHttpClient::DeleteTrust(std::string_view token, std::string_view trust_id) {
  if (!OneLine(token) || trust_id.find_first_of("/?#\r\n ") != std::string_view::npos) {
    return InvalidArgument("malformed token or trust id");
  }
  Result<Reply> reply = Call(trusts_url_ + "/" + std::string(trust_id),
                             {"Accept: application/json", "X-Auth-Token: " + std::string(token)},
                             nullptr, timeout_, "DELETE");
  if (!reply.ok()) return reply.status();
  if (reply->status == 204 || reply->status == 200) return Status::Ok();
  return TrustFault(*reply, "delete trust " + std::string(trust_id));
}

}  // namespace bora::auth
