// Reading request bodies: JSON parsing with errors that name the offending field (400).
#pragma once

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "domain/error.hpp"
#include "http/message.hpp"

namespace chatd::http {

// The body as a JSON object; invalid_input for malformed JSON or any other JSON type.
Result<boost::json::object> parse_object(std::string_view body);

// A required string member; invalid_input naming `field` when missing or not a string.
Result<std::string> required_string(const boost::json::object& o, std::string_view field);

// A required positive 64-bit integer member (ids).
Result<std::int64_t> required_id(const boost::json::object& o, std::string_view field);

// An optional integer query parameter; an error naming it when present but not an integer.
Result<std::optional<std::int64_t>> int_param(const Request& r, std::string_view name);
// `limit` of a listing: 1–`max`, `fallback` when absent.
Result<int> limit_param(const Request& r, int fallback, int max);
// The same, a positive id when present.
Result<std::optional<std::int64_t>> id_param(const Request& r, std::string_view name);

// A positive 64-bit id from text (path segments, query parameters).
Result<std::int64_t> parse_id(std::string_view text, std::string_view field);

}  // namespace chatd::http
