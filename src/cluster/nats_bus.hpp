// The link between chatd nodes: one NATS subject every node publishes its events on and
// subscribes to (its own are not echoed back). The C client (libnats) buffers publishes and
// flushes them from its own thread, so a publish never waits on the network; received
// messages arrive on the client's thread. Reconnects by itself, forever, also when the server
// was unreachable at start.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace chatd::cluster {

struct NatsOptions {
  std::string url;
  std::string node;                     // the connection's name, seen in the server's monitor
  std::string subject = "chatd.events";
  std::function<void(std::string_view)> on_message;
  std::function<void()> on_reconnected;  // NATS is back after an outage
};

class NatsBus {
 public:
  explicit NatsBus(NatsOptions options);  // starts connecting; does not wait for it
  ~NatsBus();
  NatsBus(const NatsBus&) = delete;
  NatsBus& operator=(const NatsBus&) = delete;

  // False when the bytes could not even be buffered (counted as failed).
  bool publish(std::string_view bytes);
  bool connected() const;
  void close();  // flushes what is buffered (briefly), then disconnects

  struct Stats {
    std::uint64_t published = 0, publish_failed = 0, received = 0, reconnects = 0,
                  disconnects = 0;
  };
  Stats stats() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace chatd::cluster
