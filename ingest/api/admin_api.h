#pragma once
// Operations on a server's own data (not Mistral's API):
//   POST /v2/admin/backup  {"directory": "/absolute/path"}: a consistent copy of the data directory
//                          of `bora serve --data-dir`, taken while it runs (RocksDB checkpoint:
//                          hard links where the copy is on the same file system). `bora serve
//                          --data-dir <copy>` starts from it. 201 {directory, bytes, created_at};
//                          400 when the server keeps nothing on disk (--in-memory, or distributed:
//                          back up Redis and Kafka instead) or the directory is not absolute; 409
//                          when it exists; 503 disk full. The path is on the server's host, written
//                          by the server's user: protect the API with --auth-token-file beyond
//                          loopback.
// `bora admin backup DIR` calls it.
//
// Ownership: the handlers keep a reference to the ApiContext. Thread-safety: any server thread.
#include "common/http/router.h"
#include "ingest/api/api_context.h"

namespace bora::api {

void RegisterAdminRoutes(http::Router& router, ApiContext& context);

}  // namespace bora::api
