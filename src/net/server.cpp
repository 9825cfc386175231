#include "net/server.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/url/parse.hpp>

#include "auth/token_service.hpp"
#include "domain/metrics.hpp"
#include "http/errors.hpp"
#include "http/router.hpp"
#include "net/ws_session.hpp"

namespace chatd::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::awaitable;
using asio::ip::tcp;
using asio::use_awaitable;

struct Server::State {
  State(asio::io_context& c, ServerOptions o, const http::Router& r, const auth::TokenService& t,
        WsDeps* w)
      : ioc(c), options(std::move(o)), router(r), tokens(t), ws(w), acceptor(c) {}
  asio::io_context& ioc;
  ServerOptions options;
  const http::Router& router;
  const auth::TokenService& tokens;
  WsDeps* ws;
  tcp::acceptor acceptor;
  std::atomic<bool> stopping{false};
  std::atomic<std::size_t> in_flight{0};
  std::uint16_t port = 0;
};

namespace {

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

// Fills path and query from an origin-form target; false when the target is not one.
bool parse_target(std::string_view target, http::Request& out) {
  auto url = boost::urls::parse_origin_form(target);
  if (!url) return false;
  out.path = url->path();
  if (out.path.empty() || out.path.front() != '/') return false;
  for (auto p : url->params()) out.query.emplace_back(p.key, p.has_value ? p.value : "");
  return true;
}

bhttp::response<bhttp::string_body> to_beast(http::Response r, unsigned version, bool keep_alive) {
  bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(r.status), version};
  res.set(bhttp::field::server, "chatd");
  if (!r.body.empty()) res.set(bhttp::field::content_type, r.content_type);
  for (auto& [k, v] : r.headers) res.set(k, v);
  res.body() = std::move(r.body);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

// A reply to a request that could not be parsed; the connection is closed after it.
// `r` by reference: it is a temporary of the caller's co_await expression, alive until resumed.
awaitable<void> reply_and_close(beast::tcp_stream& stream, const http::Response& r) {
  auto res = to_beast(r, 11, false);
  boost::system::error_code ec;
  stream.expires_after(std::chrono::seconds(5));
  co_await bhttp::async_write(stream, res, asio::redirect_error(use_awaitable, ec));
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

awaitable<void> serve(std::shared_ptr<Server::State> state, tcp::socket socket) {
  const auto& opts = state->options;
  boost::system::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  const auto remote = socket.remote_endpoint(ec);
  const std::string remote_address = ec ? "unknown" : remote.address().to_string();
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  bool first = true;

  while (!state->stopping) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(opts.max_header_bytes));
    parser.body_limit(opts.max_body_bytes);

    // Waiting for the next request on a kept-alive connection may take the idle timeout; once
    // it starts, the whole request must arrive within the request timeout (slow-loris guard).
    stream.expires_after(first ? opts.request_timeout : opts.idle_timeout);
    co_await bhttp::async_read_header(stream, buffer, parser,
                                      asio::redirect_error(use_awaitable, ec));
    if (!ec && !parser.is_done()) {
      stream.expires_after(opts.request_timeout);
      co_await bhttp::async_read(stream, buffer, parser, asio::redirect_error(use_awaitable, ec));
    }
    first = false;
    if (ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
        ec == beast::error::timeout || ec == asio::error::connection_reset ||
        ec == asio::error::operation_aborted)
      break;
    if (ec == bhttp::error::body_limit) {
      co_await reply_and_close(stream, http::error_response(make_error(
                                           errc::too_large, "request body over the limit")));
      break;
    }
    if (ec == bhttp::error::header_limit) {
      co_await reply_and_close(stream,
                               http::error_response(431, "too_large", "request headers too large"));
      break;
    }
    if (ec) {
      co_await reply_and_close(
          stream, http::error_response(make_error(errc::invalid_input, "malformed HTTP request")));
      break;
    }

    if (beast::websocket::is_upgrade(parser.get())) {
      auto req = parser.release();
      http::Request target;
      if (!parse_target(req.target(), target) || target.path != "/ws" || state->ws == nullptr) {
        co_await reply_and_close(stream, http::error_response(make_error(
                                             errc::not_found, "no WebSocket endpoint here")));
        break;
      }
      // PROTOCOL §3: ?token= or Authorization: Bearer; without a valid one, 401 and no upgrade.
      std::string_view token = auth::bearer_token(req[bhttp::field::authorization]);
      if (const auto* q = target.query_param("token"); token.empty() && q != nullptr) token = *q;
      auto user = state->tokens.verify(token);
      if (!user) {
        spdlog::info("GET /ws 401 (upgrade refused)");
        co_await reply_and_close(stream, http::error_response(user.error()));
        break;
      }
      // The session runs as its own coroutine and this HTTP frame ends, so a long-lived
      // connection keeps nothing of the HTTP parsing alive.
      auto session = std::make_shared<WsSession>(std::move(stream), *user, *state->ws);
      auto ex = session->executor();
      asio::co_spawn(ex, session->run(std::move(req)), [](std::exception_ptr e) {
        if (!e) return;
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          spdlog::error("websocket session failed: {}", ex.what());
        }
      });
      co_return;
    }

