#include "http/json_body.hpp"

#include <boost/json/parse.hpp>

#include <charconv>

#include "validation/validation.hpp"

namespace chatd::http {

namespace json = boost::json;

Result<json::object> parse_object(std::string_view body) {
  if (!validation::is_valid_utf8(body))
    return make_error(errc::invalid_input, "body is not valid UTF-8");
  boost::system::error_code ec;
  // Bounded nesting: a body of 64 KiB of '[' must not recurse deeply.
  json::parse_options opts;
  opts.max_depth = 32;
  auto v = json::parse(body, ec, {}, opts);
  if (ec) return make_error(errc::invalid_input, "body is not valid JSON");
  if (!v.is_object()) return make_error(errc::invalid_input, "body must be a JSON object");
  return std::move(v.as_object());
}

Result<std::string> required_string(const json::object& o, std::string_view field) {
  const auto* v = o.if_contains(field);
  if (v == nullptr || v->is_null())
    return make_error(errc::invalid_input, std::string(field) + " is required");
  if (!v->is_string())
    return make_error(errc::invalid_input, std::string(field) + " must be a string");
  return std::string(v->get_string());
}

Result<std::int64_t> required_id(const json::object& o, std::string_view field) {
  const auto* v = o.if_contains(field);
  if (v == nullptr || v->is_null())
    return make_error(errc::invalid_input, std::string(field) + " is required");
  if (v->is_int64() && v->get_int64() > 0) return v->get_int64();
  if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX) &&
      v->get_uint64() > 0)
    return static_cast<std::int64_t>(v->get_uint64());
  return make_error(errc::invalid_input, std::string(field) + " must be a positive integer id");
}

Result<std::int64_t> parse_id(std::string_view text, std::string_view field) {
  std::int64_t v = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || p != text.data() + text.size() || v <= 0)
    return make_error(errc::invalid_input, std::string(field) + " must be a positive integer id");
  return v;
}

// An optional integer query parameter; an error naming it when present but not an integer.
Result<std::optional<std::int64_t>> int_param(const Request& r, std::string_view name) {
  const auto* v = r.query_param(name);
  if (v == nullptr) return std::optional<std::int64_t>{};
  std::int64_t n = 0;
  const auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc{} || p != v->data() + v->size())
    return make_error(errc::invalid_input, std::string(name) + " must be an integer");
  return std::optional<std::int64_t>{n};
}

Result<std::optional<std::int64_t>> id_param(const Request& r, std::string_view name) {
  auto v = int_param(r, name);
  if (!v) return v.error();
  if (*v && **v <= 0)
    return make_error(errc::invalid_input, std::string(name) + " must be a positive integer id");
  return v;
}

Result<int> limit_param(const Request& r, int fallback, int max) {
  auto l = int_param(r, "limit");
  if (!l) return l.error();
  if (!*l) return fallback;
  if (**l < 1 || **l > max)
    return make_error(errc::invalid_input, "limit must be 1-" + std::to_string(max));
  return static_cast<int>(**l);
}

}  // namespace chatd::http
