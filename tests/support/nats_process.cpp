#include "support/nats_process.hpp"

#include "support/chatd_process.hpp"
#include "support/server_process.hpp"

namespace chatd::test {

NatsProcess::NatsProcess() : port_(free_port()) {}

NatsProcess::~NatsProcess() { stop(); }

void NatsProcess::start() {
  if (pid_ > 0) return;
  pid_ = spawn_quiet("/usr/sbin/nats-server", {"-a", "127.0.0.1", "-p", std::to_string(port_)});
  wait_accepting(port_, "nats-server");
}

void NatsProcess::stop() { terminate(pid_); }

}  // namespace chatd::test
