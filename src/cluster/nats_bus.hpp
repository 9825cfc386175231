// The link between chatd nodes over NATS: one subject every node subscribes to (events for many
// users go there), and one subject per user (`<prefix>.u.<id>`) that a node subscribes to while
// it holds a connection of that user, so NATS routes an event for a few users only to the nodes
// that hold them (docs/scaling.md). A node's own publishes are not echoed back. The C client
// (libnats) buffers publishes and flushes them from its own thread, so a publish never waits on
// the network; received messages arrive on one delivery thread of the client, in the order the
// server sent them whatever their subscription. Reconnects by itself, forever (subscriptions are
// renewed by the client), also when the server was unreachable at start.
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
  std::string subject = "chatd.events";  // every node's; users' subjects are `<subject>.u.<id>`
  // (subject it came on, the bytes); `user` is the user of a user subject, else 0.
  std::function<void(std::int64_t user, std::string_view)> on_message;
  std::function<void()> on_reconnected;  // NATS is back after an outage
};

class NatsBus {
 public:
  explicit NatsBus(NatsOptions options);  // starts connecting; does not wait for it
  ~NatsBus();
  NatsBus(const NatsBus&) = delete;
  NatsBus& operator=(const NatsBus&) = delete;

  // False when the bytes could not even be buffered (counted as failed). To every node:
  bool publish(std::string_view bytes);
  // To the nodes subscribed to `user` (none: NATS drops it).
  bool publish_to_user(std::int64_t user, std::string_view bytes);
  // While subscribed, events published to `user` reach this node. Counted: a user subscribed
  // twice needs two unsubscribes. Thread-safe, non-blocking (the SUB is buffered).
  void subscribe_user(std::int64_t user);
  void unsubscribe_user(std::int64_t user);
  // Calls `done` (on another thread) once NATS has answered a round trip sent after this call:
  // every subscription made before it is then in force at the server. Also called when that
  // cannot be known (NATS away: the reconnect replays), never not at all.
  void when_subscribed(std::function<void()> done);
  std::size_t user_subscriptions() const;
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
