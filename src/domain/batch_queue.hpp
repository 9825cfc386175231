// Adaptive batching ("group commit"): items pushed from any thread are drained by at most one
// coroutine at a time, in batches of up to `max_batch`. While one batch is being written, the
// next one gathers, so a quiet system pays no waiting window and a busy one writes in bulk.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>

#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace chatd {

// A coroutine's completion handler as a callback an item can carry: called from the thread
// that drains the queue, it resumes the caller on the caller's own executor.
template <class... Args, class Handler>
std::function<void(Args...)> resume_on_home(Handler handler) {
  auto h = std::make_shared<Handler>(std::move(handler));
  return [h](Args... args) {
    auto home = boost::asio::get_associated_executor(*h);
    boost::asio::dispatch(home, [h, ... args = std::move(args)]() mutable {
      std::move(*h)(std::move(args)...);
    });
  };
}

template <class Item>
class BatchQueue {
 public:
  using Drain = std::function<boost::asio::awaitable<void>(std::vector<Item>&)>;

  BatchQueue(boost::asio::any_io_executor ex, std::size_t max_batch, Drain drain)
      : ex_(std::move(ex)), max_batch_(max_batch), drain_(std::move(drain)) {}

  // Items of one BatchQueue are drained in the order they were pushed.
  void push(Item item) {
    {
      std::lock_guard lock(mutex_);
      pending_.push_back(std::move(item));
      if (running_) return;
      running_ = true;
    }
    boost::asio::co_spawn(ex_, run(), boost::asio::detached);
  }

  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return pending_.size();
  }

 private:
  boost::asio::awaitable<void> run() {
    std::vector<Item> batch;
    for (;;) {
      batch.clear();
      {
        std::lock_guard lock(mutex_);
        while (!pending_.empty() && batch.size() < max_batch_) {
          batch.push_back(std::move(pending_.front()));
          pending_.pop_front();
        }
        if (batch.empty()) {
          running_ = false;
          co_return;
        }
      }
      co_await drain_(batch);
    }
  }

  boost::asio::any_io_executor ex_;
  std::size_t max_batch_;
  Drain drain_;
  mutable std::mutex mutex_;
  std::deque<Item> pending_;
  bool running_ = false;
};

}  // namespace chatd
