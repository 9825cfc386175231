// Beast's request header → chatd's http::Request (method, target, the headers handlers read):
// apart from server.cpp so that the HTTP fuzz target runs exactly the code the server runs.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/verb.hpp>

#include <string_view>

#include "http/message.hpp"

namespace chatd::net {

http::Method to_method(boost::beast::http::verb v);

// Fills path and query from an origin-form target; false when the target is not one.
bool parse_target(std::string_view target, http::Request& out);

// Method, path, query and the headers handlers use; false when the target is not origin-form.
bool read_head(const boost::beast::http::request_header<>& head, http::Request& out);

}  // namespace chatd::net
