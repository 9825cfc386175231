// A real HAProxy (Debian's) in front of chatd nodes for end-to-end tests: HTTP and WebSocket on a
// free port of 127.0.0.1, the client's address passed on in X-Forwarded-For (option forwardfor),
// as scripts/cluster and deploy/haproxy.cfg run it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace chatd::test {

class HaproxyProcess {
 public:
  explicit HaproxyProcess(std::vector<std::uint16_t> backends);
  ~HaproxyProcess();
  HaproxyProcess(const HaproxyProcess&) = delete;
  HaproxyProcess& operator=(const HaproxyProcess&) = delete;

  void start();  // waits until it accepts connections
  void stop();
  std::uint16_t port() const noexcept { return port_; }

 private:
  std::vector<std::uint16_t> backends_;
  std::string config_path_;
  std::uint16_t port_;
  pid_t pid_ = -1;
};

}  // namespace chatd::test
