#include "support/http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>

#include <algorithm>
#include <chrono>

namespace chatd::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using asio::ip::tcp;

std::string HttpResult::error_code() const {
  if (!json.is_object()) return "";
  const auto* e = json.as_object().if_contains("error");
  if (e == nullptr || !e->is_object()) return "";
  const auto* c = e->as_object().if_contains("code");
  return c != nullptr && c->is_string() ? std::string(c->get_string()) : "";
}

HttpResult http_request(std::uint16_t port, const std::string& method, const std::string& target,
                        const std::string& body, const std::string& token,
                        const std::map<std::string, std::string>& headers) {
  return http_request_from("", port, method, target, body, token, headers);
}

namespace {
HttpResult request(const std::string& source, const std::string& host, std::uint16_t port,
                   const std::string& method, const std::string& target, const std::string& body,
                   const std::string& token, const std::map<std::string, std::string>& headers) {
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.expires_after(std::chrono::seconds(30));
  if (!source.empty()) {
    stream.socket().open(tcp::v4());
    stream.socket().bind(tcp::endpoint(asio::ip::make_address(source), 0));
  }
  stream.connect(tcp::endpoint(asio::ip::make_address(host), port));
  bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), target, 11};
  req.set(bhttp::field::host, host);
  if (!body.empty()) req.set(bhttp::field::content_type, "application/json");
  if (!token.empty()) req.set(bhttp::field::authorization, "Bearer " + token);
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  req.prepare_payload();
  bhttp::write(stream, req);
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  bhttp::read(stream, buffer, parser);
  auto res = parser.release();
  HttpResult out;
  out.status = res.result_int();
  for (const auto& f : res) {
    std::string name(f.name_string());
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    out.headers[name] = std::string(f.value());
  }
  out.body = res.body();
  boost::system::error_code ec;
  auto v = boost::json::parse(out.body, ec);
  if (!ec) out.json = std::move(v);
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  return out;
}
}  // namespace

HttpResult http_request_from(const std::string& source, std::uint16_t port,
                             const std::string& method, const std::string& target,
                             const std::string& body, const std::string& token,
                             const std::map<std::string, std::string>& headers) {
  return request(source, "127.0.0.1", port, method, target, body, token, headers);
}

HttpResult http_request_at(const std::string& host, std::uint16_t port, const std::string& method,
                           const std::string& target, const std::string& body,
                           const std::string& token,
                           const std::map<std::string, std::string>& headers) {
  return request("", host, port, method, target, body, token, headers);
}

std::string raw_exchange(std::uint16_t port, const std::string& bytes, int timeout_ms,
                         bool half_close) {
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.expires_after(std::chrono::milliseconds(timeout_ms));
  stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  beast::error_code ec;
  asio::write(stream.socket(), asio::buffer(bytes), ec);
  if (half_close) stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  std::string out;
  char buf[4096];
  for (;;) {
    stream.expires_after(std::chrono::milliseconds(timeout_ms));
    const auto n = stream.read_some(asio::buffer(buf), ec);
    out.append(buf, n);
    if (ec) break;
  }
  return out;
}

}  // namespace chatd::test
