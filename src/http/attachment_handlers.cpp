#include "http/attachment_handlers.hpp"

#include <charconv>

#include "codec/entities.hpp"
#include "http/errors.hpp"

namespace chatd::http {

using boost::asio::awaitable;

namespace {

std::optional<std::uint64_t> number(std::string_view s) {
  std::uint64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// RFC 7232: a strong comparison against our one ETag, or "*".
bool matches(std::string_view if_none_match, std::string_view etag) {
  while (!if_none_match.empty()) {
    const auto comma = if_none_match.find(',');
    auto item = if_none_match.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.starts_with("W/")) item.remove_prefix(2);
    if (item == "*" || item == etag) return true;
    if (comma == std::string_view::npos) break;
    if_none_match.remove_prefix(comma + 1);
  }
  return false;
}

// filename*=UTF-8''... (RFC 6266/5987): every byte outside the safe set percent-encoded.
std::string disposition(std::string_view filename) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "attachment; filename*=UTF-8''";
  for (unsigned char c : filename) {
    if (std::isalnum(c) || c == '.' || c == '-' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

Response created(const Attachment& a) {
  boost::json::object body;
  body["attachment"] = codec::to_json(a);
  return json_response(201, body);
}

Response download(const StoredFile& f, const Request& req) {
  const auto& a = f.attachment;
  const std::string etag = "\"" + a.sha256 + "\"";
  Response r;
  r.content_type = a.content_type;
  r.headers = {{"ETag", etag},
               {"Accept-Ranges", "bytes"},
               {"Cache-Control", "private, max-age=31536000, immutable"},
               {"Content-Disposition", disposition(a.filename)}};
  if (!req.if_none_match.empty() && matches(req.if_none_match, etag)) {
    r.status = 304;
    return r;
  }
  const auto size = static_cast<std::uint64_t>(a.size);
  FileBody body{f.path, 0, size};
  if (auto range = parse_range(req.range, size)) {
    if (!range->satisfiable) {
      auto e = error_response(416, "range_not_satisfiable", "range outside the attachment");
      e.headers.emplace_back("Content-Range", "bytes */" + std::to_string(size));
      return e;
    }
    r.status = 206;
    body.offset = range->first;
    body.length = range->length;
    r.headers.emplace_back("Content-Range", "bytes " + std::to_string(range->first) + "-" +
                                                std::to_string(range->first + range->length - 1) +
                                                "/" + std::to_string(size));
  }
  r.file = std::move(body);
  return r;
}

}  // namespace

std::optional<ByteRange> parse_range(std::string_view header, std::uint64_t size) {
  if (!header.starts_with("bytes=")) return std::nullopt;
  header.remove_prefix(6);
  if (header.find(',') != std::string_view::npos) return std::nullopt;  // several: whole body
  const auto dash = header.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  const auto first = header.substr(0, dash), last = header.substr(dash + 1);
  if (first.empty()) {  // the last N bytes
    auto n = number(last);
    if (!n) return std::nullopt;
    if (*n == 0 || size == 0) return ByteRange{0, 0, false};
    const auto len = std::min(*n, size);
    return ByteRange{size - len, len, true};
  }
  auto from = number(first);
  if (!from) return std::nullopt;
  std::uint64_t to = size == 0 ? 0 : size - 1;
  if (!last.empty()) {
    auto l = number(last);
    if (!l || *l < *from) return std::nullopt;
    to = std::min(*l, to);
  }
  if (*from >= size) return ByteRange{0, 0, false};
  return ByteRange{*from, to - *from + 1, true};
}

void add_attachment_routes(Router& router, AttachmentService& attachments) {
  router.add(Method::post, "/attachments", Access::authenticated,
             [&attachments](RequestContext& ctx) -> awaitable<Response> {
               const auto& req = ctx.request;
               if (!req.upload)
                 co_return error_response(
                     make_error(errc::invalid_input, "the attachment's bytes are the body"));
               const auto* name = req.query_param("filename");
               if (name == nullptr)
                 co_return error_response(make_error(errc::invalid_input, "filename is required"));
               Upload upload{req.upload->temp_path, req.upload->size, req.upload->sha256,
                             req.upload->head};
               auto stored = co_await attachments.store(ctx.user, *name, std::move(upload));
               if (!stored) co_return error_response(stored.error());
               co_return created(*stored);
             });
  router.add(Method::get, "/attachments/{id}", Access::authenticated,
             [&attachments](RequestContext& ctx) -> awaitable<Response> {
               auto id = number(ctx.params[0]);
               if (!id || *id == 0 || *id > static_cast<std::uint64_t>(INT64_MAX))
                 co_return error_response(make_error(errc::not_found, "no such attachment"));
               auto found = co_await attachments.open(ctx.user, static_cast<std::int64_t>(*id));
               if (!found) co_return error_response(found.error());
               if (!*found)
                 co_return error_response(make_error(errc::not_found, "no such attachment"));
               co_return download(**found, ctx.request);
             });
}

}  // namespace chatd::http
