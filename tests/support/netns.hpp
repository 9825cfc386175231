// A network namespace of a test's own (iproute2's `ip`, as root) joined to this one by two veth
// pairs: a backend link (the namespace reaches the database and NATS at backend_host()) and a
// client link (clients here reach a server in the namespace at client_address()). Cutting the
// backend link partitions a node from the cluster while its clients still reach it; healing it
// restores the addresses and routes. Removed with everything it made.
#pragma once

#include <string>

namespace chatd::test {

class Netns {
 public:
  // Throws when the namespace cannot be made (not root, no iproute2).
  Netns();
  ~Netns();
  Netns(const Netns&) = delete;
  Netns& operator=(const Netns&) = delete;

  static bool available();  // root with `ip netns` working

  const std::string& name() const noexcept { return name_; }
  // This side's address of the backend link (servers here listen on it too).
  std::string backend_host() const;
  // The namespace's address on the client link (a server in the namespace listens on it).
  std::string client_address() const;

  void cut_backend();   // the backend link down: packets either way are dropped
  void heal_backend();  // up again, with its address and route

 private:
  std::string name_, backend_, client_;
  int net_ = 0;  // the second octet's third: 10.<net>.x.y, one per test process
};

}  // namespace chatd::test
