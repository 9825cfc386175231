// An HTTP (or HTTPS) server in the test process that receives chatd's push webhooks: it records
// each request and answers with scripted statuses (then 200), or never answers at all.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace chatd::test {

class WebhookServer {
 public:
  struct Received {
    std::string body;
    std::string signature;  // X-Chatd-Signature
    int answered = 0;       // the status sent back (0: none)
  };

  // `statuses`: the answers to the first requests, in order; 200 after them. `silent`: accept
  // connections and never answer. With a certificate and key (PEM files): HTTPS, and url() names
  // `localhost` (the certificate's name) instead of 127.0.0.1.
  explicit WebhookServer(std::vector<int> statuses = {}, bool silent = false,
                         const std::string& cert_file = "", const std::string& key_file = "");
  ~WebhookServer();
  WebhookServer(const WebhookServer&) = delete;
  WebhookServer& operator=(const WebhookServer&) = delete;

  std::string url() const;
  std::vector<Received> received() const;
  // TLS handshakes that failed (https only): a client that refused the certificate.
  int failed_handshakes() const;
  // Waits until `n` requests arrived; false on timeout.
  bool wait_for(std::size_t n, std::chrono::milliseconds timeout) const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace chatd::test
