// std.email: builds a MIME message like Mistral's SendEmailAction and sends it with libcurl's SMTP
// client. With `smtp_password` the connection must upgrade with STARTTLS and logs in as `from_addr`
// (Mistral does the same). One curl handle per run: thread-safe.
#include <curl/curl.h>

#include <chrono>
#include <cstring>
#include <ctime>
#include <memory>
#include <mutex>

#include "common/check.h"
#include "common/clock.h"
#include "common/ids.h"
#include "workers/std_actions_internal.h"

namespace bora::workers::internal {
namespace {

const Json& Param(const Json& input, std::string_view name) {
  static const Json kNull;
  if (!input.is_object()) return kNull;
  auto it = input.get_object().find(name);
  return it == input.get_object().end() ? kNull : it->value();
}

// A string or a list of strings ⇒ list; null ⇒ empty.
Result<std::vector<std::string>> AddressList(const Json& v, std::string_view name) {
  std::vector<std::string> out;
  if (v.is_null()) return out;
  if (v.is_string()) {
    if (!v.get_string().empty()) out.emplace_back(v.get_string());
  } else if (v.is_array()) {
    for (const Json& item : v.get_array()) {
      if (!item.is_string()) {
        return InvalidArgument(std::string(name) + " must be a list of strings");
      }
      out.emplace_back(item.get_string());
    }
  } else {
    return InvalidArgument(std::string(name) + " must be a string or a list of strings");
  }
  for (const std::string& a : out) {
    if (a.find_first_of("\r\n") != std::string::npos) {
      return InvalidArgument(std::string(name) + " contains a line break");
    }
  }
  return out;
}

std::string Join(const std::vector<std::string>& v, std::string_view sep) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += sep;
    s += v[i];
  }
  return s;
}

// Base64 wrapped at 76 columns, CRLF line ends.
std::string Base64Lines(std::string_view data) {
  std::string b64 = Base64Encode(data);
  std::string out;
  for (size_t i = 0; i < b64.size(); i += 76) out += b64.substr(i, 76) + "\r\n";
  return out;
}

bool IsAscii(std::string_view s) {
  for (unsigned char c : s) {
    if (c >= 0x80) return false;
  }
  return true;
}

// Python's email.header.Header(s, 'utf-8') encodes as an RFC 2047 base64 word.
std::string EncodeHeader(std::string_view s) { return "=?utf-8?b?" + Base64Encode(s) + "?="; }

