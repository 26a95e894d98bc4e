#include "ingest/api/services_api.h"

#include <unistd.h>

#include "ingest/api/mistral_format.h"

namespace bora::api {

namespace {

// Mistral's process identifier: "<hostname>_<pid>".
std::string ProcessIdentifier() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = 0;
  return std::string(host) + "_" + std::to_string(getpid());
}

}  // namespace

void RegisterServicesRoutes(http::Router& router, ApiContext& context) {
  router.Add("GET", "/v2/services", [&context](const http::HttpRequest&, const http::PathParams&) {
    const std::string name = ProcessIdentifier();
    JsonArray services;
    for (const auto& group : context.service_groups) {
      JsonObject s;
      s["name"] = name;
      s["type"] = group;
      services.push_back(std::move(s));
    }
    JsonObject out;
    out["services"] = std::move(services);
    return JsonReply(200, out);
  });
}

}  // namespace bora::api
