// One PostgreSQL connection driven asynchronously on Asio: libpq in non-blocking mode, its socket
// watched by a stream_descriptor, statements sent in pipeline mode so a batch costs one round trip.
// A connection is used by one coroutine at a time (the pool's lease guarantees it).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <unordered_set>
#include <vector>

#include "storage/pg/error.hpp"
#include "storage/pg/result_set.hpp"
#include "storage/pg/statement.hpp"

struct pg_conn;

namespace chatd::pg {

class Connection {
 public:
  // Connects without blocking a thread (PQconnectStart/PQconnectPoll on the socket).
  // `timeout` (0: none) bounds the connection handshake and, afterwards, each run(): a
  // database that stops answering (paused, network gone) costs a caller at most that long,
  // then `unavailable` and the connection is dropped. A pipeline cut this way may still have
  // committed on the server: the caller's outcome is unknown (PROTOCOL: resend with the same
  // client_id).
  static boost::asio::awaitable<PgResult<std::unique_ptr<Connection>>> connect(
      boost::asio::any_io_executor ex, std::string conninfo,
      std::chrono::milliseconds timeout = std::chrono::milliseconds(0));

  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Sends every query in one pipeline with a single sync: one round trip, and one implicit
  // transaction, so either all of them take effect or none. Results come back in order.
  boost::asio::awaitable<PgResult<std::vector<ResultSet>>> run(std::span<const Query> queries);

  // One statement; a shorthand for run() with a single query.
  boost::asio::awaitable<PgResult<ResultSet>> exec(const Statement& st, std::vector<Param> params);

  // A multi-statement script over the simple protocol (migrations and transaction control only;
  // it takes no parameters). Returns the result of every statement.
  boost::asio::awaitable<PgResult<std::vector<ResultSet>>> exec_script(std::string sql);

  // Fit to go back to the pool: connected, no error seen, and outside any transaction.
  bool reusable() const noexcept;

 private:
  Connection(boost::asio::any_io_executor ex, pg_conn* conn);

  boost::asio::awaitable<PgResult<std::vector<ResultSet>>> run_unbounded(
      std::span<const Query> queries);
  static boost::asio::awaitable<PgResult<std::unique_ptr<Connection>>> connect_unbounded(
      boost::asio::any_io_executor ex, std::string conninfo);
  boost::asio::awaitable<PgResult<void>> flush();
  boost::asio::awaitable<PgResult<void>> wait_readable();
  PgError connection_error(std::string_view what);
  PgError wait_error(std::string_view what, const boost::system::error_code& ec);
  // Watches libpq's current socket. `always`: registers it again even under the same number
  // (during the handshake libpq may close a host's socket and open the next host's, which the
  // kernel often gives the number just freed; a registration of the closed one sees nothing).
  void rebind_socket(bool always = false);

  boost::asio::any_io_executor ex_;
  pg_conn* conn_;
  boost::asio::posix::stream_descriptor socket_;
  std::unordered_set<std::string> prepared_;
  bool broken_ = false;
  std::chrono::milliseconds timeout_{0};
};

}  // namespace chatd::pg
