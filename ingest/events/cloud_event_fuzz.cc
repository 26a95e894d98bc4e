// libFuzzer target for the event decoders and webhook adapters (built with -DBORA_FUZZ=ON and
// clang). The input's first byte picks the decoder; every decoder must return a Result, never crash
// or hang.
#include <cstddef>
#include <cstdint>
#include <string>

#include "ingest/events/cloud_event.h"
#include "ingest/events/webhooks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bora::events;
  if (size == 0) return 0;
  std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
  ParseLimits limits;
  limits.max_events = 16;
  switch (data[0] % 6) {
    case 0:
      (void)ParseStructured(body, limits);
      break;
    case 1:
      (void)ParseBatch(body, limits);
      break;
    case 2: {
      // Headers from the first line ("name: value;name: value"), body after it.
      Headers headers = {{"ce-specversion", "1.0"}};
      size_t nl = body.find('\n');
      std::string line = body.substr(0, nl);
      size_t pos = 0;
      while (pos < line.size()) {
        size_t end = line.find(';', pos);
        std::string item =
            line.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
        size_t colon = item.find(':');
        if (colon != std::string::npos) headers[item.substr(0, colon)] = item.substr(colon + 1);
        if (end == std::string::npos) break;
        pos = end + 1;
      }
      (void)ParseHttpEvents(headers, nl == std::string::npos ? "" : body.substr(nl + 1), limits);
      break;
    }
    case 3:
      (void)DecodeKafkaMessage({}, body, limits);
      break;
    case 4: {
      WebhookConfig c;
      c.name = "f";
      c.format = WebhookFormat::kAlertmanager;
      (void)WebhookToEvents(c, {}, body, 0, limits);
      c.format = WebhookFormat::kAodh;
      (void)WebhookToEvents(c, {}, body, 0, limits);
      break;
    }
    case 5:
      (void)Base64Decode(body);
      (void)IsRfc3339(body);
      break;
  }
  return 0;
}
