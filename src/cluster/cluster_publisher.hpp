// The domain's EventPublisher when several nodes serve (PROTOCOL §8): each event is serialized
// once, handed to this node's connections and published on NATS for the others, which hand it
// to theirs. An event for a few users (at most `interest_max`: a direct message, a receipt, a
// small group's message) goes to each one's subject, so only the nodes holding them receive it;
// one for more goes once to every node (docs/scaling.md). As the hub's Interest, it keeps this
// node subscribed to the users it holds. Messages pass through the Sequencer on every node, so each connection
// gets a conversation's messages once and in seq order even when they were committed by
// different nodes; a gap (NATS was away) is filled from the database.
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <atomic>
#include <string>
#include <string_view>

#include "cluster/envelope.hpp"
#include "cluster/sequencer.hpp"
#include "domain/event_publisher.hpp"
#include "domain/message_repository.hpp"
#include "hub/hub.hpp"

namespace chatd::cluster {

class NatsBus;

class ClusterPublisher final : public EventPublisher, public hub::Interest {
 public:
  // `interest_max` 0: every event to every node.
  ClusterPublisher(boost::asio::any_io_executor ex, hub::Hub& hub, MessageRepository& messages,
                   std::string node, std::size_t interest_max);

  void attach(NatsBus& bus) { bus_ = &bus; }
  // Revocations from other nodes are applied through this (to the token service) before their
  // connections here are closed.
  void on_remote_revocation(std::function<void(const TokenRevocation&)> f) {
    apply_revocation_ = std::move(f);
  }

  void message(const Message& m, std::span<const UserId> recipients, SessionId origin) override;
  void message_updated(const Message& m, std::span<const UserId> members) override;
  void receipt(UserId to, const Receipt& r) override;
  void presence(std::span<const UserId> to, const PresenceChange& p) override;
  void typing(std::span<const UserId> to, ConversationId c, UserId who) override;
  void revoked(const TokenRevocation& r) override;
  void reaction(const ReactionChange& r, std::span<const UserId> members) override;
  void conversation_updated(const ConversationUpdate& u,
                            std::span<const UserId> members) override;
  void settings_changed(UserId user, ConversationId c, const ConversationSettings& s) override;

  // An envelope from another node (on the NATS client's thread), from `user`'s subject or (0)
  // from every node's.
  void on_remote(std::int64_t user, std::string_view bytes);

  void gained(std::int64_t user) override;
  void lost(std::int64_t user) override;

  const Sequencer& sequencer() const { return sequencer_; }
  std::uint64_t malformed() const { return malformed_; }

 private:
  void frame(std::span<const UserId> to, std::string text);
  // To the nodes of `users` and `also` (0: none), by interest when they are few.
  void publish(std::span<const UserId> users, UserId also, const std::string& bytes);
  bool continuous(const SequencedMessage& m, std::chrono::steady_clock::time_point since) const;
  void deliver(const SequencedMessage& m);
  void fill(const SequencedMessage& like, std::int64_t after, std::int64_t before,
            std::function<void(std::vector<SequencedMessage>)> done);

  boost::asio::any_io_executor ex_;
  hub::Hub& hub_;
  MessageRepository& messages_;
  std::string node_;
  std::size_t interest_max_;
  NatsBus* bus_ = nullptr;
  Sequencer sequencer_;
  std::atomic<std::uint64_t> malformed_{0};
  std::function<void(const TokenRevocation&)> apply_revocation_;
};

}  // namespace chatd::cluster
