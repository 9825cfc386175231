#include "support/chatd_process.hpp"

#include <fcntl.h>
#include <sched.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "support/http_client.hpp"
#include "support/server_process.hpp"

extern char** environ;

namespace chatd::test {

namespace {

std::string temp_log_path() {
  static int n = 0;
  return "/tmp/chatd-e2e-" + std::to_string(getpid()) + "-" + std::to_string(n++) + ".log";
}

// fork + exec with `env` added to the environment, stdout and stderr to `log_path`; inside the
// network namespace `netns` (made by `ip netns add`) when one is named.
pid_t spawn(const std::map<std::string, std::string>& env, const std::string& log_path,
            const std::string& netns = "") {
  std::vector<std::string> vars;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv(*e);
    if (kv.starts_with("CHATD_") || kv.starts_with("DATABASE_URL=")) continue;  // only ours
    if (env.contains(kv.substr(0, kv.find('=')))) continue;  // ours replaces the inherited one
    vars.push_back(kv);
  }
  for (const auto& [k, v] : env) vars.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& v : vars) envp.push_back(v.data());
  envp.push_back(nullptr);
  const std::string ns_path = "/run/netns/" + netns;  // nothing allocated after the fork
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    const int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    if (!netns.empty()) {
      const int ns = open(ns_path.c_str(), O_RDONLY | O_CLOEXEC);
      if (ns < 0 || setns(ns, CLONE_NEWNET) != 0) _exit(126);
    }
    char* argv[] = {const_cast<char*>(CHATD_BINARY), nullptr};
    execve(CHATD_BINARY, argv, envp.data());
    _exit(127);
  }
  return pid;
}

int wait_status(pid_t pid, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  return -1000;  // did not exit in time
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::uint16_t free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

ChatdProcess::ChatdProcess(std::string database_url, std::map<std::string, std::string> env)
    : database_url_(std::move(database_url)), env_(std::move(env)), log_path_(temp_log_path()) {
  if (auto it = env_.find("CHATD_DATA_DIR"); it != env_.end()) {
    data_dir_ = it->second;
  } else {
    data_dir_ = log_path_ + ".data";
    env_["CHATD_DATA_DIR"] = data_dir_;
  }
}

ChatdProcess::~ChatdProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    int st;
    waitpid(pid_, &st, 0);
  }
  if (std::getenv("CHATD_KEEP_LOGS") == nullptr) unlink(log_path_.c_str());
  if (data_dir_ == log_path_ + ".data") {
    std::error_code ec;
    std::filesystem::remove_all(data_dir_, ec);
  }
}

void ChatdProcess::start() {
  port_ = free_port();
  std::map<std::string, std::string> env = {
      {"CHATD_ADDRESS", host_},
      {"CHATD_PORT", std::to_string(port_)},
      {"CHATD_DATABASE_URL", database_url_},
      {"CHATD_JWT_SECRET", secret()},
      {"CHATD_BCRYPT_COST", "4"},
      {"CHATD_REGISTER_MAX_PER_ADDRESS", "100000"},  // suites register many users from 127.0.0.1
      {"CHATD_LOG_LEVEL", "info"},
  };
  for (const auto& [k, v] : env_) env[k] = v;
  pid_ = spawn(env, log_path_, netns_);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("chatd exited at start-up:\n" + log());
    }
    // With TLS the plain probe cannot answer: the log says when it listens.
    if (env.contains("CHATD_TLS_CERT_FILE")) {
      if (log().find("chatd listening on") != std::string::npos) return;
    } else {
      try {
        if (http_request_at(host_, port_, "GET", "/healthz").status == 200) return;
      } catch (...) {
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  throw std::runtime_error("chatd did not become healthy:\n" + log());
}

int ChatdProcess::stop() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  const int status = wait_status(pid_, 30000);
  pid_ = -1;
  return status;
}

void ChatdProcess::kill9() { terminate(pid_, SIGKILL); }

bool ChatdProcess::running() {
  if (pid_ <= 0) return false;
  int st;
  return waitpid(pid_, &st, WNOHANG) == 0;
}

std::string ChatdProcess::log() const { return read_file(log_path_); }

std::pair<int, std::string> run_chatd_once(const std::map<std::string, std::string>& env,
                                           int timeout_ms) {
  const auto path = temp_log_path();
  const pid_t pid = spawn(env, path);
  const int status = wait_status(pid, timeout_ms);
  auto out = read_file(path);
  unlink(path.c_str());
  return {status, out};
}

}  // namespace chatd::test
