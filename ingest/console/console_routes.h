#pragma once
// The web console at /ui: its built files and, for every other /ui path, index.html (the console
// routes on the client, so /ui/executions/{id} is a link that can be shared). Every response
// carries a Content-Security-Policy that lets the page load only this server's own scripts, styles
// and workers and talk only to this server; results shown by the page are user data and are never
// run.
//
// Threading: the routes are stateless; the files are immutable.
#include <span>

#include "common/http/router.h"
#include "ingest/console/console_files.h"

namespace bora::console {

// The policy sent with every console response.
inline constexpr const char* kContentSecurityPolicy =
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";

// GET /ui and GET /ui/{path*} over `files`, which must hold "index.html". A path under assets/ that
// is not a file is 404 (never index.html: a missing script must not load as HTML).
void RegisterConsoleRoutes(http::Router& router, std::span<const ConsoleFile> files);

}  // namespace bora::console
