#include "cluster/sequencer.hpp"

#include <boost/asio/steady_timer.hpp>

namespace chatd::cluster {

Sequencer::Sequencer(boost::asio::any_io_executor ex, Deliver deliver, Fill fill,
                     std::chrono::milliseconds hold, std::chrono::milliseconds settle,
                     std::size_t max_conversations, Continuous continuous)
    : ex_(std::move(ex)),
      deliver_(std::move(deliver)),
      fill_(std::move(fill)),
      hold_(hold),
      settle_(settle),
      max_conversations_(max_conversations),
      continuous_(std::move(continuous)) {}

void Sequencer::arm(std::chrono::milliseconds after, std::int64_t conversation, bool settle) {
  auto t = std::make_shared<boost::asio::steady_timer>(ex_, after);
  t->async_wait([this, t, conversation, settle](const boost::system::error_code& ec) {
    if (ec) return;
    if (settle)
      settled(conversation);
    else
      gap_timeout(conversation);
  });
}

void Sequencer::push(SequencedMessage m) {
  bool arm_gap = false, arm_settle = false;
  const auto conversation = m.conversation_id;
  {
    std::lock_guard l(mutex_);
    auto [it, inserted] = conversations_.try_emplace(conversation);
    bool fresh = inserted;
    auto& c = it->second;
    const auto last_seen = c.touched;
    c.touched = std::chrono::steady_clock::now();
    if (!fresh && m.by_interest && m.seq > c.next && c.held.empty() && !c.filling &&
        !c.settling && continuous_ && !continuous_(m, last_seen)) {
      ++stats_.stale;
      fresh = true;  // what came before was replayed to whoever connected since
    }
    if (fresh) {
      // The first this node sees of it. A conversation's first message goes at once; a later
      // one waits briefly, since the one before may still be on its way from another node.
      c.next = m.seq;
      if (m.seq > 1) {
        c.settling = true;
        arm_settle = true;
      }
    }
    if (c.settling) {
      if (!c.held.emplace(m.seq, std::move(m)).second) ++stats_.duplicates;
    } else if (m.seq < c.next || c.held.contains(m.seq)) {
      ++stats_.duplicates;
      return;
    } else if (m.seq == c.next) {
      deliver_(m);  // under the lock: frames reach each connection's strand in seq order
      ++stats_.delivered;
      ++c.next;
      release(c);
    } else {
      arm_gap = c.held.empty();
      c.held.emplace(m.seq, std::move(m));
      ++stats_.held;
    }
    if (inserted && conversations_.size() > max_conversations_ &&
        ++fresh_since_trim_ >= max_conversations_ / 10 + 1) {
      fresh_since_trim_ = 0;
      trim();
    }
  }
  if (arm_settle) arm(settle_, conversation, true);
  if (arm_gap) arm(hold_, conversation, false);
}

void Sequencer::settled(std::int64_t conversation) {
  bool gap = false;
  {
    std::lock_guard l(mutex_);
    auto it = conversations_.find(conversation);
    if (it == conversations_.end() || !it->second.settling) return;
    auto& c = it->second;
    c.settling = false;
    if (!c.held.empty()) c.next = c.held.begin()->first;
    release(c);
    gap = !c.held.empty();
  }
  if (gap) arm(hold_, conversation, false);
}

void Sequencer::release(Conversation& c) {
  while (!c.held.empty() && c.held.begin()->first == c.next) {
    deliver_(c.held.begin()->second);
    ++stats_.delivered;
    c.held.erase(c.held.begin());
    ++c.next;
  }
}

void Sequencer::gap_timeout(std::int64_t conversation) {
  SequencedMessage like;
  std::int64_t after = 0, before = 0;
  {
    std::lock_guard l(mutex_);
    auto it = conversations_.find(conversation);
    if (it == conversations_.end() || it->second.held.empty() || it->second.filling ||
        it->second.settling)
      return;
    auto& c = it->second;
    c.filling = true;
    like = c.held.begin()->second;
    after = c.next - 1;
    before = c.held.begin()->first;
  }
  fill_(like, after, before, [this, conversation](std::vector<SequencedMessage> got) {
    filled(conversation, std::move(got));
  });
}

void Sequencer::filled(std::int64_t conversation, std::vector<SequencedMessage> got) {
  bool rearm = false;
  {
    std::lock_guard l(mutex_);
    auto it = conversations_.find(conversation);
    if (it == conversations_.end()) return;
    auto& c = it->second;
    c.filling = false;
    for (auto& m : got) {
      if (m.seq != c.next) continue;
      deliver_(m);
      ++stats_.filled;
      ++c.next;
      release(c);
    }
    // What the database does not have (it cannot be: a later seq was committed) is given up
    // on rather than waited for forever.
    if (!c.held.empty() && c.held.begin()->first > c.next) {
      stats_.skipped += static_cast<std::uint64_t>(c.held.begin()->first - c.next);
      c.next = c.held.begin()->first;
      release(c);
    }
    rearm = !c.held.empty();
  }
  if (rearm) gap_timeout(conversation);
}

void Sequencer::trim() {
  // Forget conversations quiet for a minute with nothing held; the next message of one is
  // taken as its first.
  const auto cutoff = std::chrono::steady_clock::now() - std::chrono::minutes(1);
  for (auto it = conversations_.begin(); it != conversations_.end();) {
    if (it->second.held.empty() && !it->second.filling && !it->second.settling &&
        it->second.touched < cutoff)
      it = conversations_.erase(it);
    else
      ++it;
  }
}

Sequencer::Stats Sequencer::stats() const {
  std::lock_guard l(mutex_);
  return stats_;
}

}  // namespace chatd::cluster
