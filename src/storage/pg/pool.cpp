#include "storage/pg/pool.hpp"

#include "domain/metrics.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace chatd::pg {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;

Lease::Lease(Pool* pool, std::unique_ptr<Connection> conn)
    : pool_(pool), pool_alive_(pool->alive_), conn_(std::move(conn)) {}

Lease::~Lease() {
  if (conn_ && *pool_alive_) pool_->release(std::move(conn_));
}

Pool::Pool(asio::any_io_executor io, PoolOptions options)
    : io_(io), strand_(asio::make_strand(io)), options_(std::move(options)) {}

// Runs after every thread has left the io_context (App joins them first), so no lease is
// being released concurrently.
Pool::~Pool() { *alive_ = false; }

awaitable<PgResult<Lease>> Pool::acquire(Priority priority) {
  // The bookkeeping runs on the pool's strand; the caller resumes on its own executor.
  const auto started = std::chrono::steady_clock::now();
  auto conn = co_await asio::co_spawn(strand_, acquire_on_strand(priority), use_awaitable);
  metrics().db_acquire_wait.observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  if (!conn) co_return conn.error();
  co_return Lease(this, std::move(*conn));
}

awaitable<PgResult<std::unique_ptr<Connection>>> Pool::acquire_on_strand(Priority priority) {
  const auto deadline = std::chrono::steady_clock::now() + options_.acquire_timeout;
  for (;;) {
    if (closed_) co_return PgError{errc::unavailable, "57P01", "", "pool closed"};
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      publish();
      co_return std::move(c);
    }
    if (total_ < options_.max_size) {
      ++total_;
      publish();
      auto c = co_await Connection::connect(io_, options_.conninfo, options_.query_timeout);
      if (!c) {
        --total_;
        publish();
        Metrics::add(metrics().db_connect_failures);
        spdlog::warn("database connection failed: {}", c.error().message);
        wake_one(nullptr);  // let a waiter try in our place
        co_return c.error();
      }
      co_return std::move(*c);
    }
    if (std::chrono::steady_clock::now() >= deadline)
      co_return PgError{errc::unavailable, "53300", "", "database pool exhausted"};
    auto w = std::make_shared<Waiter>(strand_);
    w->timer.expires_at(deadline);
    if (priority == Priority::first) {
      waiters_.push_front(w);
    } else {
      waiters_.push_back(w);
    }
    waiting_.fetch_add(1, std::memory_order_relaxed);
    boost::system::error_code ec;
    co_await w->timer.async_wait(asio::redirect_error(use_awaitable, ec));
    waiting_.fetch_sub(1, std::memory_order_relaxed);
    std::erase(waiters_, w);
    if (w->conn) co_return std::move(w->conn);
    // Woken without a connection (one was dropped: a slot is free), or timed out: look again.
  }
}

void Pool::release(std::unique_ptr<Connection> conn) {
  asio::post(strand_, [this, c = std::move(conn)]() mutable {
    if (closed_ || !c->reusable()) {
      --total_;
      publish();
      c.reset();
      wake_one(nullptr);
      return;
    }
    if (!waiters_.empty()) {
      wake_one(std::move(c));
      return;
    }
    idle_.push_back(std::move(c));
    publish();
  });
}

void Pool::wake_one(std::unique_ptr<Connection> conn) {
  if (waiters_.empty()) return;
  auto w = waiters_.front();
  waiters_.pop_front();
  w->conn = std::move(conn);
  w->timer.cancel();
}

awaitable<PgResult<std::vector<ResultSet>>> Pool::run(std::vector<Query> queries) {
  auto lease = co_await acquire();
  if (!lease) co_return lease.error();
  co_return co_await (*lease)->run(queries);
}

awaitable<PgResult<ResultSet>> Pool::exec(const Statement& st, std::vector<Param> params,
                                          Priority priority) {
  auto lease = co_await acquire(priority);
  if (!lease) co_return lease.error();
  co_return co_await (*lease)->exec(st, std::move(params));
}

void Pool::close() {
  asio::post(strand_, [this] {
    closed_ = true;
    total_ -= idle_.size();
    idle_.clear();
    publish();
    while (!waiters_.empty()) wake_one(nullptr);
  });
}

}  // namespace chatd::pg
