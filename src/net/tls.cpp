#include "net/tls.hpp"

#include <boost/asio/ssl/context.hpp>

#include <openssl/ssl.h>

#include <stdexcept>

#include "net/tls_policy.hpp"

namespace chatd::net {

namespace ssl = boost::asio::ssl;

namespace {

std::shared_ptr<ssl::context> load(const std::string& cert_file, const std::string& key_file) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  apply_tls_policy(*ctx);
  ctx->set_options(ssl::context::single_dh_use | SSL_OP_CIPHER_SERVER_PREFERENCE);
  auto* native = ctx->native_handle();
  // Idle connections are most of them: OpenSSL frees a connection's 34 KiB of record buffers
  // while nothing is in flight.
  SSL_CTX_set_mode(native, SSL_MODE_RELEASE_BUFFERS);
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(cert_file, ec);
  if (ec) throw std::runtime_error("cannot load TLS certificate " + cert_file + ": " + ec.message());
  ctx->use_private_key_file(key_file, ssl::context::pem, ec);
  if (ec) throw std::runtime_error("cannot load TLS key " + key_file + ": " + ec.message());
  if (SSL_CTX_check_private_key(native) != 1)
    throw std::runtime_error("TLS key " + key_file + " does not match the certificate");
  return ctx;
}

}  // namespace

TlsContexts::TlsContexts(std::string cert_file, std::string key_file)
    : cert_file_(std::move(cert_file)),
      key_file_(std::move(key_file)),
      context_(load(cert_file_, key_file_)) {}

std::shared_ptr<ssl::context> TlsContexts::current() const {
  std::lock_guard l(mutex_);
  return context_;
}

std::optional<std::string> TlsContexts::reload() {
  try {
    auto fresh = load(cert_file_, key_file_);
    std::lock_guard l(mutex_);
    context_ = std::move(fresh);
    return std::nullopt;
  } catch (const std::exception& e) {
    return e.what();
  }
}

}  // namespace chatd::net