    const auto started = std::chrono::steady_clock::now();
    struct InFlight {  // counted until the response is written, for a graceful shutdown
      std::atomic<std::size_t>& n;
      explicit InFlight(std::atomic<std::size_t>& c) : n(c) { ++n; }
      ~InFlight() { --n; }
    } in_flight(state->in_flight);
    auto req = parser.release();
    http::Request request;
    request.method = to_method(req.method());
    request.body = std::move(req.body());
    request.content_type = std::string(req[bhttp::field::content_type]);
    request.authorization = std::string(req[bhttp::field::authorization]);
    request.remote_address = remote_address;
    http::Response response;
    if (!parse_target(req.target(), request))
      response = http::error_response(make_error(errc::invalid_input, "malformed request target"));
    else
      response = co_await state->router.dispatch(request);

    const int status = response.status;
    metrics().count_http(status);  // before the write, so a client that saw it also sees it counted
    const bool keep_alive = req.keep_alive() && !state->stopping;
    auto res = to_beast(std::move(response), req.version(), keep_alive);
    if (req.method() == bhttp::verb::head) res.body().clear();
    stream.expires_after(opts.request_timeout);
    co_await bhttp::async_write(stream, res, asio::redirect_error(use_awaitable, ec));
    const auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                              started)
                        .count();
    spdlog::info("{} {} {} {:.1f}ms", req.method_string(), request.path, status, ms);
    if (ec || !keep_alive) break;
  }
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

awaitable<void> accept_loop(std::shared_ptr<Server::State> state) {
  asio::steady_timer backoff(state->ioc);
  bool warned = false;
  while (!state->stopping) {
    boost::system::error_code ec;
    auto socket = co_await state->acceptor.async_accept(asio::make_strand(state->ioc),
                                                        asio::redirect_error(use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !state->acceptor.is_open()) break;
    if (ec == asio::error::no_descriptors || ec.value() == ENFILE) {
      // Out of file descriptors: keep serving the connections we have, refuse new ones by
      // leaving them in the backlog, and say so once per episode.
      if (!warned) spdlog::error("out of file descriptors: not accepting new connections ({})",
                                 ec.message());
      warned = true;
      backoff.expires_after(std::chrono::milliseconds(100));
      co_await backoff.async_wait(asio::redirect_error(use_awaitable, ec));
      continue;
    }
    if (ec) {
      spdlog::warn("accept failed: {}", ec.message());
      continue;
    }
    if (warned) spdlog::info("accepting connections again");
    warned = false;
    auto ex = socket.get_executor();
    asio::co_spawn(ex, serve(state, std::move(socket)), [](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        spdlog::error("http session failed: {}", ex.what());
      }
    });
  }
}

}  // namespace

Server::Server(asio::io_context& ioc, ServerOptions options, const http::Router& router,
               const auth::TokenService& tokens, WsDeps* ws)
    : state_(std::make_shared<State>(ioc, std::move(options), router, tokens, ws)) {}

Server::~Server() = default;

void Server::start() {
  auto& a = state_->acceptor;
  const tcp::endpoint ep(asio::ip::make_address(state_->options.address), state_->options.port);
  a.open(ep.protocol());
  a.set_option(asio::socket_base::reuse_address(true));
  a.bind(ep);
  a.listen(asio::socket_base::max_listen_connections);
  state_->port = a.local_endpoint().port();
  asio::co_spawn(state_->ioc, accept_loop(state_), asio::detached);
}

std::uint16_t Server::port() const noexcept { return state_->port; }

void Server::stop_accepting() {
  state_->stopping = true;
  asio::post(state_->ioc, [s = state_] {
    boost::system::error_code ec;
    s->acceptor.close(ec);
  });
}

std::size_t Server::in_flight() const noexcept { return state_->in_flight; }

}  // namespace chatd::net
