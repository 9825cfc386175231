#include "http/errors.hpp"

#include <boost/json/serialize.hpp>

namespace chatd::http {

int status_of(errc code) noexcept {
  switch (code) {
    case errc::invalid_input: return 400;
    case errc::unauthorized:
    case errc::invalid_credentials: return 401;
    case errc::forbidden: return 403;
    case errc::not_found: return 404;
    case errc::conflict: return 409;
    case errc::too_large: return 413;
    case errc::rate_limited: return 429;
    case errc::unavailable: return 503;
    case errc::internal: return 500;
  }
  return 500;
}

Response error_response(int status, std::string_view code, std::string_view message) {
  boost::json::object err;
  err["code"] = code;
  err["message"] = message;
  boost::json::object body;
  body["error"] = std::move(err);
  return json_response(status, body);
}

Response error_response(const Error& e) {
  auto r = error_response(status_of(e.code), code_name(e.code), e.message);
  if (e.code == errc::rate_limited)
    r.headers.emplace_back("Retry-After", std::to_string(std::max(1, e.retry_after)));
  if (e.code == errc::unauthorized || e.code == errc::invalid_credentials)
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
  return r;
}

Response json_response(int status, const boost::json::value& body) {
  Response r;
  r.status = status;
  r.body = boost::json::serialize(body);
  return r;
}

Response no_content() {
  Response r;
  r.status = 204;
  return r;
}

}  // namespace chatd::http
