// Runs the real chatd binary for end-to-end tests: its own database, a free port, the log
// captured to a file; started and stopped like an operator would (SIGTERM, or SIGKILL).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>

namespace chatd::test {

class ChatdProcess {
 public:
  // Settings (CHATD_* variables) on top of test defaults: bcrypt cost 4, the given database.
  ChatdProcess(std::string database_url, std::map<std::string, std::string> env = {});
  ~ChatdProcess();
  ChatdProcess(const ChatdProcess&) = delete;
  ChatdProcess& operator=(const ChatdProcess&) = delete;

  // Starts and waits until GET /healthz answers 200; throws on failure.
  void start();
  // SIGTERM and wait; the exit status (or -signal).
  int stop();
  void kill9();
  bool running();

  // Before start(): runs in the network namespace `netns`, listening on `address` there.
  void set_netns(std::string netns, std::string address) {
    netns_ = std::move(netns);
    host_ = std::move(address);
  }
  const std::string& host() const noexcept { return host_; }
  std::uint16_t port() const noexcept { return port_; }
  pid_t pid() const noexcept { return pid_; }
  // CHATD_DATA_DIR: a directory of this process's own unless the environment names one.
  const std::string& data_dir() const noexcept { return data_dir_; }
  std::string log() const;
  static std::string secret() { return "test-secret-0123456789abcdef0123456789"; }

 private:
  std::string database_url_;
  std::map<std::string, std::string> env_;
  std::string log_path_;
  std::string data_dir_;
  std::string netns_;
  std::string host_ = "127.0.0.1";
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

std::uint16_t free_port();

// Runs chatd with the given environment to completion; returns {exit status, output}.
std::pair<int, std::string> run_chatd_once(const std::map<std::string, std::string>& env,
                                           int timeout_ms = 15000);

}  // namespace chatd::test
