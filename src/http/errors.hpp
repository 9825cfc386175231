// The one table from chatd's error codes to HTTP (PROTOCOL §1), and the error body shape.
#pragma once

#include <boost/json/value.hpp>

#include "domain/error.hpp"
#include "http/message.hpp"

namespace chatd::http {

int status_of(errc code) noexcept;

// {"error": {"code", "message"}} with the mapped status (and Retry-After for 429).
Response error_response(const Error& e);
Response error_response(int status, std::string_view code, std::string_view message);

Response json_response(int status, const boost::json::value& body);
// 204 No Content.
Response no_content();

}  // namespace chatd::http
