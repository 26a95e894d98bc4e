#pragma once
// The HTTP side of the `bora` REST client: one Client per command run talks to the API at --url (or
// $BORA_URL, default http://127.0.0.1:8989) with libcurl, optionally with a bearer token (--token
// or $BORA_TOKEN), and prints replies in the chosen OutputFormat: a python-mistralclient-like
// table, the server's JSON as sent, or that JSON as YAML.
//
// Exit codes its helpers return: 0 ok; 1 the server refused (its faultstring, or "<what> not
// found" naming what the user typed, is printed); 2 bad local input (file, JSON); 3 the server
// cannot be reached.
//
// Thread-safety: a Client is used from one thread (main); requests block.
#include <chrono>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cli/client_output.h"
#include "common/json.h"

namespace bora::cli {

struct Connection {
  std::string url;    // "" = $BORA_URL, else http://127.0.0.1:8989; a trailing /v2 is accepted
  std::string token;  // "" = $BORA_TOKEN
  OutputFormat format = OutputFormat::kTable;
};

struct Reply {
  long status = 0;
  std::string body;
};

// How a streamed GET ended (Client::Stream).
struct StreamOutcome {
  enum class End { kClosed, kStopped, kTimedOut, kFailed };
  End end = End::kFailed;
  long status = 0;    // 0: no answer
  std::string error;  // kFailed: the transport's message
};

class Client {
 public:
  Client(Connection conn, std::ostream& out, std::ostream& err);

  std::ostream& out() { return out_; }
  std::ostream& err() { return err_; }
  OutputFormat format() const { return conn_.format; }

  // Performs one request. On a transport failure prints a message and returns nullopt (exit code
  // 3).
  std::optional<Reply> Call(const std::string& method, const std::string& path,
                            const std::string& body = "",
                            const std::string& content_type = "application/json");

  // GET `path` as a stream (Server-Sent Events): `on_data` gets the body's bytes of a 2xx answer
  // as they arrive and returns false to stop reading; `abandon` is asked on each chunk and about
  // once a second in between, true stops too (kStopped). `timeout` bounds the whole transfer.
  StreamOutcome Stream(const std::string& path, std::chrono::milliseconds timeout,
                       const std::function<bool(std::string_view)>& on_data,
                       const std::function<bool()>& abandon);

  // Prints the error of a failed reply (status >= 400) and returns 1; 0 otherwise. A 404 with a
  // `subject` ("workbook 'my_wb'") prints "<subject> not found".
  int CheckError(const Reply& r, const std::string& subject = "");

  // The usual ending: nullopt -> 3; error -> 1; JSON -> the body as sent; YAML -> the body as
  // YAML; table -> `render(parsed body)`.
  int Finish(const std::optional<Reply>& r, const std::function<void(const Json&)>& render,
             const std::string& subject = "");
  // GET a collection and print the `collection` array's items as a table.
  int List(const std::string& path, const std::string& collection,
           const std::vector<Column>& columns, const std::string& subject = "");
  // Prints a record reply as a Field/Value table.
  int Show(const std::optional<Reply>& r, const std::vector<Column>& columns,
           const std::string& subject = "");
  // DELETE `path`; prints "Request to delete <subject> has been accepted.".
  int Delete(const std::string& path, const std::string& subject);
  // GET `path` into `*body` (errors printed); the exit code.
  int GetJson(const std::string& path, const std::string& subject, Json* body);
  // Prints a value in the chosen format (table: a JSON-like indented text, as mistralclient
  // prints inputs and outputs).
  void PrintValue(const Json& v);

 private:
  Connection conn_;
  std::ostream& out_;
  std::ostream& err_;
};

// `segment` percent-encoded for a path segment or query value (libcurl's escaping).
std::string Escape(const std::string& segment);
// `path` + "?k=v&..." of the pairs whose value is not empty, escaped.
std::string WithQuery(std::string path,
                      const std::vector<std::pair<std::string, std::string>>& query);

// The text of file `path`, or nullopt after printing "cannot read <what> file <path>: <reason>".
std::optional<std::string> ReadTextFile(const std::string& path, const std::string& what,
                                        std::ostream& err);
// JSON text, or @path to read it from a file, given to `flag` (--input). With `object_only` it must
// be an object. Prints the problem naming the flag (and file, and the parser's line and column)
// and returns nullopt (exit code 2).
std::optional<Json> ReadJsonArg(const std::string& text, const std::string& flag, std::ostream& err,
                                bool object_only = true);

// Sets `(*body)[key]` to the JSON argument `text` (or `fallback` when `text` is empty; neither:
// nothing set) as a JSON-encoded string, as python-mistralclient sends json-typed fields. False
// after ReadJsonArg printed why it is not valid.
bool SetJsonArg(JsonObject* body, const char* key, const std::string& text, const std::string& flag,
                std::ostream& err, const char* fallback = nullptr, bool object_only = true);

// The JSON-typed field `key` of `o` (sent as a JSON string by the API) parsed; the string itself
// when it is not JSON; null when absent.
Json JsonField(const JsonObject& o, const std::string& key);

}  // namespace bora::cli
