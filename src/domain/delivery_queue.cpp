#include "domain/delivery_queue.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <algorithm>

namespace chatd {

DeliveryQueue::DeliveryQueue(boost::asio::any_io_executor ex, std::size_t max_batch, Drain drain)
    : ex_(std::move(ex)), max_batch_(std::max<std::size_t>(1, max_batch)), drain_(std::move(drain)) {}

void DeliveryQueue::push(const Delivery& d) {
  {
    std::lock_guard lock(mutex_);
    auto [it, fresh] = index_.try_emplace(Key{d.conversation_id, d.user_id}, pending_.size());
    if (fresh) pending_.push_back(DeliveryPosition{d.conversation_id, d.user_id, 0, {}, 0});
    auto& p = pending_[it->second];
    p.seq = std::max(p.seq, d.seq);
    ++p.deliveries;
    auto s = std::find_if(p.senders.begin(), p.senders.end(),
                          [&](const auto& e) { return e.first == d.sender_id; });
    if (s == p.senders.end())
      p.senders.emplace_back(d.sender_id, d.seq);
    else
      s->second = std::max(s->second, d.seq);
    if (running_) return;
    running_ = true;
  }
  boost::asio::co_spawn(ex_, run(), boost::asio::detached);
}

std::size_t DeliveryQueue::size() const {
  std::lock_guard lock(mutex_);
  return pending_.size();
}

boost::asio::awaitable<void> DeliveryQueue::run() {
  std::vector<DeliveryPosition> taken, chunk;
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (pending_.empty()) {
        running_ = false;
        co_return;
      }
      taken.swap(pending_);
      index_.clear();
    }
    for (std::size_t at = 0; at < taken.size(); at += max_batch_) {
      const auto end = std::min(taken.size(), at + max_batch_);
      chunk.assign(std::make_move_iterator(taken.begin() + static_cast<std::ptrdiff_t>(at)),
                   std::make_move_iterator(taken.begin() + static_cast<std::ptrdiff_t>(end)));
      co_await drain_(chunk);
    }
    taken.clear();
  }
}

}  // namespace chatd
