// A bounded pool of asynchronous connections. Its bookkeeping lives on one strand, so callers on
// any I/O thread may acquire and release; a caller that finds it full waits (bounded by a
// deadline) instead of opening more. A connection that broke is dropped and replaced on demand.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <chrono>
#include <atomic>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "storage/pg/connection.hpp"

namespace chatd::pg {

class Pool;

// Exclusive use of one connection; gives it back when destroyed.
class Lease {
 public:
  Lease(Pool* pool, std::unique_ptr<Connection> conn);
  Lease(Lease&&) noexcept = default;
  Lease& operator=(Lease&&) = delete;
  ~Lease();
  Connection* operator->() const noexcept { return conn_.get(); }
  Connection& operator*() const noexcept { return *conn_; }

 private:
  Pool* pool_;
  // False once the pool is gone: a coroutine frame destroyed with the io_context at exit, after
  // the pool, may still hold a lease; its connection is then closed, not handed back.
  std::shared_ptr<const bool> pool_alive_;
  std::unique_ptr<Connection> conn_;
};

struct PoolOptions {
  std::string conninfo;
  std::size_t max_size = 8;
  std::chrono::milliseconds acquire_timeout{5000};
  // Each connection handshake and each statement pipeline (0: unbounded); see Connection.
  std::chrono::milliseconds query_timeout{0};
};

// Who is served first when every connection is in use: `first` goes to the head of the queue
// (the cluster heartbeat, which a connect storm must not delay into a verdict of death).
enum class Priority { normal, first };

class Pool {
 public:
  Pool(boost::asio::any_io_executor io, PoolOptions options);
  ~Pool();

  boost::asio::awaitable<PgResult<Lease>> acquire(Priority priority = Priority::normal);

  // Shorthands: acquire, run, give back.
  boost::asio::awaitable<PgResult<std::vector<ResultSet>>> run(std::vector<Query> queries);
  boost::asio::awaitable<PgResult<ResultSet>> exec(const Statement& st, std::vector<Param> params,
                                                   Priority priority = Priority::normal);

  // Refuses further acquires and closes idle connections.
  void close();

  // For /metrics (any thread): callers waiting for a connection, connections open and idle.
  std::size_t waiting() const noexcept { return waiting_.load(std::memory_order_relaxed); }
  std::size_t open_connections() const noexcept { return open_.load(std::memory_order_relaxed); }
  std::size_t idle_connections() const noexcept { return idle_n_.load(std::memory_order_relaxed); }

 private:
  friend class Lease;
  struct Waiter {
    explicit Waiter(boost::asio::any_io_executor ex) : timer(std::move(ex)) {}
    boost::asio::steady_timer timer;
    std::unique_ptr<Connection> conn;
  };

  boost::asio::awaitable<PgResult<std::unique_ptr<Connection>>> acquire_on_strand(
      Priority priority);
  void release(std::unique_ptr<Connection> conn);
  void wake_one(std::unique_ptr<Connection> conn);

  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // set false by ~Pool
  boost::asio::any_io_executor io_;
  boost::asio::strand<boost::asio::any_io_executor> strand_;
  PoolOptions options_;
  // Everything below is touched only on strand_.
  std::vector<std::unique_ptr<Connection>> idle_;
  std::deque<std::shared_ptr<Waiter>> waiters_;
  std::size_t total_ = 0;  // idle + leased + connecting
  bool closed_ = false;
  void publish() noexcept {  // on strand_: the gauges above
    open_.store(total_, std::memory_order_relaxed);
    idle_n_.store(idle_.size(), std::memory_order_relaxed);
  }
  std::atomic<std::size_t> waiting_{0};
  std::atomic<std::size_t> open_{0};
  std::atomic<std::size_t> idle_n_{0};
};

}  // namespace chatd::pg
