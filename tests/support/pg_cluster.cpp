#include "support/pg_cluster.hpp"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "support/chatd_process.hpp"
#include "support/test_database.hpp"

namespace chatd::test {

namespace {

const std::string kBin = "/usr/lib/postgresql/15/bin/";

// PostgreSQL refuses to run as root: its tools run as the postgres system user then.
void as_owner(const std::string& cmd) {
  const std::string full = (::geteuid() == 0 ? "runuser -u postgres -- " : "") + cmd;
  if (std::system(full.c_str()) != 0) throw std::runtime_error("failed: " + full);
}

}  // namespace

void PgCluster::make_dir() {
  char tmpl[] = "/tmp/chatd-pgc-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  std::filesystem::permissions(dir_, std::filesystem::perms::all);  // postgres writes here
  port_ = free_port();
}

PgCluster::PgCluster() {
  make_dir();
  as_owner(kBin + "initdb -D " + dir_ + "/data -U postgres --auth=trust --encoding=UTF8" +
           " --locale=C.UTF-8 >/dev/null");
  start();
}

PgCluster::PgCluster(const PgCluster& primary, bool /*standby*/) {
  make_dir();
  // initdb's pg_hba.conf trusts replication from 127.0.0.1; -R writes standby.signal and the
  // primary's address.
  as_owner(kBin + "pg_basebackup -h 127.0.0.1 -p " + std::to_string(primary.port_) +
           " -U postgres -D " + dir_ + "/data -R -X stream >/dev/null");
  start();
}

void PgCluster::kill9() {
  std::ifstream pidfile(dir_ + "/data/postmaster.pid");
  long postmaster = 0;
  if (!(pidfile >> postmaster) || postmaster <= 0) return;
  ::kill(static_cast<pid_t>(postmaster), SIGKILL);
  std::system(("pkill -KILL -P " + std::to_string(postmaster)).c_str());
}

void PgCluster::promote() { as_owner(kBin + "pg_ctl -D " + dir_ + "/data -w promote >/dev/null"); }

PgCluster::~PgCluster() {
  try {
    resume();
    std::system(((::geteuid() == 0 ? "runuser -u postgres -- " : "") + kBin + "pg_ctl -D " +
                 dir_ + "/data -m immediate stop >/dev/null 2>&1")
                    .c_str());
  } catch (...) {
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void PgCluster::start() {
  as_owner(kBin + "pg_ctl -D " + dir_ + "/data -w -l " + dir_ + "/log -o \"-p " +
           std::to_string(port_) + " -k " + dir_ +
           " -c listen_addresses=" + listen_ + " -c fsync=off\" start >/dev/null");
}

void PgCluster::listen_also(const std::string& address) {
  listen_ += "," + address;
  std::ofstream(dir_ + "/data/pg_hba.conf", std::ios::app)
      << "host all all " << address.substr(0, address.rfind('.')) << ".0/24 trust\n";
  stop();
  start();
}

void PgCluster::stop() { as_owner(kBin + "pg_ctl -D " + dir_ + "/data -m fast -w stop >/dev/null"); }

void PgCluster::signal_all(int sig) {
  std::ifstream pidfile(dir_ + "/data/postmaster.pid");
  long postmaster = 0;
  if (!(pidfile >> postmaster) || postmaster <= 0) return;
  // Children first, so none is started by a postmaster that is still running.
  std::system(("pkill -" + std::string(sig == SIGSTOP ? "STOP" : "CONT") + " -P " +
               std::to_string(postmaster))
                  .c_str());
  ::kill(static_cast<pid_t>(postmaster), sig);
}

void PgCluster::pause() { signal_all(SIGSTOP); }
void PgCluster::resume() { signal_all(SIGCONT); }

std::string PgCluster::conninfo() const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " user=postgres dbname=postgres";
}

std::string PgCluster::scalar(const std::string& sql) const {
  return pg_scalar(conninfo(), sql);
}

}  // namespace chatd::test
