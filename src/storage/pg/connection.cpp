#include "storage/pg/connection.hpp"

#include <libpq-fe.h>
#include <spdlog/spdlog.h>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace chatd::pg {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using wait_type = asio::posix::descriptor_base::wait_type;

namespace {

// Server notices ("relation already exists, skipping") belong in the debug log, not on stderr.
void notice_to_log(void*, const char* message) { spdlog::debug("postgres: {}", message); }

PgError error_from_result(const PGresult* res) {
  PgError e;
  if (const char* s = PQresultErrorField(res, PG_DIAG_SQLSTATE)) e.sqlstate = s;
  if (const char* c = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME)) e.constraint = c;
  e.message = PQresultErrorMessage(res);
  e.code = map_sqlstate(e.sqlstate);
  return e;
}

}  // namespace

Connection::Connection(asio::any_io_executor ex, pg_conn* conn)
    : ex_(std::move(ex)), conn_(conn), socket_(ex_) {}

Connection::~Connection() {
  // libpq owns the file descriptor: take it back from Asio before PQfinish closes it.
  if (socket_.is_open()) socket_.release();
  PQfinish(conn_);
}

void Connection::rebind_socket(bool always) {
  const int fd = PQsocket(conn_);
  if (!always && socket_.is_open() && socket_.native_handle() == fd) return;
  if (socket_.is_open()) socket_.release();
  if (fd >= 0) socket_.assign(fd);
}

PgError Connection::connection_error(std::string_view what) {
  broken_ = true;
  PgError e;
  e.code = errc::unavailable;
  e.sqlstate = "08006";
  e.message = std::string(what) + ": " + PQerrorMessage(conn_);
  return e;
}

PgError Connection::wait_error(std::string_view what, const boost::system::error_code& ec) {
  broken_ = true;
  return PgError{errc::unavailable, "08006", "", std::string(what) + ": " + ec.message()};
}

namespace {

// Waits `timeout`; completes normally when cancelled too (the other branch of a race won).
awaitable<void> sleep_for(asio::any_io_executor ex, std::chrono::milliseconds timeout) {
  asio::steady_timer t(ex, timeout);
  boost::system::error_code ec;
  co_await t.async_wait(asio::redirect_error(use_awaitable, ec));
}

PgError timed_out(std::string_view what) {
  return PgError{errc::unavailable, "57014", "", std::string(what) + " timed out"};
}

}  // namespace

awaitable<PgResult<std::unique_ptr<Connection>>> Connection::connect(
    asio::any_io_executor ex, std::string conninfo, std::chrono::milliseconds timeout) {
  using namespace asio::experimental::awaitable_operators;
  if (timeout.count() <= 0) co_return co_await connect_unbounded(ex, std::move(conninfo));
  // A server that accepts TCP but never answers (paused) would hold the handshake for ever.
  auto r = co_await (connect_unbounded(ex, std::move(conninfo)) || sleep_for(ex, timeout));
  if (r.index() == 1) co_return timed_out("database connect");
  auto c = std::move(std::get<0>(r));
  if (c) (*c)->timeout_ = timeout;
  co_return c;
}

