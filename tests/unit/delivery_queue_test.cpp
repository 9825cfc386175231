// Deliveries coalesce into one position per conversation and recipient while a recording is
// under way, so what waits is bounded by the pairs, not by the message rate.
#include "domain/delivery_queue.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

using namespace chatd;

TEST(DeliveryQueue, ABurstToOneMemberBecomesOnePositionWithEachSender) {
  boost::asio::io_context ioc;
  std::vector<std::vector<DeliveryPosition>> drained;
  DeliveryQueue q(ioc.get_executor(), 100,
                  [&](std::vector<DeliveryPosition>& b) -> boost::asio::awaitable<void> {
                    drained.push_back(b);
                    boost::asio::steady_timer t(ioc, std::chrono::milliseconds(5));
                    co_await t.async_wait(boost::asio::use_awaitable);
                  });
  q.push(Delivery{1, 7, 100, 1, 3});  // starts a recording of this one alone
  boost::asio::post(ioc, [&] {
    // 50 messages of conversation 100 from senders 3 and 4 written to user 7, and two to user 8,
    // while the first recording is under way.
    for (Seq s = 2; s <= 51; ++s) q.push(Delivery{s, 7, 100, s, s % 2 ? 3 : 4});
    q.push(Delivery{60, 8, 100, 5, 3});
    q.push(Delivery{61, 8, 100, 4, 3});
    EXPECT_EQ(q.size(), 2u) << "two positions wait, whatever the number of messages";
  });
  ioc.run();
  ASSERT_EQ(drained.size(), 2u);
  ASSERT_EQ(drained[0].size(), 1u);
  ASSERT_EQ(drained[1].size(), 2u);
  const auto& seven = drained[1][0];
  EXPECT_EQ(seven.user_id, 7);
  EXPECT_EQ(seven.seq, 51);
  EXPECT_EQ(seven.deliveries, 50u);
  ASSERT_EQ(seven.senders.size(), 2u);
  EXPECT_EQ(seven.senders[0], (std::pair<UserId, Seq>{4, 50}));
  EXPECT_EQ(seven.senders[1], (std::pair<UserId, Seq>{3, 51}));
  const auto& eight = drained[1][1];
  EXPECT_EQ(eight.seq, 5) << "the highest seq, whatever the order of the writes";
  EXPECT_EQ(eight.senders, (std::vector<std::pair<UserId, Seq>>{{3, 5}}));
}

TEST(DeliveryQueue, DrainsAtMostMaxBatchPositionsAtATime) {
  boost::asio::io_context ioc;
  std::vector<std::size_t> sizes;
  DeliveryQueue q(ioc.get_executor(), 3,
                  [&](std::vector<DeliveryPosition>& b) -> boost::asio::awaitable<void> {
                    sizes.push_back(b.size());
                    co_return;
                  });
  for (UserId u = 1; u <= 7; ++u) q.push(Delivery{u, u, 1, 1, 99});
  ioc.run();
  EXPECT_EQ(sizes, (std::vector<std::size_t>{3, 3, 1}));
  EXPECT_EQ(q.size(), 0u);
}
