// TLS on chatd's own port (issue 13): HTTPS and WSS when CHATD_TLS_CERT_FILE and
// CHATD_TLS_KEY_FILE are set. The certificate and key are read again on SIGHUP: connections
// made after that use the new ones, connections already open keep the context they started with.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace boost::asio::ssl {
class context;
}

namespace chatd::net {

class TlsContexts {
 public:
  // Throws std::runtime_error when the files cannot be loaded (a start-up error).
  TlsContexts(std::string cert_file, std::string key_file);

  // The context for a new connection.
  std::shared_ptr<boost::asio::ssl::context> current() const;

  // Loads the files again. On failure the previous certificate keeps serving and the reason is
  // returned.
  std::optional<std::string> reload();

 private:
  std::string cert_file_;
  std::string key_file_;
  mutable std::mutex mutex_;
  std::shared_ptr<boost::asio::ssl::context> context_;
};

}  // namespace chatd::net
