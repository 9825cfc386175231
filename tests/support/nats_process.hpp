// A real nats-server (Debian's) for the cluster tests, on a free port of 127.0.0.1; stopped and
// started again on the same port to test an outage. Several of them form one NATS cluster
// (`nats_cluster`), each routed to the others, for the loss of one server (PROTOCOL §11).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace chatd::test {

class NatsProcess {
 public:
  NatsProcess();
  ~NatsProcess();
  NatsProcess(const NatsProcess&) = delete;
  NatsProcess& operator=(const NatsProcess&) = delete;

  // Before start(): listens on every address of this namespace, not only 127.0.0.1 (for a
  // node in a test's network namespace).
  void listen_everywhere() { bind_ = "0.0.0.0"; }
  void start();  // waits until it accepts connections
  void stop();   // SIGTERM and wait
  void kill9();  // SIGKILL and wait: a server lost
  std::string url(const std::string& host = "127.0.0.1") const {
    return "nats://" + host + ":" + std::to_string(port_);
  }
  std::uint16_t port() const noexcept { return port_; }
  std::uint16_t cluster_port() const noexcept { return cluster_port_; }

 private:
  friend std::vector<std::unique_ptr<NatsProcess>> nats_cluster(int n);
  std::uint16_t port_;
  std::string bind_ = "127.0.0.1";
  std::uint16_t cluster_port_ = 0;  // 0: a server alone
  std::uint16_t monitor_port_ = 0;
  std::vector<std::uint16_t> routes_;
  pid_t pid_ = -1;
};

// `n` servers in one NATS cluster, started, each routed to all the others.
std::vector<std::unique_ptr<NatsProcess>> nats_cluster(int n);
// The client URL naming every server of `servers`, comma separated (CHATD_NATS_URL).
std::string nats_urls(const std::vector<std::unique_ptr<NatsProcess>>& servers);

}  // namespace chatd::test
