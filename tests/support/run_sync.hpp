// Runs a coroutine to completion on a fresh io_context (with `threads` threads) and returns its
// value; exceptions propagate to the test.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <thread>
#include <vector>

namespace chatd::test {

template <class T>
T run_sync(boost::asio::io_context& ioc, boost::asio::awaitable<T> work, int threads = 1) {
  auto f = boost::asio::co_spawn(ioc, std::move(work), boost::asio::use_future);
  ioc.restart();
  std::vector<std::thread> extra;
  for (int i = 1; i < threads; ++i) extra.emplace_back([&] { ioc.run(); });
  ioc.run();
  for (auto& t : extra) t.join();
  return f.get();
}

}  // namespace chatd::test
