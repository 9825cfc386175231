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
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <random>
#include <type_traits>

#include "auth/token_service.hpp"
#include "codec/hex.hpp"
#include "domain/metrics.hpp"
#include "http/errors.hpp"
#include "http/router.hpp"
#include "net/request_head.hpp"
#include "net/tls.hpp"
#include "net/ws_session.hpp"

namespace chatd::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::awaitable;
using asio::ip::tcp;
using asio::use_awaitable;
using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

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

bhttp::response<bhttp::string_body> to_beast(http::Response r, unsigned version, bool keep_alive) {
  bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(r.status), version};
  res.set(bhttp::field::server, "chatd");
  // On every answer (issue 13): no content sniffing, no referrer leaking ids in URLs.
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Referrer-Policy", "no-referrer");
  if (!r.body.empty()) res.set(bhttp::field::content_type, r.content_type);
  for (auto& [k, v] : r.headers) res.set(k, v);
  res.body() = std::move(r.body);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

constexpr std::size_t kChunk = 64 * 1024;
constexpr std::size_t kHeadBytes = 8 * 1024;  // what libmagic looks at

// The temporary file of an upload, removed unless the handler moved it away.
// (Only while it is still the file made here: once kept, its name may be taken by another.)
struct TempFile {
  std::string path;
  int fd = -1;
  dev_t dev = 0;
  ino_t ino = 0;
  ~TempFile() {
    if (fd >= 0) ::close(fd);
    struct stat st {};
    if (!path.empty() && ::stat(path.c_str(), &st) == 0 && st.st_dev == dev && st.st_ino == ino)
      ::unlink(path.c_str());
  }
};

// broken: the client went away or sent garbage; unwritable: the disk refused (full, ...).
enum class UploadEnd { done, too_large, broken, unwritable };

// Streams the body of `header` (read so far: the header) to a new file in `dir`, a chunk at a
// time, hashing it on the way: memory stays at one chunk whatever the size. Each chunk must
// arrive within `chunk_timeout` (a slow sender is cut, not waited for).
template <class Stream>
awaitable<UploadEnd> receive_upload(Stream& stream, beast::flat_buffer& buffer,
                                    bhttp::request_parser<bhttp::string_body>& header,
                                    std::uint64_t limit, std::chrono::milliseconds chunk_timeout,
                                    TempFile& file, http::UploadedBody& out) {
  bhttp::request_parser<bhttp::buffer_body> parser{std::move(header)};
  parser.body_limit(limit);
  std::vector<char> chunk(kChunk);
  // Socket reads as large as a chunk (Beast reads what the buffer has room for).
  buffer.reserve(kChunk);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> sha(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!sha || EVP_DigestInit_ex(sha.get(), EVP_sha256(), nullptr) != 1) co_return UploadEnd::broken;
  boost::system::error_code ec;
  while (!parser.is_done()) {
    parser.get().body().data = chunk.data();
    parser.get().body().size = chunk.size();
    beast::get_lowest_layer(stream).expires_after(chunk_timeout);
    co_await bhttp::async_read_some(stream, buffer, parser, asio::redirect_error(use_awaitable, ec));
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec == bhttp::error::body_limit) co_return UploadEnd::too_large;
    if (ec) co_return UploadEnd::broken;
    const auto n = chunk.size() - parser.get().body().size;
    if (n == 0) continue;
    for (std::size_t done = 0; done < n;) {
      const auto w = ::write(file.fd, chunk.data() + done, n - done);
      if (w <= 0) co_return UploadEnd::unwritable;  // disk full, ...
      done += static_cast<std::size_t>(w);
    }
    EVP_DigestUpdate(sha.get(), chunk.data(), n);
    if (out.head.size() < kHeadBytes)
      out.head.append(chunk.data(), std::min(n, kHeadBytes - out.head.size()));
    out.size += static_cast<std::int64_t>(n);
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_DigestFinal_ex(sha.get(), digest, &len);
  out.sha256 = codec::to_hex(digest, len);
  ::close(file.fd);
  file.fd = -1;
  co_return UploadEnd::done;
}

