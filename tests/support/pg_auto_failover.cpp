#include "support/pg_auto_failover.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include "support/chatd_process.hpp"
#include "support/test_database.hpp"

namespace chatd::test {

namespace {

const std::string kBin = "/usr/lib/postgresql/15/bin";

// pg_autoctl's command line: as the postgres user when root, its state under `dir`.
std::vector<std::string> pg_autoctl(const std::string& dir) {
  std::vector<std::string> cmd;
  if (::geteuid() == 0) cmd = {"runuser", "-u", "postgres", "--"};
  cmd.insert(cmd.end(), {"env", "PATH=" + kBin + ":/usr/bin:/bin",
                         "XDG_CONFIG_HOME=" + dir + "/config", "XDG_DATA_HOME=" + dir + "/share",
                         "XDG_RUNTIME_DIR=" + dir + "/run", "pg_autoctl"});
  return cmd;
}

std::string quoted(const std::vector<std::string>& args) {
  std::string out;
  for (const auto& a : args) out += (out.empty() ? "'" : " '") + a + "'";
  return out;
}

bool wait_until(std::chrono::seconds limit, const auto& done) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    try {
      if (done()) return true;
    } catch (const std::exception&) {  // not answering yet
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

}  // namespace

pid_t PgAutoFailover::service(const std::vector<std::string>& args, const std::string& log) {
  auto cmd = pg_autoctl(dir_);
  cmd.insert(cmd.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : cmd) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::setsid();  // a session of its own: killed as one
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

PgAutoFailover::PgAutoFailover() {
  char tmpl[] = "/tmp/chatd-paf-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  std::filesystem::permissions(dir_, std::filesystem::perms::all);  // postgres writes here
  monitor_port_ = free_port();
  ports_[0] = free_port();
  ports_[1] = free_port();
  const std::vector<std::string> common{"--auth", "trust", "--no-ssl", "--hostname", "127.0.0.1"};

  auto create = pg_autoctl(dir_);
  create.insert(create.end(), {"create", "monitor", "--pgdata", dir_ + "/monitor", "--pgport",
                               std::to_string(monitor_port_)});
  create.insert(create.end(), common.begin(), common.end());
  if (std::system((quoted(create) + " >" + dir_ + "/monitor.log 2>&1").c_str()) != 0)
    throw std::runtime_error("pg_autoctl create monitor failed: " + dir_ + "/monitor.log");
  monitor_ = service({"run", "--pgdata", dir_ + "/monitor"}, dir_ + "/monitor.log");
  if (!wait_until(std::chrono::seconds(30), [&] { return monitor_scalar("SELECT 1") == "1"; }))
    throw std::runtime_error("the pg_auto_failover monitor did not start");
  for (const auto* s : {"health_check_period = 1000", "health_check_retry_delay = 500",
                        "health_check_max_retries = 1", "health_check_timeout = 1000",
                        "node_considered_unhealthy_timeout = 2000",
                        "primary_demote_timeout = 2000"})
    monitor_scalar(std::string("ALTER SYSTEM SET pgautofailover.") + s);
  monitor_scalar("SELECT pg_reload_conf()");

  const auto monitor_uri = "postgres://autoctl_node@127.0.0.1:" + std::to_string(monitor_port_) +
                           "/pg_auto_failover?sslmode=disable";
  for (int k = 0; k < 2; ++k) {
    const auto name = "node" + std::to_string(k + 1);
    std::vector<std::string> args{"create",  "postgres", "--pgdata", dir_ + "/" + name,
                                  "--pgport", std::to_string(ports_[k]), "--name", name,
                                  "--dbname", "chatd",    "--monitor", monitor_uri,
                                  "--listen", "127.0.0.1"};
    args.insert(args.end(), common.begin(), common.end());
    args.push_back("--run");
    nodes_[k] = service(args, dir_ + "/" + name + ".log");
    if (k == 0 && !wait_until(std::chrono::seconds(60), [&] {
          return monitor_scalar("SELECT count(*) FROM pgautofailover.node WHERE nodename ="
                                " 'node1' AND reportedstate IN ('single', 'wait_primary',"
                                " 'primary')") == "1";
        }))
      throw std::runtime_error("node1 did not become the primary: " + dir_ + "/node1.log");
  }
  const bool settled = wait_until(std::chrono::seconds(120), [&] {
    // The standby's base backup waits for a checkpoint, spread over minutes unless one is asked.
    try {
      scalar(0, "CHECKPOINT");
    } catch (const std::exception&) {
    }
    return monitor_scalar("SELECT string_agg(reportedstate::text, ',' ORDER BY reportedstate)"
                          " FROM pgautofailover.node") == "primary,secondary";
  });
  if (!settled) throw std::runtime_error("pg_auto_failover did not settle: " + dir_);
}

PgAutoFailover::~PgAutoFailover() {
  for (pid_t* p : {&nodes_[1], &nodes_[0], &monitor_}) {
    if (*p <= 0) continue;
    ::kill(-*p, SIGTERM);
    int st;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (::waitpid(*p, &st, WNOHANG) == 0 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ::kill(-*p, SIGKILL);
    ::waitpid(*p, &st, WNOHANG);
    *p = -1;
  }
  for (const auto* d : {"node1", "node2", "monitor"})  // any PostgreSQL left behind
    std::system(((::geteuid() == 0 ? "runuser -u postgres -- " : "") + kBin + "/pg_ctl -D " +
                 dir_ + "/" + d + " -m immediate stop >/dev/null 2>&1")
                    .c_str());
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string PgAutoFailover::url() const {
  return "host=127.0.0.1,127.0.0.1 port=" + std::to_string(ports_[0]) + "," +
         std::to_string(ports_[1]) + " user=postgres dbname=chatd target_session_attrs=read-write";
}

int PgAutoFailover::primary() const {
  const auto name = monitor_scalar(
      "SELECT nodename FROM pgautofailover.node WHERE reportedstate = goalstate"
      " AND reportedstate IN ('primary', 'wait_primary', 'single') ORDER BY nodeid LIMIT 1");
  return name == "node1" ? 0 : name == "node2" ? 1 : -1;
}

void PgAutoFailover::kill(int node) {
  pid_t& p = nodes_[node];
  if (p <= 0) return;
  ::kill(-p, SIGKILL);
  int st;
  ::waitpid(p, &st, 0);
  p = -1;
}

std::string PgAutoFailover::scalar(int node, const std::string& sql) const {
  return pg_scalar("host=127.0.0.1 port=" + std::to_string(ports_[node]) +
                       " user=postgres dbname=chatd",
                   sql);
}

std::string PgAutoFailover::monitor_scalar(const std::string& sql) const {
  return pg_scalar("host=127.0.0.1 port=" + std::to_string(monitor_port_) +
                       " user=postgres dbname=pg_auto_failover",
                   sql);
}

}  // namespace chatd::test
