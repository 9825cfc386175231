#include "support/haproxy_process.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "support/chatd_process.hpp"

namespace chatd::test {

namespace {
bool accepts(std::uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}
}  // namespace

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
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    const int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    execl("/usr/sbin/haproxy", "haproxy", "-f", config_path_.c_str(), "-db",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (accepts(port_)) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error("haproxy did not start on port " + std::to_string(port_));
}

void HaproxyProcess::stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  int st;
  waitpid(pid_, &st, 0);
  pid_ = -1;
}

}  // namespace chatd::test
