#include "common/http/authenticator.h"

#include <algorithm>
#include <cctype>

#include "common/http/fault.h"

namespace bora::http {
namespace {

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  // Runs over the longer length whatever the content, so timing reveals only the lengths.
  size_t n = std::max(a.size(), b.size());
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= x ^ y;
  }
  return diff == 0;
}

// The token of "Authorization: Bearer <token>", or "".
std::string BearerToken(const HttpRequest& req) {
  std::string auth = req.Header("authorization");
  if (auth.size() <= 7) return "";
  std::string scheme = auth.substr(0, 7);
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (scheme != "bearer ") return "";
  size_t start = auth.find_first_not_of(' ', 7);
  return start == std::string::npos ? "" : auth.substr(start);
}

}  // namespace

HttpResponse AuthRefusal(const AuthResult& result) {
  if (result.kind == AuthResult::Kind::kUnavailable) return MistralFault(503, result.message);
  HttpResponse r = MistralFault(401, result.message);
  r.headers.emplace_back("WWW-Authenticate", "Bearer");
  return r;
}

std::string RequestToken(const HttpRequest& req) {
  std::string x = req.Header("x-auth-token");
  return x.empty() ? BearerToken(req) : x;
}

AuthResult StaticTokenAuthenticator::Authenticate(const HttpRequest& req) {
  bool ok = false;
  std::string bearer = BearerToken(req);
  if (!bearer.empty()) ok |= ConstantTimeEquals(bearer, token_);
  std::string x = req.Header("x-auth-token");
  if (!x.empty()) ok |= ConstantTimeEquals(x, token_);
  if (ok) return AuthResult::Allow();
  return AuthResult::Refuse("Authentication required: missing or invalid token");
}

}  // namespace bora::http
