#include "support/haproxy_process.hpp"

#include <unistd.h>

#include <fstream>
#include <stdexcept>

#include "support/chatd_process.hpp"
#include "support/server_process.hpp"

namespace chatd::test {

HaproxyProcess::HaproxyProcess(std::vector<std::uint16_t> backends)
    : backends_(std::move(backends)), port_(free_port()) {
  char tmpl[] = "/tmp/chatd-haproxy-XXXXXX.cfg";
  const int fd = mkstemps(tmpl, 4);
  if (fd < 0) throw std::runtime_error("no temporary file for haproxy.cfg");
  close(fd);
  config_path_ = tmpl;
  std::ofstream cfg(config_path_);
  cfg << "defaults\n"
         "    mode http\n"
         "    timeout connect 5s\n"
         "    timeout client 65s\n"
         "    timeout server 65s\n"
         "    timeout tunnel 1h\n"
         "    option http-server-close\n"
         "    option forwardfor\n"
         "frontend chatd\n"
         "    bind 127.0.0.1:" << port_ << "\n"
         "    default_backend nodes\n"
         "backend nodes\n"
         "    balance roundrobin\n";
  for (std::size_t i = 0; i < backends_.size(); ++i)
    cfg << "    server node" << i << " 127.0.0.1:" << backends_[i] << "\n";
}

HaproxyProcess::~HaproxyProcess() {
  stop();
  unlink(config_path_.c_str());
}

void HaproxyProcess::start() {
  if (pid_ > 0) return;
  pid_ = spawn_quiet("/usr/sbin/haproxy", {"-f", config_path_, "-db"});
  wait_accepting(port_, "haproxy");
}

void HaproxyProcess::stop() { terminate(pid_); }

}  // namespace chatd::test
