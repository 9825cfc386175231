#include "support/netns.hpp"

#include <unistd.h>

#include <cstdlib>
#include <stdexcept>

namespace chatd::test {

namespace {

void run(const std::string& cmd) {
  if (std::system((cmd + " >/dev/null 2>&1").c_str()) != 0)
    throw std::runtime_error("failed: " + cmd);
}

}  // namespace

bool Netns::available() {
  if (::geteuid() != 0) return false;
  const std::string probe = "chatd-probe-" + std::to_string(::getpid());
  if (std::system(("ip netns add " + probe + " >/dev/null 2>&1").c_str()) != 0) return false;
  std::system(("ip netns del " + probe + " >/dev/null 2>&1").c_str());
  return true;
}

Netns::Netns() {
  const auto id = std::to_string(::getpid());
  name_ = "chatd-" + id;
  backend_ = "cb" + id;  // interface names: at most 15 characters
  client_ = "cc" + id;
  net_ = static_cast<int>(::getpid() % 200) + 20;
  run("ip netns add " + name_);
  try {
    run("ip -n " + name_ + " link set lo up");
    const std::pair<std::string, std::string> links[] = {
        {backend_, "10." + std::to_string(net_) + ".1."},
        {client_, "10." + std::to_string(net_) + ".2."}};
    for (const auto& [link, net] : links) {
      run("ip link add " + link + " type veth peer name " + link + "n");
      run("ip link set " + link + "n netns " + name_);
      run("ip addr add " + net + "1/24 dev " + link);
      run("ip link set " + link + " up");
      run("ip -n " + name_ + " addr add " + net + "2/24 dev " + link + "n");
      run("ip -n " + name_ + " link set " + link + "n up");
    }
  } catch (...) {
    std::system(("ip link del " + backend_ + " >/dev/null 2>&1").c_str());
    std::system(("ip link del " + client_ + " >/dev/null 2>&1").c_str());
    std::system(("ip netns del " + name_ + " >/dev/null 2>&1").c_str());
    throw;
  }
}

Netns::~Netns() {
  // Deleting one end of a veth pair deletes both; the namespace goes once its processes have.
  std::system(("ip link del " + backend_ + " >/dev/null 2>&1").c_str());
  std::system(("ip link del " + client_ + " >/dev/null 2>&1").c_str());
  std::system(("ip netns del " + name_ + " >/dev/null 2>&1").c_str());
}

std::string Netns::backend_host() const { return "10." + std::to_string(net_) + ".1.1"; }
std::string Netns::client_address() const { return "10." + std::to_string(net_) + ".2.2"; }

void Netns::cut_backend() { run("ip link set " + backend_ + " down"); }

void Netns::heal_backend() { run("ip link set " + backend_ + " up"); }

}  // namespace chatd::test
