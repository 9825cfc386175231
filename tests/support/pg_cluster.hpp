// A PostgreSQL cluster of one test's own (initdb in a temporary directory, a free port), for
// fault tests that stop, restart or pause the database under a running chatd — which the shared
// cluster of scripts/test must never suffer. As the postgres user when run as root.
#pragma once

#include <cstdint>
#include <string>

namespace chatd::test {

class PgCluster {
 public:
  PgCluster();   // initdb and start
  // A hot standby of `primary` (pg_basebackup -R, streaming), started.
  explicit PgCluster(const PgCluster& primary, bool standby);
  ~PgCluster();  // stop and remove
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  void start();
  void stop();    // fast shutdown: sessions are cut
  // Listens on `address` too and trusts its /24 (a node in a test's network namespace);
  // restarts.
  void listen_also(const std::string& address);
  void pause();   // SIGSTOP to the postmaster and every backend: connected, never answering
  void resume();  // SIGCONT
  void kill9();   // SIGKILL to the postmaster and every backend, as a machine lost
  void promote();  // a standby becomes the primary (pg_ctl promote, waits for it)

  std::uint16_t port() const noexcept { return port_; }
  std::string conninfo() const;
  // The first column of the first row ("" for none); throws on error.
  std::string scalar(const std::string& sql) const;

 private:
  void signal_all(int sig);
  void make_dir();
  std::string dir_;
  std::string listen_ = "127.0.0.1";
  std::uint16_t port_ = 0;
};

}  // namespace chatd::test