// Writes `length` bytes of a file from `offset` as the body of `res` (its headers set), a
// chunk at a time.
template <class Stream>
awaitable<boost::system::error_code> send_file(Stream& stream,
                                               bhttp::response<bhttp::buffer_body>& res,
                                               const http::FileBody& body,
                                               std::chrono::milliseconds chunk_timeout) {
  boost::system::error_code ec;
  const int fd = ::open(body.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) co_return make_error_code(boost::system::errc::no_such_file_or_directory);
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  std::vector<char> chunk(kChunk);
  res.body().data = nullptr;
  res.body().more = true;
  bhttp::response_serializer<bhttp::buffer_body> sr{res};
  beast::get_lowest_layer(stream).expires_after(chunk_timeout);
  co_await bhttp::async_write_header(stream, sr, asio::redirect_error(use_awaitable, ec));
  if (ec) co_return ec;
  std::uint64_t sent = 0;
  while (sent < body.length) {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, body.length - sent));
    const auto got = ::pread(fd, chunk.data(), want, static_cast<off_t>(body.offset + sent));
    if (got <= 0) co_return make_error_code(boost::system::errc::io_error);
    res.body().data = chunk.data();
    res.body().size = static_cast<std::size_t>(got);
    res.body().more = true;
    beast::get_lowest_layer(stream).expires_after(chunk_timeout);
    co_await bhttp::async_write(stream, sr, asio::redirect_error(use_awaitable, ec));
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) co_return ec;
    sent += static_cast<std::uint64_t>(got);
  }
  res.body().data = nullptr;
  res.body().more = false;
  co_await bhttp::async_write(stream, sr, asio::redirect_error(use_awaitable, ec));
  co_return ec;
}

// The client's X-Request-Id when it is a sane one (1-64 of [A-Za-z0-9._-]), else a new one: it
// travels back in the answer and into the log line of the request.
std::string request_id(std::string_view given) {
  const bool sane = !given.empty() && given.size() <= 64 &&
                    std::all_of(given.begin(), given.end(), [](unsigned char c) {
                      return std::isalnum(c) || c == '.' || c == '_' || c == '-';
                    });
  if (sane) return std::string(given);
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const auto v = rng();
  return codec::to_hex(reinterpret_cast<const unsigned char*>(&v), sizeof v);
}

bool allowed_origin(const ServerOptions& o, std::string_view origin) {
  return std::find(o.cors_origins.begin(), o.cors_origins.end(), origin) != o.cors_origins.end();
}

// The page's own origin (a browser on chatd's web client): scheme://<Host header>.
bool same_origin(std::string_view origin, std::string_view host) {
  const auto sep = origin.find("://");
  return sep != std::string_view::npos && !host.empty() && origin.substr(sep + 3) == host;
}

// Ends a connection: TLS says close_notify first (within a short timeout), then the socket
// stops sending.
awaitable<void> finish(PlainStream& stream) {
  boost::system::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  co_return;
}
awaitable<void> finish(TlsStream& stream) {
  boost::system::error_code ec;
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
  co_await stream.async_shutdown(asio::redirect_error(use_awaitable, ec));
  beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_send, ec);
}

// A reply to a request that could not be parsed; the connection is closed after it.
// `r` by reference: it is a temporary of the caller's co_await expression, alive until resumed.
template <class Stream>
awaitable<void> reply_and_close(Stream& stream, const http::Response& r) {
  auto res = to_beast(r, 11, false);
  boost::system::error_code ec;
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(5));
  co_await bhttp::async_write(stream, res, asio::redirect_error(use_awaitable, ec));
  if (!ec) co_await finish(stream);
}

// A chunked body from a BodyStream: the header, a chunk per piece, the last chunk. A piece
// that fails ends the exchange without the last chunk (the caller closes the connection).
template <class Stream>
awaitable<boost::system::error_code> send_stream(Stream& stream,
                                                 bhttp::response<bhttp::empty_body>& res,
                                                 http::BodyStream& body,
                                                 std::chrono::milliseconds timeout) {
  boost::system::error_code ec;
  bhttp::response_serializer<bhttp::empty_body> sr{res};
  beast::get_lowest_layer(stream).expires_after(timeout);
  co_await bhttp::async_write_header(stream, sr, asio::redirect_error(use_awaitable, ec));
  while (!ec) {
    auto piece = co_await body.next();
    if (!piece) {
      spdlog::warn("streamed response cut: {}", piece.error().message);
      co_return make_error_code(boost::system::errc::io_error);
    }
    beast::get_lowest_layer(stream).expires_after(timeout);
    if (!*piece) {
      co_await asio::async_write(stream, bhttp::make_chunk_last(),
                                 asio::redirect_error(use_awaitable, ec));
      break;
    }
    if ((*piece)->empty()) continue;
    co_await asio::async_write(stream, bhttp::make_chunk(asio::buffer(**piece)),
                               asio::redirect_error(use_awaitable, ec));
  }
  co_return ec;
}

