#include "http/router.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/parse.hpp>

#include <stdexcept>

#include "http/errors.hpp"

using namespace chatd;
using namespace chatd::http;
using boost::asio::awaitable;

namespace {

const auth::TokenService& tokens() {
  static auth::TokenService t({"router-test-secret-0123456789abcdef", std::chrono::seconds(60)});
  return t;
}

Response run(const Router& r, Request req) {
  boost::asio::io_context ioc;
  auto f = boost::asio::co_spawn(ioc, r.dispatch(req), boost::asio::use_future);
  ioc.run();
  return f.get();
}

Request req(Method m, std::string path, std::string auth = "") {
  Request r;
  r.method = m;
  r.path = std::move(path);
  r.authorization = std::move(auth);
  return r;
}

std::string code_of(const Response& r) {
  return std::string(boost::json::parse(r.body).at("error").at("code").as_string());
}

Router make_router() {
  Router router(tokens());
  router.add(Method::get, "/users/{id}", Access::authenticated,
             [](RequestContext& ctx) -> awaitable<Response> {
               Response r;
               r.body = ctx.params[0] + ":" + std::to_string(ctx.user);
               co_return r;
             });
  router.add(Method::post, "/open", Access::open, [](RequestContext&) -> awaitable<Response> {
    Response r;
    r.status = 201;
    co_return r;
  });
  router.add(Method::get, "/boom", Access::open,
             [](RequestContext&) -> awaitable<Response> {
               throw std::runtime_error("bug");
               co_return Response{};
             });
  return router;
}

}  // namespace

TEST(Router, MatchesPathParametersAndPassesTheAuthenticatedUser) {
  auto r = run(make_router(), req(Method::get, "/users/17", "Bearer " + tokens().issue(5)));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "17:5");
}

TEST(Router, AuthenticatedRoutesNeedAValidToken) {
  auto router = make_router();
  for (std::string auth : {"", "Bearer", "Bearer nonsense", "Basic dXNlcjpwYXNz"}) {
    auto r = run(router, req(Method::get, "/users/17", auth));
    EXPECT_EQ(r.status, 401) << auth;
    EXPECT_EQ(code_of(r), "unauthorized");
  }
}

TEST(Router, UnknownPathIs404AndWrongMethodIs405) {
  auto router = make_router();
  auto r = run(router, req(Method::get, "/nope"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(code_of(r), "not_found");
  r = run(router, req(Method::get, "/users/17/extra"));
  EXPECT_EQ(r.status, 404);
  r = run(router, req(Method::del, "/open"));
  EXPECT_EQ(r.status, 405);
}

TEST(Router, AHandlerExceptionIsA500WithoutDetails) {
  auto r = run(make_router(), req(Method::get, "/boom"));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(code_of(r), "internal");
  EXPECT_EQ(r.body.find("bug"), std::string::npos);
}

TEST(ErrorTable, EveryCodeHasItsStatus) {
  EXPECT_EQ(status_of(errc::invalid_input), 400);
  EXPECT_EQ(status_of(errc::unauthorized), 401);
  EXPECT_EQ(status_of(errc::invalid_credentials), 401);
  EXPECT_EQ(status_of(errc::forbidden), 403);
  EXPECT_EQ(status_of(errc::not_found), 404);
  EXPECT_EQ(status_of(errc::conflict), 409);
  EXPECT_EQ(status_of(errc::too_large), 413);
  EXPECT_EQ(status_of(errc::rate_limited), 429);
  EXPECT_EQ(status_of(errc::internal), 500);
  Error e = make_error(errc::rate_limited, "slow down");
  e.retry_after = 7;
  auto r = error_response(e);
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].first, "Retry-After");
  EXPECT_EQ(r.headers[0].second, "7");
  EXPECT_EQ(r.body, R"({"error":{"code":"rate_limited","message":"slow down"}})");
}
