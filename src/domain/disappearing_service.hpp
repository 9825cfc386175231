// Disappearing messages (PROTOCOL §9): a conversation's timer, set by either member of a direct
// conversation or a group's admins; messages stored while it is set expire `seconds` after they
// were sent, are never read from then on (the statements filter them), and are erased — content,
// attachment links, reactions — by a sweeper within CHATD_EXPIRY_SWEEP_SECONDS, in bounded
// batches, one node at a time.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <vector>

#include "domain/error.hpp"
#include "domain/event_publisher.hpp"
#include "domain/message.hpp"

namespace chatd {

inline constexpr int kMinDisappearingSeconds = 5;
inline constexpr int kMaxDisappearingSeconds = 7776000;  // 90 days

struct TimerOutcome {
  // not_found: no such conversation, or the caller is not in it; not_allowed: a group member who
  // is not an admin.
  enum class Kind { set, not_found, not_allowed };
  Kind kind = Kind::set;
  std::vector<UserId> members;  // set only
};

// What one sweep did: whether this node held the sweeping lock, and how many it erased.
struct SweepOutcome {
  bool swept = false;
  std::size_t erased = 0;
};

class DisappearingRepository {
 public:
  virtual ~DisappearingRepository() = default;
  virtual boost::asio::awaitable<Result<TimerOutcome>> set_timer(UserId user, ConversationId c,
                                                                 std::optional<int> seconds) = 0;
  // Erases up to `limit` expired messages in one transaction, unless another node is sweeping.
  virtual boost::asio::awaitable<Result<SweepOutcome>> sweep(int limit) = 0;
};

struct DisappearingOptions {
  std::chrono::seconds sweep_every{60};
  int batch = 500;  // messages per sweeping transaction
};

class DisappearingService {
 public:
  DisappearingService(DisappearingRepository& repo, EventPublisher& publisher,
                      DisappearingOptions options = {})
      : repo_(repo), publisher_(publisher), options_(options) {}

  // `seconds` null clears the timer; else 5–7,776,000. Then `conversation_updated` to every
  // member.
  boost::asio::awaitable<Result<std::optional<int>>> set_timer(UserId user, ConversationId c,
                                                               std::optional<std::int64_t> seconds);

  // Erases every expired message now, batch after batch; returns how many.
  boost::asio::awaitable<std::size_t> sweep_now();
  // sweep_now() every `sweep_every`, until the executor stops.
  boost::asio::awaitable<void> run();

 private:
  DisappearingRepository& repo_;
  EventPublisher& publisher_;
  DisappearingOptions options_;
};

}  // namespace chatd
