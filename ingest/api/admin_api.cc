#include "ingest/api/admin_api.h"

#include <filesystem>

#include "common/disk/disk_db.h"
#include "common/log.h"
#include "ingest/api/mistral_format.h"

namespace bora::api {

namespace {

http::HttpResponse Backup(ApiContext& ctx, const http::HttpRequest& request) {
  if (ctx.disk == nullptr) {
    return Fault(400,
                 "this server keeps no data directory (bora serve --in-memory, or a distributed "
                 "deployment: back up Redis and Kafka): nothing to back up");
  }
  auto body = ParseJson(request.body);
  if (!body.ok() || !body->is_object()) {
    return Fault(400, "the body must be a JSON object {\"directory\": \"/absolute/path\"}");
  }
  const auto* dir = body->as_object().if_contains("directory");
  if (dir == nullptr || !dir->is_string() || dir->as_string().empty()) {
    return Fault(400, "'directory' (an absolute path on the server's host) is required");
  }
  const std::filesystem::path path(std::string(dir->as_string()));
  if (!path.is_absolute()) {
    return Fault(400, "'directory' must be an absolute path, not '" + path.string() + "'");
  }
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    return Fault(409, "backup directory " + path.string() + " exists: choose a new one");
  }
  if (!std::filesystem::is_directory(path.parent_path(), ec)) {
    return Fault(400, "the parent of " + path.string() + " is not a directory");
  }
  if (Status s = ctx.disk->Checkpoint(path.string()); !s.ok()) return FaultFrom(s);
  uint64_t bytes = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(path, ec)) {
    if (e.is_regular_file(ec)) bytes += e.file_size(ec);
  }
  BORA_LOG_INFO("backup of {} written to {} ({} bytes)", ctx.disk->path(), path.string(), bytes);
  JsonObject out;
  out["directory"] = path.string();
  out["bytes"] = bytes;
  out["created_at"] = MistralTime(ctx.Now());
  return JsonReply(201, out);
}

}  // namespace

void RegisterAdminRoutes(http::Router& router, ApiContext& context) {
  router.Add("POST", "/v2/admin/backup",
             [&context](const http::HttpRequest& r, const http::PathParams&) {
               return Backup(context, r);
             });
}

}  // namespace bora::api
