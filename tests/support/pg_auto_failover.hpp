// pg_auto_failover (Debian's postgresql-15-auto-failover) for the failover tests: a monitor, a
// primary and a synchronous standby in a temporary directory, each pg_autoctl service in a
// session of its own, so that one node's keeper and PostgreSQL can be killed together, as a
// machine lost. The monitor here checks health every second and fails over after 2 s without an
// answer (its defaults, which scripts/cluster --ha keeps: 5 s checks, 20 s unhealthy, a 30 s
// demote timeout).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace chatd::test {

class PgAutoFailover {
 public:
  PgAutoFailover();   // returns once one node is primary and the other its secondary
  ~PgAutoFailover();  // every service stopped, the directory removed
  PgAutoFailover(const PgAutoFailover&) = delete;
  PgAutoFailover& operator=(const PgAutoFailover&) = delete;

  // Both nodes, target_session_attrs=read-write, database chatd (CHATD_DATABASE_URL).
  std::string url() const;
  // The node (0 or 1) that is primary (or wait_primary: alone) by the monitor's word, or -1 (a
  // killed primary keeps its last report, so its goal is checked too).
  int primary() const;
  void kill(int node);  // SIGKILL to the node's whole session: its keeper and its PostgreSQL
  // The first column of the first row on `node`'s database chatd; throws on error.
  std::string scalar(int node, const std::string& sql) const;

 private:
  pid_t service(const std::vector<std::string>& args, const std::string& log);
  std::string monitor_scalar(const std::string& sql) const;
  std::string dir_;
  std::uint16_t monitor_port_ = 0;
  std::uint16_t ports_[2] = {0, 0};
  pid_t monitor_ = -1;
  pid_t nodes_[2] = {-1, -1};
};

}  // namespace chatd::test
