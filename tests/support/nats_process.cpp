#include "support/nats_process.hpp"

#include <chrono>
#include <stdexcept>
#include <thread>

#include "support/chatd_process.hpp"
#include "support/http_client.hpp"
#include "support/server_process.hpp"

namespace chatd::test {

NatsProcess::NatsProcess() : port_(free_port()) {}

NatsProcess::~NatsProcess() { stop(); }

void NatsProcess::start() {
  if (pid_ > 0) return;
  std::vector<std::string> args{"-a", bind_, "-p", std::to_string(port_)};
  if (cluster_port_ != 0) {
    args.insert(args.end(), {"-m", std::to_string(monitor_port_), "--cluster_name", "chatd",
                             "--cluster",
                             "nats://127.0.0.1:" + std::to_string(cluster_port_)});
    std::string routes;
    for (auto p : routes_)
      routes += (routes.empty() ? "" : ",") + std::string("nats://127.0.0.1:") + std::to_string(p);
    if (!routes.empty()) args.insert(args.end(), {"--routes", routes});
  }
  pid_ = spawn_quiet("/usr/sbin/nats-server", args);
  wait_accepting(port_, "nats-server");
}

void NatsProcess::stop() { terminate(pid_); }

void NatsProcess::kill9() { terminate(pid_, SIGKILL); }

std::vector<std::unique_ptr<NatsProcess>> nats_cluster(int n) {
  std::vector<std::unique_ptr<NatsProcess>> servers;
  for (int i = 0; i < n; ++i) {
    servers.push_back(std::make_unique<NatsProcess>());
    servers.back()->cluster_port_ = free_port();
    servers.back()->monitor_port_ = free_port();
  }
  for (auto& s : servers)
    for (auto& peer : servers)
      if (peer != s) s->routes_.push_back(peer->cluster_port_);
  for (auto& s : servers) s->start();
  // Routes form in the background; a message published before they do would reach only the
  // subscribers of its own server. Each server's monitoring endpoint tells when they have.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  const auto want = "\"num_routes\": " + std::to_string(n - 1);
  const auto routed = [&](const NatsProcess& s) {
    try {
      return http_request(s.monitor_port_, "GET", "/routez").body.find(want) != std::string::npos;
    } catch (const std::exception&) {  // its monitoring port not open yet
      return false;
    }
  };
  for (auto& s : servers) {
    while (!routed(*s)) {
      if (std::chrono::steady_clock::now() > deadline)
        throw std::runtime_error("the NATS cluster's routes did not form");
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  return servers;
}

std::string nats_urls(const std::vector<std::unique_ptr<NatsProcess>>& servers) {
  std::string out;
  for (const auto& s : servers) out += (out.empty() ? "" : ",") + s->url();
  return out;
}

}  // namespace chatd::test
