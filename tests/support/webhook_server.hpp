// An HTTP server in the test process that receives chatd's push webhooks: it records each
// request and answers with scripted statuses (then 200), or never answers at all.
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
  // connections and never answer.
  explicit WebhookServer(std::vector<int> statuses = {}, bool silent = false);
  ~WebhookServer();
  WebhookServer(const WebhookServer&) = delete;
  WebhookServer& operator=(const WebhookServer&) = delete;

  std::string url() const;
  std::vector<Received> received() const;
  // Waits until `n` requests arrived; false on timeout.
  bool wait_for(std::size_t n, std::chrono::milliseconds timeout) const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace chatd::test
