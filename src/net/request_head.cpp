#include "net/request_head.hpp"

#include <boost/url/parse.hpp>

namespace chatd::net {

namespace bhttp = boost::beast::http;

http::Method to_method(bhttp::verb v) {
  switch (v) {
    case bhttp::verb::get: return http::Method::get;
    case bhttp::verb::head: return http::Method::head;
    case bhttp::verb::post: return http::Method::post;
    case bhttp::verb::put: return http::Method::put;
    case bhttp::verb::patch: return http::Method::patch;
    case bhttp::verb::delete_: return http::Method::del;
    case bhttp::verb::options: return http::Method::options;
    default: return http::Method::other;
  }
}

bool parse_target(std::string_view target, http::Request& out) {
  auto url = boost::urls::parse_origin_form(target);
  if (!url) return false;
  out.path = url->path();
  if (out.path.empty() || out.path.front() != '/') return false;
  out.query.clear();
  for (auto p : url->params()) out.query.emplace_back(p.key, p.has_value ? p.value : "");
  return true;
}

bool read_head(const bhttp::request_header<>& head, http::Request& out) {
  out.method = to_method(head.method());
  out.content_type = std::string(head[bhttp::field::content_type]);
  out.authorization = std::string(head[bhttp::field::authorization]);
  out.if_none_match = std::string(head[bhttp::field::if_none_match]);
  out.range = std::string(head[bhttp::field::range]);
  return parse_target(head.target(), out);
}

}  // namespace chatd::net
