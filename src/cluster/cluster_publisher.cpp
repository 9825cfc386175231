#include "cluster/cluster_publisher.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "cluster/nats_bus.hpp"
#include "ws/event_codec.hpp"
#include "ws/hub_publisher.hpp"

#include <boost/json.hpp>

namespace chatd::cluster {

namespace asio = boost::asio;

ClusterPublisher::ClusterPublisher(asio::any_io_executor ex, hub::Hub& hub,
                                   MessageRepository& messages, std::string node,
                                   std::size_t interest_max)
    : ex_(ex),
      hub_(hub),
      messages_(messages),
      node_(std::move(node)),
      interest_max_(interest_max),
      sequencer_(
          ex, [this](const SequencedMessage& m) { deliver(m); },
          [this](const SequencedMessage& like, std::int64_t after, std::int64_t before,
                 std::function<void(std::vector<SequencedMessage>)> done) {
            fill(like, after, before, std::move(done));
          },
          std::chrono::milliseconds(100), std::chrono::milliseconds(200), 100000,
          [this](const SequencedMessage& m, std::chrono::steady_clock::time_point since) {
            return continuous(m, since);
          }) {}

void ClusterPublisher::gained(std::int64_t user) {
  if (bus_ != nullptr && interest_max_ > 0) bus_->subscribe_user(user);
}

void ClusterPublisher::lost(std::int64_t user) {
  if (bus_ != nullptr && interest_max_ > 0) bus_->unsubscribe_user(user);
}

void ClusterPublisher::publish(std::span<const UserId> users, UserId also,
                               const std::string& bytes) {
  if (bus_ == nullptr) return;
  const std::size_t n = users.size() + (also != 0 ? 1 : 0);
  if (n > interest_max_) {
    bus_->publish(bytes);
    return;
  }
  for (auto u : users) bus_->publish_to_user(u, bytes);
  if (also != 0) bus_->publish_to_user(also, bytes);
}

bool ClusterPublisher::continuous(const SequencedMessage& m,
                                  std::chrono::steady_clock::time_point since) const {
  auto held = [&](std::int64_t u) {
    const auto s = hub_.held_since(u);
    return s && *s <= since;
  };
  if (held(m.sender_id)) return true;
  for (auto u : m.recipients)
    if (held(u)) return true;
  return false;
}

void ClusterPublisher::deliver(const SequencedMessage& m) {
  // Every copy carries the message's position (a connection drops a seq it already has);
  // only a recipient's write counts as delivery (the session checks the sender).
  const hub::Frame f{m.text, hub::MessageRef{m.id, m.conversation_id, m.seq, m.sender_id}};
  hub_.deliver(m.recipients, f);
  hub_.deliver(m.sender_id, f, m.origin_session);
}

void ClusterPublisher::message(const Message& m, std::span<const UserId> recipients,
                               SessionId origin) {
  SequencedMessage s{m.id,
                     m.conversation_id,
                     m.seq,
                     m.sender_id,
                     std::make_shared<const std::string>(ws::encode_message(m)),
                     std::vector<std::int64_t>(recipients.begin(), recipients.end()),
                     origin};
  s.by_interest = s.recipients.size() + 1 <= interest_max_;
  if (bus_ != nullptr) {
    Envelope e{EventKind::message, node_,  origin,        m.id, m.conversation_id,
               m.seq,              m.sender_id, s.recipients, *s.text};
    publish(s.recipients, m.sender_id, encode(e));
  }
  sequencer_.push(std::move(s));
}

void ClusterPublisher::frame(std::span<const UserId> to, std::string text) {
  if (to.empty()) return;
  auto shared = std::make_shared<const std::string>(std::move(text));
  if (bus_ != nullptr) {
    Envelope e;
    e.kind = EventKind::frame;
    e.origin = node_;
    e.users.assign(to.begin(), to.end());
    e.text = *shared;
    publish(to, 0, encode(e));
  }
  hub_.deliver(to, hub::Frame{shared, {}});
}

void ClusterPublisher::message_updated(const Message& m, std::span<const UserId> members) {
  frame(members, ws::encode_message_updated(m));
}

void ClusterPublisher::receipt(UserId to, const Receipt& r) {
  const UserId one[] = {to};
  frame(one, ws::encode_receipt(r));
}

void ClusterPublisher::presence(std::span<const UserId> to, const PresenceChange& p) {
  frame(to, ws::encode_presence(p));
}

void ClusterPublisher::reaction(const ReactionChange& r, std::span<const UserId> members) {
  frame(members, ws::encode_reaction(r));
}

void ClusterPublisher::conversation_updated(const ConversationUpdate& u,
                                            std::span<const UserId> members) {
  frame(members, ws::encode_conversation_updated(u));
}

void ClusterPublisher::settings_changed(UserId user, ConversationId c,
                                        const ConversationSettings& s) {
  const UserId one[] = {user};
  frame(one, ws::encode_conversation_settings(c, s));
}

void ClusterPublisher::typing(std::span<const UserId> to, ConversationId c, UserId who) {
  frame(to, ws::encode_typing(c, who));
}

void ClusterPublisher::revoked(const TokenRevocation& r) {
  if (bus_ != nullptr) {
    Envelope e;
    e.kind = EventKind::revoke;
    e.origin = node_;
    e.users = {r.user};
    e.text = boost::json::serialize(boost::json::object{
        {"jti", r.jti}, {"exp", r.exp}, {"before_ms", r.before_ms}, {"keep_jti", r.keep_jti},
        {"suspended", r.suspended}});
    // To every node: each refuses the ended tokens from now on, holding the user or not.
    bus_->publish(encode(e));
  }
  ws::close_revoked(hub_, r);
}

void ClusterPublisher::on_remote(std::int64_t user, std::string_view bytes) {
  auto e = decode(bytes);
  if (!e) {
    if (malformed_++ == 0) spdlog::warn("malformed cluster event ignored ({} bytes)", bytes.size());
    return;
  }
  if (e->origin == node_) return;  // our own (NATS does not echo; a second node of our name would)
  if (e->kind == EventKind::revoke) {
    boost::system::error_code ec;
    auto v = boost::json::parse(e->text, ec);
    if (ec || !v.is_object() || e->users.size() != 1) {
      ++malformed_;
      return;
    }
    const auto& o = v.as_object();
    TokenRevocation r;
    r.user = e->users[0];
    if (const auto* x = o.if_contains("jti"); x && x->is_string()) r.jti = x->as_string();
    if (const auto* x = o.if_contains("exp"); x && x->is_int64()) r.exp = x->as_int64();
    if (const auto* x = o.if_contains("before_ms"); x && x->is_int64()) r.before_ms = x->as_int64();
    if (const auto* x = o.if_contains("keep_jti"); x && x->is_string()) r.keep_jti = x->as_string();
    if (const auto* x = o.if_contains("suspended"); x && x->is_bool()) r.suspended = x->as_bool();
    if (apply_revocation_) apply_revocation_(r);
    ws::close_revoked(hub_, r);
    return;
  }
  auto text = std::make_shared<const std::string>(std::move(e->text));
  if (e->kind == EventKind::frame) {
    if (user == 0) {
      hub_.deliver(e->users, hub::Frame{text, {}});
    } else if (std::find(e->users.begin(), e->users.end(), user) != e->users.end()) {
      // One copy came for each of its users this node holds: each gives its own user theirs.
      hub_.deliver(user, hub::Frame{text, {}});
    }
    return;
  }
  // The sending connection is on the origin node: here every connection of the sender gets it.
  // A copy by interest comes once per member held here: the first is handed to all of them,
  // the sequencer drops the others as repeats.
  SequencedMessage m{e->message_id, e->conversation_id, e->seq, e->sender_id, text,
                     std::move(e->users), 0};
  m.by_interest = user != 0;
  sequencer_.push(std::move(m));
}

void ClusterPublisher::fill(const SequencedMessage& like, std::int64_t after, std::int64_t before,
                            std::function<void(std::vector<SequencedMessage>)> done) {
  // The members are those of the held message: the sender and its recipients.
  std::vector<std::int64_t> members = like.recipients;
  members.push_back(like.sender_id);
  asio::co_spawn(
      ex_,
      [this, conversation = like.conversation_id, after, before, members = std::move(members),
       done = std::move(done)]() -> asio::awaitable<void> {
        auto got = co_await messages_.range(conversation, after, before);
        std::vector<SequencedMessage> out;
        if (!got) {
          spdlog::warn("conversation {}: messages {}..{} not loaded: {}", conversation, after + 1,
                       before - 1, got.error().message);
        } else {
          for (const auto& m : *got) {
            std::vector<std::int64_t> to;
            for (auto u : members)
              if (u != m.sender_id) to.push_back(u);
            out.push_back(SequencedMessage{m.id, m.conversation_id, m.seq, m.sender_id,
                                           std::make_shared<const std::string>(
                                               ws::encode_message(m)),
                                           std::move(to), 0});
          }
          if (!out.empty())
            spdlog::info("conversation {}: {} message(s) a node missed, loaded from the database",
                         conversation, out.size());
        }
        done(std::move(out));
      },
      asio::detached);
}

}  // namespace chatd::cluster
