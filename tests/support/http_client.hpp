// A small blocking HTTP client for end-to-end tests (Beast, one connection per request unless
// a Connection is kept).
#pragma once

#include <boost/json/value.hpp>

#include <cstdint>
#include <map>
#include <string>

namespace chatd::test {

struct HttpResult {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-cased names
  std::string body;
  boost::json::value json;  // null when the body is not JSON

  // json["error"]["code"], or "" when absent.
  std::string error_code() const;
};

HttpResult http_request(std::uint16_t port, const std::string& method, const std::string& target,
                        const std::string& body = "", const std::string& token = "",
                        const std::map<std::string, std::string>& headers = {});

// The same from the local address `source` (e.g. "127.0.0.3": clients on distinct loopback
// addresses); "" lets the kernel choose.
HttpResult http_request_from(const std::string& source, std::uint16_t port,
                             const std::string& method, const std::string& target,
                             const std::string& body = "", const std::string& token = "",
                             const std::map<std::string, std::string>& headers = {});

// The same to the server at `host` (a chatd in a network namespace of a test).
HttpResult http_request_at(const std::string& host, std::uint16_t port, const std::string& method,
                           const std::string& target, const std::string& body = "",
                           const std::string& token = "",
                           const std::map<std::string, std::string>& headers = {});

// Writes raw bytes to the server and returns everything it answers until it closes (or the
// timeout passes); for malformed-request tests.
std::string raw_exchange(std::uint16_t port, const std::string& bytes, int timeout_ms = 5000,
                         bool half_close = false);

}  // namespace chatd::test
