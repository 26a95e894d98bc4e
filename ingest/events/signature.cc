#include "ingest/events/signature.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <vector>

#include "common/ids.h"

namespace bora::events {
namespace {

std::string KeyFromSecret(std::string_view secret) {
  constexpr std::string_view kPrefix = "whsec_";
  if (secret.substr(0, kPrefix.size()) == kPrefix) {
    auto decoded = Base64Decode(secret.substr(kPrefix.size()));
    if (decoded) return *decoded;
  }
  return std::string(secret);
}

std::string HeaderOf(const Headers& headers, std::string_view name) {
  auto it = headers.find(std::string(name));
  return it == headers.end() ? std::string() : it->second;
}

}  // namespace

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string HexEncode(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string SignStandardWebhook(std::string_view secret, std::string_view id,
                                int64_t timestamp_seconds, std::string_view body) {
  std::string payload =
      std::string(id) + "." + std::to_string(timestamp_seconds) + "." + std::string(body);
  return "v1," + Base64Encode(HmacSha256(KeyFromSecret(secret), payload));
}

std::string SignGitHub(std::string_view secret, std::string_view body) {
  return "sha256=" + HexEncode(HmacSha256(secret, body));
}

Status VerifyStandardWebhook(std::string_view secret, const Headers& headers, std::string_view body,
                             TimestampUs now, std::chrono::seconds tolerance) {
  std::string id = HeaderOf(headers, "webhook-id");
  std::string timestamp = HeaderOf(headers, "webhook-timestamp");
  std::string signatures = HeaderOf(headers, "webhook-signature");
  if (id.empty() || timestamp.empty() || signatures.empty())
    return PermissionDenied(
        "missing signature headers (webhook-id, webhook-timestamp and webhook-signature are "
        "required)");
  // Strict: an optional '-' and digits that fit int64 (no spaces, no '+', no overflow).
  int64_t ts = 0;
  const char* first = timestamp.data();
  const char* last = first + timestamp.size();
  auto [ptr, ec] = std::from_chars(first, last, ts);
  if (ec != std::errc() || ptr != last)
    return PermissionDenied("webhook-timestamp is not a Unix time in seconds");
  // |now - ts| in unsigned arithmetic: exact for any two int64 values, so no overflow.
  const int64_t now_s = now / 1'000'000;
  const uint64_t age = now_s >= ts ? static_cast<uint64_t>(now_s) - static_cast<uint64_t>(ts)
                                   : static_cast<uint64_t>(ts) - static_cast<uint64_t>(now_s);
  const uint64_t allowed = static_cast<uint64_t>(std::max<int64_t>(tolerance.count(), 0));
  if (age > allowed)
    return PermissionDenied("webhook-timestamp is outside the " +
                            std::to_string(tolerance.count()) + " s tolerance");
  std::string expected = SignStandardWebhook(secret, id, ts, body);
  bool matched = false;
  size_t pos = 0;
  while (pos <= signatures.size()) {
    size_t next = signatures.find(' ', pos);
    std::string_view candidate =
        std::string_view(signatures)
            .substr(pos, next == std::string::npos ? std::string::npos : next - pos);
    // Repeated headers reach us joined with ", ": drop the joining comma.
    if (!candidate.empty() && candidate.back() == ',') candidate.remove_suffix(1);
    if (!candidate.empty() && ConstantTimeEquals(candidate, expected))
      matched = true;  // no early exit
    if (next == std::string::npos) break;
    pos = next + 1;
  }
  if (!matched) return PermissionDenied("webhook-signature does not match");
  return Status::Ok();
}

Status VerifyGitHubSignature(std::string_view secret, const Headers& headers,
                             std::string_view body) {
  std::string header = HeaderOf(headers, "x-hub-signature-256");
  if (header.empty()) return PermissionDenied("missing signature header x-hub-signature-256");
  if (header.rfind("sha256=", 0) != 0)
    return PermissionDenied("x-hub-signature-256 must be 'sha256=<hex digest>'");
  std::string given = header.substr(7);
  for (char& c : given) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!ConstantTimeEquals(given, HexEncode(HmacSha256(secret, body))))
    return PermissionDenied("x-hub-signature-256 does not match");
  return Status::Ok();
}

Status VerifySignature(SignatureStyle style, std::string_view secret, const Headers& headers,
                       std::string_view body, TimestampUs now, std::chrono::seconds tolerance) {
  return style == SignatureStyle::kGitHub
             ? VerifyGitHubSignature(secret, headers, body)
             : VerifyStandardWebhook(secret, headers, body, now, tolerance);
}

std::string NameBasedUuid(std::string_view name) {
  // Namespace: a fixed UUID for Bora events.
  return bora::NameBasedUuid("b07a0000-e7e1-5000-8000-000000000001", name);
}

}  // namespace bora::events
