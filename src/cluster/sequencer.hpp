// Puts a conversation's messages back in `seq` order on this node. With several nodes, two
// messages of one conversation committed one after the other by different nodes may reach a
// third node the other way round, or not at all while NATS is away. Every message event of
// this node, its own and the others', passes through here: one that comes early is held until
// the ones before it arrive, and a gap that stays open for `hold` is filled from the database
// (messages are committed before they are published). A repeated seq is dropped.
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace chatd::cluster {

struct SequencedMessage {
  std::int64_t id = 0, conversation_id = 0, seq = 0, sender_id = 0;
  std::shared_ptr<const std::string> text;  // the `message` frame
  std::vector<std::int64_t> recipients;     // the other members
  std::uint64_t origin_session = 0;         // on the sending node: the connection that sent it
  // Routed by interest (to its members' subjects): it reaches this node only while the node
  // holds one of them, so a gap may be messages sent while it held none (see `Continuous`).
  bool by_interest = false;
};

class Sequencer {
 public:
  using Deliver = std::function<void(const SequencedMessage&)>;
  // Loads the messages after `after_seq` and before `before_seq` of a conversation and hands
  // them to `done` (on any thread); `like` is a message of that conversation (its members).
  using Fill = std::function<void(const SequencedMessage& like, std::int64_t after_seq,
                                  std::int64_t before_seq,
                                  std::function<void(std::vector<SequencedMessage>)> done)>;

  // `settle`: the first message this node sees of a conversation (other than its first
  // message) waits this long for earlier ones still on their way from other nodes. 30 ms lost
  // one message in 80 of the three-node group test on a loaded machine (an earlier seq came
  // later and was dropped as a repeat); 200 ms costs only a conversation's first message on a
  // node that had not seen it for a minute.
  // Whether some member of `m`'s conversation (its sender or recipients) has been held here
  // without a break since `since`: then every message routed by interest since has reached this
  // node, and a gap is one still on its way. Otherwise what this node saw of the conversation
  // is stale (the messages it missed were replayed to its connections from the database as they
  // connected), and the message is taken as the first of a newly seen conversation.
  using Continuous = std::function<bool(const SequencedMessage& m,
                                        std::chrono::steady_clock::time_point since)>;

  Sequencer(boost::asio::any_io_executor ex, Deliver deliver, Fill fill,
            std::chrono::milliseconds hold = std::chrono::milliseconds(100),
            std::chrono::milliseconds settle = std::chrono::milliseconds(200),
            std::size_t max_conversations = 100000, Continuous continuous = {});

  // Thread-safe. Delivers at once when in order, holds when early, drops a repeat.
  void push(SequencedMessage m);

  struct Stats {
    std::uint64_t delivered = 0, held = 0, duplicates = 0, filled = 0, skipped = 0, stale = 0;
  };
  Stats stats() const;

 private:
  struct Conversation {
    std::int64_t next = 0;  // the seq expected next
    std::map<std::int64_t, SequencedMessage> held;
    bool filling = false;
    bool settling = false;  // newly seen: collecting what is in flight before the first release
    std::chrono::steady_clock::time_point touched;
  };
  void release(Conversation& c);  // under the lock
  void gap_timeout(std::int64_t conversation);
  void settled(std::int64_t conversation);
  void arm(std::chrono::milliseconds after, std::int64_t conversation, bool settle);
  void filled(std::int64_t conversation, std::vector<SequencedMessage> got);
  void trim();  // under the lock

  boost::asio::any_io_executor ex_;
  Deliver deliver_;
  Fill fill_;
  std::chrono::milliseconds hold_;
  std::chrono::milliseconds settle_;
  std::size_t max_conversations_;
  Continuous continuous_;
  mutable std::mutex mutex_;
  std::unordered_map<std::int64_t, Conversation> conversations_;
  std::size_t fresh_since_trim_ = 0;
  Stats stats_;
};

}  // namespace chatd::cluster
