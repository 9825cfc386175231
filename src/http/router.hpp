// Routes (method, path pattern) to handlers. Patterns use {name} segments; an authenticated
// route gets the caller's user id from the token here, so handlers never parse headers.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <string>
#include <vector>

#include "auth/token_service.hpp"
#include "http/message.hpp"

namespace chatd::http {

struct RequestContext {
  const Request& request;
  std::vector<std::string> params;  // the {name} segments, in order
  UserId user = 0;                  // set on authenticated routes
  auth::TokenClaims token;          // the presented token, on authenticated routes
};

using Handler = std::function<boost::asio::awaitable<Response>(RequestContext&)>;

// admin: authenticated, and the caller is an admin (PROTOCOL §10); anyone else gets 403
// before the handler runs, so a non-admin never learns whether a target exists.
enum class Access { open, authenticated, admin };

// Whether a user is an admin now (roles change at run time: asked on every admin request).
using AdminCheck = std::function<boost::asio::awaitable<Result<bool>>(UserId)>;

struct Route {
  Method method;
  std::string pattern;
  Access access;
  Handler handler;
};

class Router {
 public:
  explicit Router(const auth::TokenService& tokens) : tokens_(tokens) {}

  void add(Method method, std::string pattern, Access access, Handler handler);

  // Never throws: a handler's exception becomes a logged 500.
  boost::asio::awaitable<Response> dispatch(const Request& request) const;

  const std::vector<Route>& routes() const noexcept { return routes_; }
  void set_admin_check(AdminCheck check) { admin_check_ = std::move(check); }

 private:
  const auth::TokenService& tokens_;
  AdminCheck admin_check_;
  std::vector<Route> routes_;
};

std::string_view method_name(Method m) noexcept;

}  // namespace chatd::http