// RFC 5322 date of `now` (UTC).
std::string RfcDate(TimestampUs now) {
  std::time_t t = static_cast<std::time_t>(now / 1000000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

std::string TextPart(std::string_view subtype, std::string_view text) {
  std::string part = "Content-Type: text/" + std::string(subtype) + "; charset=\"utf-8\"\r\n";
  part += "MIME-Version: 1.0\r\nContent-Transfer-Encoding: base64\r\n\r\n";
  part += Base64Lines(text);
  return part;
}

struct Upload {
  std::string data;
  size_t pos = 0;
};

size_t ReadUpload(char* buf, size_t size, size_t n, void* user) {
  auto* up = static_cast<Upload*>(user);
  size_t len = std::min(size * n, up->data.size() - up->pos);
  std::memcpy(buf, up->data.data() + up->pos, len);
  up->pos += len;
  return len;
}

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<const CancelToken*>(user)->cancelled.load() ? 1 : 0;
}

size_t Discard(char*, size_t size, size_t n, void*) { return size * n; }

class EmailAction final : public Action {
 public:
  explicit EmailAction(const StdActionOptions& options)
      : timeout_(options.smtp_timeout_seconds), clock_(options.clock) {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  }

  ActionResult Run(const ActionRequest& request, const CancelToken& cancel) override {
    BORA_CHECK(clock_ != nullptr) << "std.email runs without StdActionOptions::clock";
    try {
      return RunImpl(request, cancel);
    } catch (const std::exception& e) {
      return Fail(e.what());
    }
  }

 private:
  static ActionResult Fail(const std::string& msg) {
    return ActionResult::Error("Failed to send an email message: " + msg);
  }

  ActionResult RunImpl(const ActionRequest& request, const CancelToken& cancel) {
    const Json& in = request.input;
    const Json& from_v = Param(in, "from_addr");
    const Json& server_v = Param(in, "smtp_server");
    if (!from_v.is_string() || from_v.get_string().empty())
      return Fail("from_addr must be a string");
    if (!server_v.is_string() || server_v.get_string().empty())
      return Fail("smtp_server must be a string");
    std::string from(from_v.get_string());
    std::string server(server_v.get_string());
    if (from.find_first_of("\r\n") != std::string::npos ||
        server.find_first_of("\r\n/ ") != std::string::npos) {
      return Fail("from_addr or smtp_server contains an invalid character");
    }
    auto to = AddressList(Param(in, "to_addrs"), "to_addrs");
    auto cc = AddressList(Param(in, "cc_addrs"), "cc_addrs");
    auto bcc = AddressList(Param(in, "bcc_addrs"), "bcc_addrs");
    auto reply_to = AddressList(Param(in, "reply_to"), "reply_to");
    for (const auto* r : {&to, &cc, &bcc, &reply_to}) {
      if (!r->ok()) return Fail(r->status().message());
    }
    if (to->empty()) return Fail("to_addrs is empty");
    const Json& subject_v = Param(in, "subject");
    const Json& body_v = Param(in, "body");
    const Json& html_v = Param(in, "html_body");
    std::string subject = IsTruthy(subject_v) ? ToText(subject_v) : "<No subject>";
    std::string body = IsTruthy(body_v) ? ToText(body_v) : "<No body>";

    // The message, as Python's email package lays it out for Mistral.
    std::string msg;
    if (!IsTruthy(html_v)) {
      msg =
          "Content-Type: text/plain; charset=\"utf-8\"\r\nMIME-Version: 1.0\r\n"
          "Content-Transfer-Encoding: base64\r\n";
    } else {
      std::string boundary = "===============" + NewUuid() + "==";
      msg = "Content-Type: multipart/alternative; boundary=\"" + boundary +
            "\"\r\nMIME-Version: 1.0\r\n";
      body = "--" + boundary + "\r\n" + TextPart("plain", body) + "--" + boundary + "\r\n" +
             TextPart("html", ToText(html_v)) + "--" + boundary + "--\r\n";
    }
    msg += "Subject: " +
           (IsAscii(subject) && subject.find_first_of("\r\n") == std::string::npos
                ? subject
                : EncodeHeader(subject)) +
           "\r\n";
    msg += "From: " + from + "\r\n";
    msg += "Reply-To: " + Join(*reply_to, ", ") + "\r\n";
    msg += "To: " + Join(*to, ", ") + "\r\n";
    if (!cc->empty()) msg += "cc: " + Join(*cc, ", ") + "\r\n";
    msg += "Date: " + RfcDate(clock_->NowUs()) + "\r\n";
    msg += "\r\n";
    msg += IsTruthy(html_v) ? body : Base64Lines(body);

    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> easy(curl_easy_init(), &curl_easy_cleanup);
    if (!easy) return Fail("cannot create a curl handle");
    CURL* c = easy.get();
    char errbuf[CURL_ERROR_SIZE] = {};
    std::string url = "smtp://" + server;
    curl_slist* rcpt = nullptr;
    for (const auto* list : {&*cc, &*bcc, &*to}) {
      for (const std::string& a : *list) rcpt = curl_slist_append(rcpt, a.c_str());
    }
    std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> rcpt_holder(rcpt,
                                                                            &curl_slist_free_all);
    Upload upload{std::move(msg), 0};
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, from.c_str());
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, &ReadUpload);
    curl_easy_setopt(c, CURLOPT_READDATA, &upload);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &Discard);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, &OnProgress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &cancel);
    double timeout = EffectiveTimeoutSeconds(nullptr, request, timeout_);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout * 1000));
    const Json& password_v = Param(in, "smtp_password");
    std::string password;
    if (!password_v.is_null()) {
      password = ToText(password_v);
      curl_easy_setopt(c, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
      curl_easy_setopt(c, CURLOPT_USERNAME, from.c_str());
      curl_easy_setopt(c, CURLOPT_PASSWORD, password.c_str());
    }
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
      if (cancel.cancelled.load()) return ActionResult::Cancelled();
      return Fail(std::string(curl_easy_strerror(rc)) +
                  (errbuf[0] ? std::string(": ") + errbuf : ""));
    }
    return ActionResult::Success(nullptr);
  }

  double timeout_;
  const Clock* clock_;
};

}  // namespace

std::shared_ptr<Action> MakeEmailAction(const StdActionOptions& options) {
  return std::make_shared<EmailAction>(options);
}

}  // namespace bora::workers::internal
