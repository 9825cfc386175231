// chatd's own view of an HTTP exchange: net/ turns Beast messages into these, so handlers and
// the router compile without Beast and are testable without sockets.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chatd::http {

enum class Method { get, head, post, put, patch, del, options, other };

struct Request {
  Method method = Method::get;
  std::string path;  // decoded path, without the query
  std::vector<std::pair<std::string, std::string>> query;  // decoded parameters
  std::string body;
  std::string content_type;
  std::string authorization;
  std::string remote_address;

  // The first value of a query parameter, or nullptr.
  const std::string* query_param(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

}  // namespace chatd::http
