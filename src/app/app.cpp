#include "app/app.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <random>
#include <thread>
#include <vector>

#include "auth/account_service.hpp"
#include "auth/login_throttle.hpp"
#include "auth/password_hasher.hpp"
#include "auth/token_service.hpp"
#include "domain/group_service.hpp"
#include "domain/messaging_service.hpp"
#include "domain/presence_service.hpp"
#include "http/router.hpp"
#include "http/routes.hpp"
#include "hub/hub.hpp"
#include "net/server.hpp"
#include "net/ws_session.hpp"
#include "storage/pg/group_repository.hpp"
#include "storage/pg/inbox_repository.hpp"
#include "storage/pg/message_repository.hpp"
#include "storage/pg/migrations.hpp"
#include "storage/pg/pool.hpp"
#include "storage/pg/user_repository.hpp"
#include "ws/dispatcher.hpp"
#include "ws/hub_publisher.hpp"

namespace chatd {

namespace asio = boost::asio;
using asio::awaitable;
using namespace std::chrono_literals;

namespace {

constexpr pg::Statement kPing{"health_ping", "SELECT 1"};

std::string random_password() {
  std::random_device rd;
  std::string s(32, 'x');
  for (auto& c : s) c = static_cast<char>('a' + rd() % 26);
  return s;
}

// Start-up work that must finish before serving: the schema, and presence flags a crash left.
awaitable<void> prepare_database(pg::Pool& pool, PresenceService& presence) {
  {
    auto lease = co_await pool.acquire();
    if (!lease)
      throw std::runtime_error("cannot connect to the database: " + lease.error().message);
    auto report = co_await pg::migrate(**lease, pg::embedded_migrations());
    if (!report) throw std::runtime_error("migrations failed: " + report.error().message);
    spdlog::info("database schema at version {} ({} migration(s) applied now)",
                 report->current_version, report->applied);
  }
  if (auto reset = co_await presence.reset(); !reset)
    throw std::runtime_error("clearing presence failed: " + reset.error().message);
}

}  // namespace

int App::run() {
  const int io_threads = effective_io_threads(config_);
  asio::io_context ioc(io_threads);

  pg::Pool pool(ioc.get_executor(),
                pg::PoolOptions{config_.database_url, static_cast<std::size_t>(config_.db_pool_size),
                                std::chrono::milliseconds(config_.db_acquire_timeout_ms)});
  pg::PgUserRepository users(pool);
  pg::PgMessageRepository messages(pool);
  pg::PgGroupRepository group_store(pool);
  hub::Hub hub;
  ws::HubPublisher publisher(hub);
  PresenceService presence(users, publisher);
  {
    auto ready = asio::co_spawn(ioc, prepare_database(pool, presence), asio::use_future);
    ioc.run();
    ready.get();  // rethrows a start-up failure
    ioc.restart();
  }
  MessagingService messaging(ioc.get_executor(), messages, publisher,
                             MessagingOptions{static_cast<std::size_t>(config_.send_shards),
                                              static_cast<std::size_t>(config_.send_batch)});
  GroupService groups(group_store,
                      GroupOptions{static_cast<std::size_t>(config_.max_group_members)});

  auth::PasswordHasher hasher({config_.bcrypt_cost,
                               static_cast<std::size_t>(effective_hash_threads(config_)),
                               static_cast<std::size_t>(config_.hash_queue)});
  auth::TokenService tokens({config_.jwt_secret, std::chrono::seconds(config_.jwt_ttl_seconds)});
  auth::LoginThrottle throttle(
      {static_cast<std::size_t>(config_.login_max_failures_per_email),
       static_cast<std::size_t>(config_.login_max_failures_per_address),
       std::chrono::seconds(config_.login_window_seconds)});
  auth::AccountService accounts(users, hasher, tokens, throttle,
                                auth::PasswordHasher::hash_now(random_password(),
                                                               config_.bcrypt_cost));

  pg::PgInboxRepository inbox_store(pool);
  InboxService inbox(inbox_store);

  http::Router router(tokens);
  http::add_all_routes(router, http::Services{accounts, groups, inbox, [&pool]() -> awaitable<bool> {
                                                auto r = co_await pool.exec(kPing, pg::params());
                                                co_return r.has_value();
                                              },
                                              http::Gauges{[&hub] { return hub.connections(); }}});

  ws::Dispatcher dispatcher(messaging);
  net::WsDeps ws_deps{hub,
                      dispatcher,
                      messaging,
                      presence,
                      accounts,
                      net::WsOptions{static_cast<std::size_t>(config_.ws_max_frame_bytes),
                                     static_cast<std::size_t>(config_.ws_queue_messages),
                                     static_cast<std::size_t>(config_.ws_queue_bytes),
                                     std::chrono::seconds(config_.ws_idle_timeout_seconds),
                                     static_cast<double>(config_.ws_events_per_second),
                                     static_cast<double>(config_.ws_event_burst)}};

  net::Server server(ioc,
                     net::ServerOptions{config_.address, config_.port,
                                        static_cast<std::size_t>(config_.max_body_bytes), 16 * 1024,
                                        std::chrono::milliseconds(config_.header_timeout_ms),
                                        std::chrono::milliseconds(config_.idle_timeout_ms)},
                     router, tokens, &ws_deps);
  server.start();
  spdlog::info("chatd listening on {}:{} with {} I/O thread(s)", config_.address, server.port(),
               io_threads);

  // Graceful stop: refuse new connections, close WebSockets with 1001 after what is queued to
  // them, let in-flight requests finish (all bounded by the grace period), then stop the loop.
  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    spdlog::info("signal {} received: shutting down", sig);
    server.stop_accepting();
    hub.close_all(net::kCloseGoingAway, "server shutting down");
    asio::co_spawn(
        ioc,
        [&]() -> awaitable<void> {
          asio::steady_timer t(ioc);
          const auto deadline =
              std::chrono::steady_clock::now() + std::chrono::milliseconds(config_.shutdown_grace_ms);
          while ((server.in_flight() > 0 || hub.connections() > 0) &&
                 std::chrono::steady_clock::now() < deadline) {
            t.expires_after(20ms);
            co_await t.async_wait(asio::use_awaitable);
          }
          pool.close();
          ioc.stop();
        },
        asio::detached);
  });

  std::vector<std::thread> threads;
  for (int i = 1; i < io_threads; ++i) threads.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& t : threads) t.join();
  hasher.stop();
  spdlog::info("chatd stopped");
  return 0;
}

}  // namespace chatd