// The HTTP exchanges of one connection, plain or TLS, until it closes or upgrades.
template <class Stream>
awaitable<void> serve_on(std::shared_ptr<Server::State> state, Stream stream,
                         asio::ip::address peer) {
  const auto& opts = state->options;
  boost::system::error_code ec;
  beast::flat_buffer buffer;
  bool first = true;

  while (!state->stopping) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(opts.max_header_bytes));
    // The larger of the two limits while the header is read (an upload's Content-Length is
    // checked against its own limit below), then the one that applies.
    parser.body_limit(std::max<std::uint64_t>(opts.max_body_bytes, opts.max_upload_bytes));

    // Waiting for the next request on a kept-alive connection may take the idle timeout; once
    // it starts, the whole request must arrive within the request timeout (slow-loris guard).
    beast::get_lowest_layer(stream).expires_after(first ? opts.request_timeout
                                                        : opts.idle_timeout);
    co_await bhttp::async_read_header(stream, buffer, parser,
                                      asio::redirect_error(use_awaitable, ec));
    http::Request request;
    std::optional<TempFile> upload_file;  // removed at the end of this request unless kept
    bool upload = false;
    bhttp::request_header<> head;  // what the handler needs of the header (an upload's parser
                                   // goes away with its body)
    bool client_keep_alive = false;
    if (!ec) {
      head = parser.get().base();
      client_keep_alive = parser.keep_alive();
      upload = !opts.upload_dir.empty() && head.method() == bhttp::verb::post &&
               parse_target(head.target(), request) && request.path == "/attachments";
      const auto limit = upload ? opts.max_upload_bytes : opts.max_body_bytes;
      if (parser.content_length() && *parser.content_length() > limit) {
        // Refused before a byte of the body is read (PROTOCOL §1, §4).
        co_await reply_and_close(stream, http::error_response(make_error(
                                             errc::too_large, "request body over the limit")));
        break;
      }
      if (!upload) parser.body_limit(opts.max_body_bytes);
    }
    if (!ec && upload && !parser.is_done()) {
      // Only an authenticated caller may make chatd write a file.
      if (!state->tokens.verify(auth::bearer_token(parser.get()[bhttp::field::authorization]))) {
        co_await reply_and_close(stream, http::error_response(make_error(
                                             errc::unauthorized, "missing or invalid token")));
        break;
      }
      auto& file = upload_file.emplace();
      std::string tmpl = opts.upload_dir + "/upload-XXXXXX";
      file.fd = ::mkstemp(tmpl.data());
      if (file.fd < 0) {
        file.path.clear();
        co_await reply_and_close(stream, http::error_response(make_error(
                                             errc::unavailable, "cannot store uploads now")));
        break;
      }
      file.path = tmpl;
      struct stat st {};
      if (::fstat(file.fd, &st) == 0) {
        file.dev = st.st_dev;
        file.ino = st.st_ino;
      }
      http::UploadedBody body{file.path, 0, {}, {}};
      const auto end = co_await receive_upload(stream, buffer, parser, opts.max_upload_bytes,
                                               opts.request_timeout, file, body);
      const int write_error = errno;
      if (end != UploadEnd::done) upload_file.reset();  // gone before the client hears of it
      if (end == UploadEnd::too_large) {
        co_await reply_and_close(stream, http::error_response(make_error(
                                             errc::too_large, "attachment over the limit")));
        break;
      }
      if (end == UploadEnd::unwritable) {
        spdlog::error("upload not stored: {}", std::strerror(write_error));
        co_await reply_and_close(stream, http::error_response(make_error(
                                             errc::unavailable, "the upload could not be stored")));
        break;
      }
      if (end == UploadEnd::broken) break;  // truncated: the file goes with it
      request.upload = std::move(body);
    } else if (!ec && !parser.is_done()) {
      beast::get_lowest_layer(stream).expires_after(opts.request_timeout);
      co_await bhttp::async_read(stream, buffer, parser, asio::redirect_error(use_awaitable, ec));
    }
    first = false;
    // PROTOCOL §10: behind a trusted proxy, the client is named by X-Forwarded-For.
    std::string remote_address = peer.to_string();
    if (!opts.trusted_proxies.empty()) {
      std::string forwarded;
      const auto [from, to] = head.equal_range("X-Forwarded-For");
      for (auto f = from; f != to; ++f) {
        if (!forwarded.empty()) forwarded += ',';
        forwarded.append(f->value().data(), f->value().size());
      }
      remote_address = opts.trusted_proxies.client_address(peer, forwarded);
    }
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

    if (!upload && beast::websocket::is_upgrade(parser.get())) {
      auto req = parser.release();
      // With CHATD_CORS_ORIGINS set, a browser page of another site may not open a WebSocket
      // with a user's token (cross-site WebSocket hijacking): its Origin must be listed or be
      // chatd's own.
      if (const auto origin = req[bhttp::field::origin];
          !opts.cors_origins.empty() && !origin.empty() && !allowed_origin(opts, origin) &&
          !same_origin(origin, req[bhttp::field::host])) {
        spdlog::info("GET /ws 403 (origin {} not allowed)", std::string(origin));
        co_await reply_and_close(stream, http::error_response(make_error(
                                             errc::forbidden, "origin not allowed")));
        break;
      }
      http::Request target;
      if (!parse_target(req.target(), target) || target.path != "/ws" || state->ws == nullptr) {
        co_await reply_and_close(stream, http::error_response(make_error(
                                             errc::not_found, "no WebSocket endpoint here")));
        break;
      }
      // PROTOCOL §3: ?token= or Authorization: Bearer; without a valid one, 401 and no upgrade.
      std::string_view token = auth::bearer_token(req[bhttp::field::authorization]);
      if (const auto* q = target.query_param("token"); token.empty() && q != nullptr) token = *q;
      auto claims = state->tokens.claims(token);
      if (!claims) {
        spdlog::info("GET /ws 401 (upgrade refused)");
        co_await reply_and_close(stream, http::error_response(claims.error()));
        break;
      }
      // The session runs as its own coroutine and this HTTP frame ends, so a long-lived
      // connection keeps nothing of the HTTP parsing alive.
      auto session =
          std::make_shared<WsSession<Stream>>(std::move(stream), claims->user, *state->ws);
      session->set_token(claims->jti, claims->issued_ms);
      auto ex = session->executor();
      asio::co_spawn(ex, session->run(std::move(req), std::move(remote_address)), [](std::exception_ptr e) {
        if (!e) return;
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          spdlog::error("websocket session failed: {}", ex.what());
        }
      });
      co_return;
    }

    // CORS (CHATD_CORS_ORIGINS): a listed origin's preflight is answered here, and its answers
    // carry Access-Control-Allow-Origin; other origins get no CORS headers (the browser refuses).
    const std::string origin(head[bhttp::field::origin]);
    const bool cors = !origin.empty() && allowed_origin(opts, origin);
    if (head.method() == bhttp::verb::options && cors &&
        !head[bhttp::field::access_control_request_method].empty()) {
      bhttp::response<bhttp::empty_body> pre{bhttp::status::no_content, head.version()};
      pre.set(bhttp::field::server, "chatd");
      pre.set(bhttp::field::access_control_allow_origin, origin);
      pre.set(bhttp::field::access_control_allow_methods, "GET, POST, PUT, DELETE");
      pre.set(bhttp::field::access_control_allow_headers,
              "Authorization, Content-Type, If-None-Match, Range");
      pre.set(bhttp::field::access_control_max_age, "600");
      pre.set(bhttp::field::vary, "Origin");
      pre.keep_alive(client_keep_alive);
      beast::get_lowest_layer(stream).expires_after(opts.request_timeout);
      co_await bhttp::async_write(stream, pre, asio::redirect_error(use_awaitable, ec));
      if (ec || !client_keep_alive) break;
      continue;
    }

    const auto started = std::chrono::steady_clock::now();
    struct InFlight {  // counted until the response is written, for a graceful shutdown
      std::atomic<std::size_t>& n;
      explicit InFlight(std::atomic<std::size_t>& c) : n(c) { ++n; }
      ~InFlight() { --n; }
    } in_flight(state->in_flight);
    if (!upload) request.body = std::move(parser.get().body());
    request.remote_address = remote_address;
    http::Response response;
    if (!read_head(head, request))
      response = http::error_response(make_error(errc::invalid_input, "malformed request target"));
    else
      response = co_await state->router.dispatch(request);

    const auto rid = request_id(head["X-Request-Id"]);
    response.headers.emplace_back("X-Request-Id", rid);
    // Served over TLS: browsers are told to keep to HTTPS for this host (a year).
    if constexpr (std::is_same_v<Stream, TlsStream>)
      response.headers.emplace_back("Strict-Transport-Security", "max-age=31536000");
    if (cors) {
      response.headers.emplace_back("Access-Control-Allow-Origin", origin);
      response.headers.emplace_back("Access-Control-Expose-Headers",
                                    "ETag, Content-Range, Retry-After, X-Request-Id");
      response.headers.emplace_back("Vary", "Origin");
    }
    const int status = response.status;
    const std::string route = response.route;
    metrics().count_http(status);  // before the write, so a client that saw it also sees it counted
    const bool keep_alive = client_keep_alive && !state->stopping;
    if (response.file && head.method() != bhttp::verb::head) {
      auto file = std::move(*response.file);
      response.file.reset();
      bhttp::response<bhttp::buffer_body> res{static_cast<bhttp::status>(status), head.version()};
      res.set(bhttp::field::server, "chatd");
      res.set("X-Content-Type-Options", "nosniff");
      res.set("Referrer-Policy", "no-referrer");
      res.set(bhttp::field::content_type, response.content_type);
      for (auto& [k, v] : response.headers) res.set(k, v);
      res.content_length(file.length);
      res.keep_alive(keep_alive);
      ec = co_await send_file(stream, res, file, opts.request_timeout);
    } else if (response.stream && head.method() != bhttp::verb::head) {
      auto body = std::move(response.stream);
      bhttp::response<bhttp::empty_body> res{static_cast<bhttp::status>(status), head.version()};
      res.set(bhttp::field::server, "chatd");
      res.set("X-Content-Type-Options", "nosniff");
      res.set("Referrer-Policy", "no-referrer");
      res.set(bhttp::field::content_type, response.content_type);
      for (auto& [k, v] : response.headers) res.set(k, v);
      res.chunked(true);
      res.keep_alive(keep_alive);
      ec = co_await send_stream(stream, res, *body, opts.request_timeout);
    } else {
      auto res = to_beast(std::move(response), head.version(), keep_alive);
      if (head.method() == bhttp::verb::head) res.body().clear();
      beast::get_lowest_layer(stream).expires_after(opts.request_timeout);
      co_await bhttp::async_write(stream, res, asio::redirect_error(use_awaitable, ec));
    }
    const auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                              started)
                        .count();
    spdlog::info("{} {} {} {:.1f}ms request {} from {}", head.method_string(), request.path,
                 status, ms, rid, remote_address);
    metrics().http_latency(http::method_name(request.method), route.empty() ? "unmatched" : route,
                           status)
        .observe(ms / 1000.0);
    if (ec || !keep_alive) break;
  }
  co_await finish(stream);
}

awaitable<void> serve(std::shared_ptr<Server::State> state, tcp::socket socket) {
  boost::system::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  const auto remote = socket.remote_endpoint(ec);
  const auto peer = ec ? asio::ip::address() : normalized(remote.address());
  if (!state->options.tls) {
    co_await serve_on(state, PlainStream(std::move(socket)), peer);
    co_return;
  }
  // HTTPS and WSS: the handshake must finish within the request timeout, like a request.
  TlsStream stream(PlainStream(std::move(socket)), *state->options.tls->current());
  beast::get_lowest_layer(stream).expires_after(state->options.request_timeout);
  co_await stream.async_handshake(asio::ssl::stream_base::server,
                                  asio::redirect_error(use_awaitable, ec));
  if (ec) {
    Metrics::add(metrics().tls_handshakes_failed);
    spdlog::debug("TLS handshake with {} failed: {}", peer.to_string(), ec.message());
    co_return;
  }
  co_await serve_on(state, std::move(stream), peer);
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
