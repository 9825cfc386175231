#include "domain/batch_queue.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <thread>

using chatd::BatchQueue;

TEST(BatchQueue, DrainsInOrderInBoundedBatchesOneAtATime) {
  boost::asio::io_context ioc;
  std::vector<std::vector<int>> batches;
  int running = 0, max_running = 0;
  BatchQueue<int> q(ioc.get_executor(), 4, [&](std::vector<int>& b) -> boost::asio::awaitable<void> {
    ++running;
    max_running = std::max(max_running, running);
    batches.push_back(b);
    boost::asio::steady_timer t(ioc, std::chrono::milliseconds(5));  // a slow "write"
    co_await t.async_wait(boost::asio::use_awaitable);
    --running;
  });
  q.push(0);
  // The rest arrive while the first batch is being written.
  boost::asio::post(ioc, [&] {
    for (int i = 1; i < 10; ++i) q.push(i);
  });
  ioc.run();
  std::vector<int> all;
  for (const auto& b : batches) {
    EXPECT_LE(b.size(), 4u);
    all.insert(all.end(), b.begin(), b.end());
  }
  EXPECT_EQ(all, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(max_running, 1);
  EXPECT_EQ(batches.front().size(), 1u) << "a quiet queue does not wait to fill a batch";
  EXPECT_GT(batches[1].size(), 1u) << "what arrives during a write goes in the next batch";
}

TEST(BatchQueue, PushFromManyThreadsLosesNothing) {
  boost::asio::io_context ioc;
  std::atomic<int> drained{0};
  BatchQueue<int> q(ioc.get_executor(), 64,
                    [&](std::vector<int>& b) -> boost::asio::awaitable<void> {
                      drained += static_cast<int>(b.size());
                      co_return;
                    });
  auto guard = boost::asio::make_work_guard(ioc);
  std::thread runner([&] { ioc.run(); });
  std::vector<std::thread> producers;
  for (int t = 0; t < 4; ++t)
    producers.emplace_back([&] {
      for (int i = 0; i < 5000; ++i) q.push(i);
    });
  for (auto& p : producers) p.join();
  while (drained < 20000) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  guard.reset();
  runner.join();
  EXPECT_EQ(drained, 20000);
}
