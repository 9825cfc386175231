#include "http/router.hpp"

#include <spdlog/spdlog.h>


#include "http/errors.hpp"

namespace chatd::http {

namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  std::size_t start = 1;  // paths start with '/'
  while (start <= path.size()) {
    const auto slash = path.find('/', start);
    const auto end = slash == std::string_view::npos ? path.size() : slash;
    parts.push_back(path.substr(start, end - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return parts;
}

bool match(std::string_view pattern, std::string_view path, std::vector<std::string>& params) {
  const auto want = split_path(pattern);
  const auto got = split_path(path);
  if (want.size() != got.size()) return false;
  params.clear();
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (want[i].starts_with('{')) {
      if (got[i].empty()) return false;
      params.emplace_back(got[i]);
    } else if (want[i] != got[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string_view method_name(Method m) noexcept {
  switch (m) {
    case Method::get: return "GET";
    case Method::head: return "HEAD";
    case Method::post: return "POST";
    case Method::put: return "PUT";
    case Method::patch: return "PATCH";
    case Method::del: return "DELETE";
    case Method::options: return "OPTIONS";
    case Method::other: return "OTHER";
  }
  return "OTHER";
}

void Router::add(Method method, std::string pattern, Access access, Handler handler) {
  routes_.push_back(Route{method, std::move(pattern), access, std::move(handler)});
}

boost::asio::awaitable<Response> Router::dispatch(const Request& request) const {
  std::vector<std::string> params;
  const Route* found = nullptr;
  bool path_known = false;
  for (const auto& r : routes_) {
    if (!match(r.pattern, request.path, params)) continue;
    path_known = true;
    if (r.method == request.method) {
      found = &r;
      break;
    }
  }
  if (found == nullptr) {
    if (path_known) {
      auto resp = error_response(405, "method_not_allowed", "method not allowed on this path");
      std::string allow;
      for (const auto& r : routes_) {
        std::vector<std::string> ignored;
        if (!match(r.pattern, request.path, ignored)) continue;
        if (!allow.empty()) allow += ", ";
        allow += method_name(r.method);
      }
      resp.headers.emplace_back("Allow", allow);
      co_return resp;
    }
    co_return error_response(make_error(errc::not_found, "no such route"));
  }

  RequestContext ctx{request, std::move(params), 0};
  if (found->access != Access::open) {
    auto claims = tokens_.claims(auth::bearer_token(request.authorization));
    if (!claims) co_return error_response(claims.error());
    ctx.user = claims->user;
    ctx.token = std::move(*claims);
  }
  if (found->access == Access::admin) {
    Result<bool> admin = false;
    if (admin_check_) admin = co_await admin_check_(ctx.user);
    if (!admin) co_return error_response(admin.error());
    if (!*admin) co_return error_response(make_error(errc::forbidden, "admins only"));
  }
  try {
    auto r = co_await found->handler(ctx);
    r.route = found->pattern;
    co_return r;
  } catch (const std::exception& e) {
    spdlog::error("handler {} {} failed: {}", method_name(request.method), request.path, e.what());
  }
  co_return error_response(make_error(errc::internal, "internal error"));
}

}  // namespace chatd::http
