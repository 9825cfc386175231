// A real nats-server (Debian's) for the cluster tests, on a free port of 127.0.0.1; stopped and
// started again on the same port to test an outage.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace chatd::test {

class NatsProcess {
 public:
  NatsProcess();
  ~NatsProcess();
  NatsProcess(const NatsProcess&) = delete;
  NatsProcess& operator=(const NatsProcess&) = delete;

  void start();  // waits until it accepts connections
  void stop();   // SIGTERM and wait
  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }
  std::uint16_t port() const noexcept { return port_; }

 private:
  std::uint16_t port_;
  pid_t pid_ = -1;
};

}  // namespace chatd::test