awaitable<PgResult<std::unique_ptr<Connection>>> Connection::connect_unbounded(
    asio::any_io_executor ex, std::string conninfo) {
  pg_conn* raw = PQconnectStart(conninfo.c_str());
  if (raw == nullptr) co_return PgError{errc::unavailable, "08006", "", "out of memory"};
  std::unique_ptr<Connection> c(new Connection(ex, raw));
  if (PQstatus(raw) == CONNECTION_BAD) co_return c->connection_error("connect");

  // Drive the handshake: libpq says which readiness it needs next (libpq docs §34.1).
  auto status = PGRES_POLLING_WRITING;
  while (status != PGRES_POLLING_OK) {
    if (status == PGRES_POLLING_FAILED) co_return c->connection_error("connect");
    c->rebind_socket(/*always=*/true);  // a multi-host conninfo moves to the next host's socket
    boost::system::error_code ec;
    co_await c->socket_.async_wait(
        status == PGRES_POLLING_READING ? wait_type::wait_read : wait_type::wait_write,
        asio::redirect_error(use_awaitable, ec));
    if (ec) co_return c->wait_error("connect", ec);
    status = PQconnectPoll(raw);
  }
  c->rebind_socket(/*always=*/true);
  PQsetnonblocking(raw, 1);
  PQsetNoticeProcessor(raw, notice_to_log, nullptr);
  // Every statement chatd runs reaches its rows through an index, and a connection keeps the
  // generic plan of each prepared statement it made. Planned while a table is still small (a
  // new server, before autovacuum's first ANALYZE), a hash join over a sequential scan looks
  // cheaper than probing, and stayed in the plan as the table grew: on a fresh database
  // recording deliveries went from 0.2 to 20 ms a batch within a minute. With sequential scans
  // and hash and merge joins priced out, the planner probes the index whatever the statistics
  // say; a statement with no index to use still runs (docs/decisions.md). No JIT and no
  // parallel workers either: each statement reads a few index-found rows, and a generic plan's
  // guess of many more (a search's) made PostgreSQL compile it (~30 ms) and start workers for
  // every run.
  std::string session =
      "SET enable_seqscan = off; SET enable_hashjoin = off; SET enable_mergejoin = off;"
      " SET jit = off; SET max_parallel_workers_per_gather = 0";
  auto set = co_await c->exec_script(std::move(session));
  if (!set) co_return set.error();
  co_return std::move(c);
}

bool Connection::reusable() const noexcept {
  return !broken_ && PQstatus(conn_) == CONNECTION_OK &&
         PQtransactionStatus(conn_) == PQTRANS_IDLE;
}

awaitable<PgResult<void>> Connection::flush() {
  for (;;) {
    const int r = PQflush(conn_);
    if (r == 0) co_return PgResult<void>{};
    if (r < 0) co_return connection_error("flush");
    // The kernel buffer is full; read what the server sent meanwhile so it never blocks on us.
    boost::system::error_code ec;
    co_await socket_.async_wait(wait_type::wait_write, asio::redirect_error(use_awaitable, ec));
    if (ec) co_return wait_error("flush", ec);
    if (PQconsumeInput(conn_) == 0) co_return connection_error("read");
  }
}

awaitable<PgResult<void>> Connection::wait_readable() {
  boost::system::error_code ec;
  co_await socket_.async_wait(wait_type::wait_read, asio::redirect_error(use_awaitable, ec));
  if (ec) co_return wait_error("read", ec);
  if (PQconsumeInput(conn_) == 0) co_return connection_error("read");
  co_return PgResult<void>{};
}

awaitable<PgResult<std::vector<ResultSet>>> Connection::run(std::span<const Query> queries) {
  using namespace asio::experimental::awaitable_operators;
  if (timeout_.count() <= 0) co_return co_await run_unbounded(queries);
  auto r = co_await (run_unbounded(queries) || sleep_for(ex_, timeout_));
  if (r.index() == 1) {
    broken_ = true;  // mid-pipeline: never reused
    co_return timed_out("database query");
  }
  co_return std::move(std::get<0>(r));
}

