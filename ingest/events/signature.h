#pragma once
// Webhook signature checks (HMAC-SHA256, constant-time compare, OpenSSL):
//  - Standard Webhooks (https://www.standardwebhooks.com): headers `webhook-id`,
//    `webhook-timestamp` (Unix seconds) and
//    `webhook-signature: v1,<base64 HMAC-SHA256(key, id "." timestamp "." body)>` (several
//    space-separated signatures allowed; one match is enough); the timestamp must be within
//    `tolerance` of now. A secret `whsec_<base64>` is base64-decoded to the key; any other secret
//    is used as raw bytes.
//  - GitHub: `x-hub-signature-256: sha256=<hex HMAC-SHA256(secret, body)>`.
// Failures are kPermissionDenied with the reason (missing header, bad format, mismatch, expired);
// the REST layer answers 401.
//
// Thread-safety: pure functions.
#include <chrono>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"
#include "ingest/events/cloud_event.h"

namespace bora::events {

enum class SignatureStyle { kStandard, kGitHub };

// Raw 32-byte HMAC-SHA256.
std::string HmacSha256(std::string_view key, std::string_view data);
std::string HexEncode(std::string_view bytes);
// Constant-time equality (CRYPTO_memcmp); different lengths compare unequal.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

Status VerifyStandardWebhook(std::string_view secret, const Headers& headers, std::string_view body,
                             TimestampUs now,
                             std::chrono::seconds tolerance = std::chrono::minutes(5));
Status VerifyGitHubSignature(std::string_view secret, const Headers& headers,
                             std::string_view body);
Status VerifySignature(SignatureStyle style, std::string_view secret, const Headers& headers,
                       std::string_view body, TimestampUs now,
                       std::chrono::seconds tolerance = std::chrono::minutes(5));

// The header values a sender computes (for tests and clients).
std::string SignStandardWebhook(std::string_view secret, std::string_view id,
                                int64_t timestamp_seconds,
                                std::string_view body);                  // "v1,<base64>"
std::string SignGitHub(std::string_view secret, std::string_view body);  // "sha256=<hex>"

// A name-based (version 5, SHA-1) UUID of `name` in Bora's event namespace: stable ids for
// deduplicated events and the executions they start.
std::string NameBasedUuid(std::string_view name);

}  // namespace bora::events
