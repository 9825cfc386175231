// chatd's own view of an HTTP exchange: net/ turns Beast messages into these, so handlers and
// the router compile without Beast and are testable without sockets.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "domain/error.hpp"

namespace chatd::http {

// A request body the transport streamed to a temporary file (POST /attachments).
struct UploadedBody {
  std::string temp_path;
  std::int64_t size = 0;
  std::string sha256;  // hex
  std::string head;    // the first bytes
};

// A response body the transport streams from a file: `length` bytes from `offset`.
struct FileBody {
  std::string path;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};

// A response body made as it is sent (chunked), so a large one is never whole in memory: next()
// gives the next piece, nullopt at the end. An error ends the connection without the last
// chunk, so the client sees a truncated body rather than a complete-looking one.
class BodyStream {
 public:
  virtual ~BodyStream() = default;
  virtual boost::asio::awaitable<Result<std::optional<std::string>>> next() = 0;
};

enum class Method { get, head, post, put, patch, del, options, other };

struct Request {
  Method method = Method::get;
  std::string path;  // decoded path, without the query
  std::vector<std::pair<std::string, std::string>> query;  // decoded parameters
  std::string body;
  std::string content_type;
  std::string authorization;
  std::string if_none_match;
  std::string range;
  std::optional<UploadedBody> upload;
  std::string remote_address;

  // The first value of a query parameter, or nullptr.
  const std::string* query_param(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<FileBody> file;  // instead of `body`
  std::shared_ptr<BodyStream> stream;  // instead of `body`
  std::string route;             // the route pattern that answered (for metrics)
};

}  // namespace chatd::http
