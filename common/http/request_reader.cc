#include "common/http/request_reader.h"

#include <algorithm>
#include <boost/asio/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <cctype>
#include <string_view>

#include "common/http/fault.h"

namespace bora::http::internal {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Fills path and query of `req` from req.target. False when the target is not origin-form (or
// absolute-form) or has a bad escape.
bool ParseTarget(HttpRequest& req) {
  std::string_view t = req.target;
  for (std::string_view scheme : {"http://", "https://"}) {
    if (t.size() >= scheme.size() &&
        std::equal(scheme.begin(), scheme.end(), t.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      t.remove_prefix(scheme.size());
      size_t slash = t.find_first_of("/?");
      t = slash == std::string_view::npos ? std::string_view("/") : t.substr(slash);
      break;
    }
  }
  if (t.empty() || t.front() != '/') return false;
  size_t hash = t.find('#');
  if (hash != std::string_view::npos) t = t.substr(0, hash);
  size_t q = t.find('?');
  std::string_view raw_path = t.substr(0, q);
  if (!PercentDecode(raw_path, false, req.path)) return false;
  if (req.path.find('\0') != std::string::npos) return false;
  req.query.clear();
  if (q == std::string_view::npos) return true;
  std::string_view qs = t.substr(q + 1);
  size_t i = 0;
  while (i <= qs.size()) {
    size_t amp = qs.find('&', i);
    if (amp == std::string_view::npos) amp = qs.size();
    std::string_view item = qs.substr(i, amp - i);
    if (!item.empty()) {
      size_t eq = item.find('=');
      std::string key, value;
      if (!PercentDecode(item.substr(0, eq), true, key)) return false;
      if (eq != std::string_view::npos && !PercentDecode(item.substr(eq + 1), true, value))
        return false;
      req.query.emplace_back(std::move(key), std::move(value));
    }
    i = amp + 1;
  }
  return true;
}

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string TrimSlash(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

bool IsStateChanging(const std::string& method) {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

}  // namespace

bool PercentDecode(std::string_view in, bool plus_as_space, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = HexValue(in[i + 1]);
      int lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_as_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return true;
}

std::string NormalizeOrigin(std::string_view origin) {
  std::string out = ToLower(origin);
  while (!out.empty() && out.back() == '/') out.pop_back();
  return out;
}

void RequestReader::Begin() {
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(options_.max_header_bytes));
  // The body limit is applied once the header is in, so a too-long Content-Length gets its own
  // message.
  parser_->body_limit(boost::none);
  // The request line and header fields must fit in max_header_bytes: the parser says so
  // (header_limit) before the buffer is full.
  buffer_.max_size(std::max(options_.max_header_bytes, buffer_.size()));
  trailer_room_ = false;
  keep_alive_ = false;
  version_ = 11;
}

std::optional<HttpResponse> RequestReader::OnHeader() {
  version_ = parser_->get().version();
  if (auto length = parser_->content_length(); length && *length > options_.max_body_bytes) {
    return MistralFault(413, "Request body too large (" + std::to_string(*length) +
                                 " bytes; limit " + std::to_string(options_.max_body_bytes) + ")");
  }
  parser_->body_limit(options_.max_body_bytes);
  // Chunked: the parser consumes chunk data as it comes, so what stays in the buffer is the chunk
  // line being read (with the CRLF before it and its own); the buffer's size bounds that line.
  // Otherwise the buffer only sets how much one read takes.
  size_t room = parser_->chunked() ? options_.max_chunk_line_bytes + 4 : kBodyReadBytes;
  buffer_.max_size(std::max(room, buffer_.size()));
  return std::nullopt;
}

size_t RequestReader::TrailerStart() const {
  std::string_view pending(static_cast<const char*>(buffer_.data().data()), buffer_.size());
  size_t line = pending.substr(0, 2) == "\r\n" ? 2 : 0;
  size_t eol = pending.find("\r\n", line);
  if (eol == std::string_view::npos) return std::string_view::npos;
  std::string_view size = pending.substr(line, std::min(eol, pending.find(';', line)) - line);
  if (size.empty() || size.find_first_not_of('0') != std::string_view::npos)
    return std::string_view::npos;
  return eol + 2;
}

RequestReader::ErrorOutcome RequestReader::OnError(beast::error_code ec, bool in_body) {
  using Kind = ErrorOutcome::Kind;
  auto respond = [](int status, const std::string& message) {
    return ErrorOutcome{Kind::kRespond, MistralFault(status, message)};
  };
  auto header_too_large = [&] {
    return respond(431, "Request header fields too large (limit " +
                            std::to_string(options_.max_header_bytes) + " bytes)");
  };
  if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
      ec == boost::asio::error::operation_aborted || ec == boost::asio::error::eof ||
      ec == boost::asio::error::connection_reset || ec == bhttp::error::partial_message) {
    return {Kind::kClose, {}};
  }
  if (ec == bhttp::error::header_limit) return header_too_large();
  if (ec == bhttp::error::buffer_overflow) {
    if (!in_body) return header_too_large();
    size_t trailer = parser_->chunked() ? TrailerStart() : std::string_view::npos;
    if (trailer != std::string_view::npos) {
      if (trailer_room_) return header_too_large();
      // The last chunk's line is in: give the trailer fields the room of a header.
      trailer_room_ = true;
      buffer_.max_size(trailer + options_.max_header_bytes);
      return {Kind::kContinue, {}};
    }
    return respond(400, "Malformed HTTP request: chunk line longer than " +
                            std::to_string(options_.max_chunk_line_bytes) +
                            " bytes (size and extensions)");
  }
  if (ec == bhttp::error::body_limit) {
    return respond(413, "Request body too large (more than " +
                            std::to_string(options_.max_body_bytes) + " bytes; limit " +
                            std::to_string(options_.max_body_bytes) + ")");
  }
  if (ec.category() == beast::error_code(bhttp::error::bad_method).category()) {
    return respond(400, "Malformed HTTP request: " + ec.message());
  }
  return {Kind::kClose, {}};
}

bool RequestReader::TakeRequest(const std::string& remote, HttpRequest* request,
                                HttpResponse* fault) {
  auto& breq = parser_->get();
  HttpRequest& req = *request;
  req.method = std::string(breq.method_string());
  req.target = std::string(breq.target());
  req.remote = remote;
  for (const auto& field : breq) {
    std::string name = ToLower(field.name_string());
    auto [it, inserted] = req.headers.emplace(name, std::string(field.value()));
    if (!inserted) it->second += ", " + std::string(field.value());
  }
  req.body = std::move(breq.body());
  keep_alive_ = breq.keep_alive() && options_.keep_alive;
  version_ = breq.version();
  if (!ParseTarget(req)) {
    *fault = MistralFault(400, "Malformed request target: " + req.target);
    return false;
  }
  return true;
}

RequestGate::RequestGate(const HttpServerOptions& options, const std::set<std::string>& own_origins)
    : options_(options), authenticator_(options.authenticator) {
  if (!authenticator_ && !options.auth_token.empty()) {
    authenticator_ = std::make_shared<StaticTokenAuthenticator>(options.auth_token);
  } else if (!authenticator_) {
    authenticator_ = std::make_shared<NoAuthenticator>();
  }
  for (const std::string& o : own_origins) origins_.insert(NormalizeOrigin(o));
  for (const std::string& o : options.allowed_origins) origins_.insert(NormalizeOrigin(o));
}

bool RequestGate::Exempt(const HttpRequest& req) const {
  if (options_.unauthenticated_paths.count(TrimSlash(req.path)) ||
      options_.unauthenticated_paths.count(req.path))
    return true;
  for (const std::string& prefix : options_.unauthenticated_prefixes) {
    if (req.path == prefix || (req.path.size() > prefix.size() && req.path.starts_with(prefix) &&
                               req.path[prefix.size()] == '/'))
      return true;
  }
  return false;
}

std::optional<HttpResponse> RequestGate::Check(HttpRequest& req, bool may_block,
                                               bool* needs_blocking) const {
  if (!Exempt(req)) {
    std::optional<AuthResult> auth =
        may_block ? authenticator_->Authenticate(req) : authenticator_->Lookup(req);
    if (!auth) {
      *needs_blocking = true;
      return std::nullopt;
    }
    if (auth->kind != AuthResult::Kind::kAllowed) return AuthRefusal(*auth);
    req.identity = std::move(auth->identity);
  }
  // A browser sends Origin with every cross-site POST/PUT/PATCH/DELETE; clients that are not
  // browsers send none. "null" (sandboxed or file pages) is never allowed.
  auto origin = req.headers.find("origin");
  if (IsStateChanging(req.method) && origin != req.headers.end() &&
      !origins_.count(NormalizeOrigin(origin->second))) {
    return MistralFault(403, "Cross-origin request refused: Origin '" + origin->second +
                                 "' is not this server's origin nor an allowed one "
                                 "(HttpServerOptions::allowed_origins, bora --allowed-origin)");
  }
  return std::nullopt;
}

}  // namespace bora::http::internal