awaitable<PgResult<std::vector<ResultSet>>> Connection::run_unbounded(
    std::span<const Query> queries) {
  if (broken_) co_return connection_error("connection broken");
  // Text parameters travel as C strings: a NUL byte would silently cut the value (a lookup of
  // "alice\0x" would find alice, an array literal would break a whole batch). PostgreSQL text
  // cannot hold NUL anyway, so such a value is refused as PostgreSQL itself refuses it.
  for (const auto& q : queries)
    for (const auto& p : q.params)
      if (p && p->find('\0') != std::string::npos)
        co_return PgError{errc::invalid_input, "22021", "",
                          "a text parameter contains a NUL byte"};
  if (PQenterPipelineMode(conn_) == 0) co_return connection_error("enter pipeline");

  // What each command in the pipeline is, to sort the results as they arrive.
  struct Sent {
    const Statement* statement;
    bool is_prepare;
  };
  std::vector<Sent> sent;
  sent.reserve(queries.size() * 2);
  std::unordered_set<std::string_view> preparing;

  for (const auto& q : queries) {
    const std::string name(q.statement->name);
    if (!prepared_.contains(name) && !preparing.contains(q.statement->name)) {
      const std::string sql(q.statement->sql);
      if (PQsendPrepare(conn_, name.c_str(), sql.c_str(), 0, nullptr) == 0)
        co_return connection_error("prepare");
      sent.push_back({q.statement, true});
      preparing.insert(q.statement->name);
    }
    std::vector<const char*> values;
    values.reserve(q.params.size());
    for (const auto& p : q.params) values.push_back(p ? p->c_str() : nullptr);
    if (PQsendQueryPrepared(conn_, name.c_str(), static_cast<int>(values.size()), values.data(),
                            nullptr, nullptr, 0) == 0)
      co_return connection_error("send");
    sent.push_back({q.statement, false});
  }
  if (PQpipelineSync(conn_) == 0) co_return connection_error("sync");
  if (auto f = co_await flush(); !f) co_return f.error();

  std::vector<ResultSet> results;
  results.reserve(queries.size());
  std::optional<PgError> first_error;
  std::size_t index = 0;  // the command whose results are being read
  bool got_result = false;
  for (;;) {
    while (PQisBusy(conn_) == 0) {
      PGresult* res = PQgetResult(conn_);
      if (res == nullptr) {  // end of this command's results
        if (got_result) ++index;
        got_result = false;
        continue;
      }
      const auto st = PQresultStatus(res);
      if (st == PGRES_PIPELINE_SYNC) {
        PQclear(res);
        if (PQexitPipelineMode(conn_) == 0) co_return connection_error("exit pipeline");
        if (first_error) co_return *first_error;
        co_return results;
      }
      got_result = true;
      if (index >= sent.size()) {  // protocol desync: never reuse this connection
        PQclear(res);
        co_return connection_error("unexpected result");
      }
      const auto& cmd = sent[index];
      if (st == PGRES_FATAL_ERROR) {
        if (!first_error) first_error = error_from_result(res);
        PQclear(res);
      } else if (st == PGRES_PIPELINE_ABORTED) {
        PQclear(res);
      } else if (cmd.is_prepare) {
        prepared_.insert(std::string(cmd.statement->name));
        PQclear(res);
      } else {
        results.emplace_back(res);
      }
    }
    if (auto r = co_await wait_readable(); !r) co_return r.error();
  }
}

awaitable<PgResult<ResultSet>> Connection::exec(const Statement& st, std::vector<Param> params) {
  const Query q{&st, std::move(params)};
  auto r = co_await run(std::span<const Query>(&q, 1));
  if (!r) co_return r.error();
  co_return std::move(r->front());
}

awaitable<PgResult<std::vector<ResultSet>>> Connection::exec_script(std::string sql) {
  if (broken_) co_return connection_error("connection broken");
  if (PQsendQuery(conn_, sql.c_str()) == 0) co_return connection_error("send");
  if (auto f = co_await flush(); !f) co_return f.error();
  std::vector<ResultSet> results;
  std::optional<PgError> first_error;
  for (;;) {
    while (PQisBusy(conn_) == 0) {
      PGresult* res = PQgetResult(conn_);
      if (res == nullptr) {
        if (first_error) co_return *first_error;
        co_return results;
      }
      if (PQresultStatus(res) == PGRES_FATAL_ERROR) {
        if (!first_error) first_error = error_from_result(res);
        PQclear(res);
      } else {
        results.emplace_back(res);
      }
    }
    if (auto r = co_await wait_readable(); !r) co_return r.error();
  }
}

}  // namespace chatd::pg
