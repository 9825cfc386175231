#include "app/app.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <unistd.h>

#include <filesystem>
#include <optional>
#include <random>
#include <thread>
#include <vector>

#include "auth/account_service.hpp"
#include "auth/moderation_service.hpp"
#include "auth/password_hasher.hpp"
#include "auth/token_service.hpp"
#include "cluster/cluster_publisher.hpp"
#include "cluster/nats_bus.hpp"
#include "domain/group_service.hpp"
#include "domain/messaging_service.hpp"
#include "domain/arrival_reader.hpp"
#include "domain/presence_service.hpp"
#include "http/router.hpp"
#include "http/routes.hpp"
#include "http/web_handlers.hpp"
#include "hub/hub.hpp"
#include "domain/metrics.hpp"
#include "net/server.hpp"
#include "net/tls.hpp"
#include "net/ws_session.hpp"
#include "storage/pg/group_repository.hpp"
#include "storage/pg/inbox_repository.hpp"
#include "storage/pg/message_repository.hpp"
#include "storage/pg/migrations.hpp"
#include "storage/pg/node_repository.hpp"
#include "storage/pg/account_repository.hpp"
#include "storage/pg/block_repository.hpp"
#include "storage/pg/attachment_repository.hpp"
#include "storage/pg/attempt_repository.hpp"
#include "storage/pg/moderation_repository.hpp"
#include "storage/pg/reaction_repository.hpp"
#include "storage/pg/search_repository.hpp"
#include "storage/pg/disappearing_repository.hpp"
#include "storage/pg/device_repository.hpp"
#include "push/webhook_transport.hpp"
#include "storage/files/file_store.hpp"
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

std::string node_name(const Config& c) {
  if (!c.node_name.empty()) return c.node_name;
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "chatd");
  return std::string(host) + ":" + std::to_string(c.port);
}

// Several nodes: the heartbeat, and the users of silent nodes turned offline. After heartbeats
// failed (this node cut off from the database) or none succeeded for the node timeout (the
// process stalled), the others may have turned this node's users offline: the next heartbeat
// that succeeds is followed by storing the presence of the users it holds.
awaitable<void> sweep_nodes(PresenceService& presence, const hub::Hub& hub, int timeout_seconds) {
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer t(ex);
  const auto period = std::chrono::milliseconds(std::max(500, timeout_seconds * 1000 / 4));
  bool failed = false;
  auto last_ok = std::chrono::steady_clock::now();
  for (;;) {
    t.expires_after(period);
    boost::system::error_code ec;
    co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    if (auto r = co_await presence.sweep(); !r) {
      spdlog::warn("cluster heartbeat failed: {}", r.error().message);
      failed = true;
      continue;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ok >= std::chrono::seconds(timeout_seconds)) failed = true;
    last_ok = now;
    if (!failed) continue;
    failed = false;
    const auto changed = co_await presence.reconcile([&hub] { return hub.users(); });
    spdlog::info("cluster heartbeat back: {} user(s) whose presence changed stored again",
                 changed);
  }
}

// Uploads never sent in a message are removed a day after upload (PROTOCOL §4), checked hourly.
awaitable<void> sweep_attachments(AttachmentService& attachments) {
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer t(ex);
  for (;;) {
    co_await attachments.sweep(std::chrono::hours(24));
    t.expires_after(std::chrono::hours(1));
    boost::system::error_code ec;
    co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
  }
}

// Every minute: counted login attempts no window can see any more; every ten, deletions of
// accounts cut half-way are finished (PROTOCOL §10).
awaitable<void> housekeeping(auth::AccountService& accounts, AccountEraser& eraser) {
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer t(ex);
  for (int minute = 0;; ++minute) {
    if (minute % 10 == 0) {
      if (const auto n = co_await eraser.resume(); n > 0)
        spdlog::info("finished {} account deletion(s) left undone", n);
    }
    co_await accounts.prune_attempts();
    t.expires_after(std::chrono::minutes(1));
    boost::system::error_code ec;
    co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
  }
}

std::function<std::vector<std::pair<std::string, std::uint64_t>>()> cluster_metrics(
    const std::optional<cluster::NatsBus>& bus,
    const std::optional<cluster::ClusterPublisher>& publisher) {
  if (!bus) return {};
  return [&bus, &publisher] {
    const auto b = bus->stats();
    const auto q = publisher->sequencer().stats();
    return std::vector<std::pair<std::string, std::uint64_t>>{
        {"chatd_nats_connected", bus->connected() ? 1 : 0},
        {"chatd_nats_published_total", b.published},
        {"chatd_nats_publish_failed_total", b.publish_failed},
        {"chatd_nats_received_total", b.received},
        {"chatd_nats_reconnects_total", b.reconnects},
        {"chatd_nats_disconnects_total", b.disconnects},
        {"chatd_cluster_messages_held_total", q.held},
        {"chatd_cluster_messages_filled_total", q.filled},
        {"chatd_cluster_duplicates_dropped_total", q.duplicates},
        {"chatd_cluster_stale_conversations_total", q.stale},
        {"chatd_nats_user_subscriptions", bus->user_subscriptions()},
        {"chatd_cluster_malformed_total", publisher->malformed()}};
  };
}

http::NatsProbe nats_probe(const std::optional<cluster::NatsBus>& bus) {
  if (!bus) return {};
  return [&bus] { return bus->connected(); };
}

}  // namespace

int App::run() {
  const int io_threads = effective_io_threads(config_);
  // The WebSockets' keep-alive, made before the io_context their sessions run on: it outlives
  // every one of them.
  net::KeepAlive keep_alive(std::chrono::seconds(config_.ws_idle_timeout_seconds));
  asio::io_context ioc(io_threads);

  pg::Pool pool(ioc.get_executor(),
                pg::PoolOptions{config_.database_url, static_cast<std::size_t>(config_.db_pool_size),
                                std::chrono::milliseconds(config_.db_acquire_timeout_ms),
                                std::chrono::milliseconds(config_.db_timeout_ms)});
  pg::PgUserRepository users(pool);
  pg::PgMessageRepository messages(pool);
  pg::PgGroupRepository group_store(pool);
  hub::Hub hub;
  // One node: events go to this node's hub. Several (CHATD_NATS_URL): also to the others, and
  // presence is kept per node.
  const bool clustered = !config_.nats_url.empty();
  const std::string node = node_name(config_);
  ws::HubPublisher local_publisher(hub);
  pg::PgNodeRepository nodes(pool);
  std::optional<cluster::ClusterPublisher> cluster_publisher;
  std::optional<ClusterPresence> cluster_presence;
  if (clustered) {
    cluster_publisher.emplace(ioc.get_executor(), hub, messages, node,
                              static_cast<std::size_t>(config_.nats_interest_max));
    if (config_.nats_interest_max > 0) hub.set_interest(&*cluster_publisher);
    cluster_presence.emplace(ClusterPresence{nodes, node, config_.node_timeout_seconds});
    spdlog::info("node {}: clustering over NATS at {}", node, config_.nats_url);
  }
  EventPublisher& publisher =
      clustered ? static_cast<EventPublisher&>(*cluster_publisher) : local_publisher;
  PresenceService presence(ioc.get_executor(), users, publisher, cluster_presence);
  ArrivalReader arrivals(ioc.get_executor(), users);
  // Linked before start-up work, which may already tell other nodes of presence changes.
  std::optional<cluster::NatsBus> bus;
  if (clustered) {
    bus.emplace(cluster::NatsOptions{
        config_.nats_url, node, "chatd.events",
        [&](std::int64_t user, std::string_view bytes) {
          cluster_publisher->on_remote(user, bytes);
        },
        // What could not cross while NATS was away is replayed from the database.
        [&] { asio::post(ioc, [&hub] { hub.resync_all(); }); }});
    cluster_publisher->attach(*bus);
  }
  {
    auto ready = asio::co_spawn(ioc, prepare_database(pool, presence), asio::use_future);
    ioc.run();
    ready.get();  // rethrows a start-up failure
    ioc.restart();
  }
  if (clustered)
    asio::co_spawn(ioc, sweep_nodes(presence, hub, config_.node_timeout_seconds), asio::detached);
  MessagingOptions messaging_options{static_cast<std::size_t>(config_.send_shards),
                                     static_cast<std::size_t>(config_.send_batch)};
  messaging_options.edit_window_seconds = config_.edit_window_seconds;
  MessagingService messaging(ioc.get_executor(), messages, publisher, messaging_options);
  GroupService groups(group_store,
                      GroupOptions{static_cast<std::size_t>(config_.max_group_members)});
  pg::PgBlockRepository block_store(pool);
  BlockService blocks(block_store);
  groups.use_blocks(block_store);

  auth::PasswordHasher hasher({config_.bcrypt_cost,
                               static_cast<std::size_t>(effective_hash_threads(config_)),
                               static_cast<std::size_t>(config_.hash_queue)});
  auth::TokenService tokens({config_.jwt_secret, std::chrono::seconds(config_.jwt_ttl_seconds)});
  files::LocalFileStore file_store(config_.data_dir);
  pg::PgAttemptRepository attempts(pool);
  pg::PgAccountRepository account_store(pool);
  AccountEraser eraser(account_store, publisher, file_store);
  auth::ThrottleOptions throttle;
  throttle.max_failures_per_email = config_.login_max_failures_per_email;
  throttle.max_failures_per_address = config_.login_max_failures_per_address;
  throttle.window = std::chrono::seconds(config_.login_window_seconds);
  throttle.registrations_per_address = config_.register_max_per_address;
  throttle.max_exports = static_cast<std::size_t>(config_.max_concurrent_exports);
  auth::AccountService accounts(
      auth::AccountDeps{users, account_store, attempts, eraser, hasher, tokens}, throttle,
      auth::parse_registration_policy(config_.registration),
      auth::PasswordHasher::hash_now(random_password(), config_.bcrypt_cost));
  pg::PgModerationRepository moderation_store(pool);
  auth::ModerationService moderation(moderation_store, accounts, &messaging);
  asio::co_spawn(ioc, housekeeping(accounts, eraser), asio::detached);
  // Ended sessions close their connections here and, with several nodes, everywhere.
  accounts.on_revoked([&publisher](const TokenRevocation& r) { publisher.revoked(r); });
  if (cluster_publisher)
    cluster_publisher->on_remote_revocation(
        [&tokens](const TokenRevocation& r) { tokens.revocations().apply(r); });

  pg::PgInboxRepository inbox_store(pool);
  InboxService inbox(inbox_store, &publisher);
  pg::PgDeviceRepository device_store(pool);
  std::optional<push::WebhookTransport> webhook;
  if (!config_.push_webhook_url.empty()) {
    webhook.emplace(ioc.get_executor(), config_.push_webhook_url, config_.push_secret);
    spdlog::info("pushing offline recipients to {}", config_.push_webhook_url);
  }
  PushOptions push_options;
  push_options.retries = config_.push_retries;
  PushService push_service(device_store, webhook ? &*webhook : nullptr,
                           [&hub](UserId u) { return hub.online(u); }, push_options);
  messaging.set_push(&push_service);
  asio::co_spawn(ioc, push_service.run(), asio::detached);
  pg::PgAttachmentRepository attachment_store(pool);
  AttachmentService attachments(attachment_store, file_store);
  asio::co_spawn(ioc, sweep_attachments(attachments), asio::detached);

  // chatd_queue_depth{queue=...}: where work waits when chatd falls behind.
  auto queue_depths = [&] {
    return [&]() -> std::vector<std::pair<std::string, std::uint64_t>> {
      const auto ws = metrics().ws_queued_frames.load(std::memory_order_relaxed);
      return {{"messages_to_store", messaging.messages_queued()},
              {"deliveries_to_record", messaging.deliveries_queued()},
              {"ws_outbound", static_cast<std::uint64_t>(std::max<std::int64_t>(ws, 0))},
              {"push", push_service.queued()},
              {"password_hashes", hasher.queued()},
              {"db_acquire", pool.waiting()}};
    };
  };
  pg::PgSearchRepository search_store(pool);
  SearchService search(search_store);
  pg::PgDisappearingRepository timer_store(pool);
  DisappearingService disappearing(
      timer_store, publisher,
      DisappearingOptions{std::chrono::seconds(config_.expiry_sweep_seconds)});
  asio::co_spawn(ioc, disappearing.run(), asio::detached);
  http::Router router(tokens);
  http::add_all_routes(router, http::Services{accounts, groups, inbox, attachments, push_service,
                                              moderation, blocks, search, disappearing,
                                              [&pool]() -> awaitable<bool> {
                                                auto r = co_await pool.exec(kPing, pg::params());
                                                co_return r.has_value();
                                              },
                                              http::Gauges{[&hub] { return hub.connections(); },
                                                           cluster_metrics(bus, cluster_publisher),
                                                           queue_depths()},
                                              nats_probe(bus)});

  // The web client, when its files are found.
  std::vector<std::string> web_roots;
  if (!config_.web_root.empty()) {
    web_roots.push_back(config_.web_root);
  } else {
    std::error_code ec;
    const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path();
    web_roots = {(exe / "web").string(), (exe.parent_path() / "web").string()};
  }
  for (const auto& dir : web_roots) {
    if (auto assets = http::WebAssets::load(dir)) {
      spdlog::info("web client from {} (version {})", dir, assets->version());
      http::add_web_routes(router, std::make_shared<const http::WebAssets>(std::move(*assets)));
      break;
    }
  }

  pg::PgReactionRepository reaction_store(pool);
  ReactionService reactions(reaction_store, publisher);
  ws::Dispatcher dispatcher(messaging, reactions);
  asio::co_spawn(ioc, keep_alive.run(), asio::detached);
  net::WsDeps ws_deps{hub,
                      dispatcher,
                      messaging,
                      presence,
                      arrivals,
                      keep_alive,
                      net::WsOptions{static_cast<std::size_t>(config_.ws_max_frame_bytes),
                                     static_cast<std::size_t>(config_.ws_queue_messages),
                                     static_cast<std::size_t>(config_.ws_queue_bytes),
                                     static_cast<double>(config_.ws_events_per_second),
                                     static_cast<double>(config_.ws_event_burst)},
                      {}};
  if (bus && config_.nats_interest_max > 0)
    ws_deps.when_subscribed = [&bus](std::function<void()> done) {
      bus->when_subscribed(std::move(done));
    };

  net::ServerOptions server_options{config_.address, config_.port,
                                    static_cast<std::size_t>(config_.max_body_bytes), 16 * 1024,
                                    std::chrono::milliseconds(config_.header_timeout_ms),
                                    std::chrono::milliseconds(config_.idle_timeout_ms),
                                    file_store.temp_dir(),
                                    static_cast<std::uint64_t>(config_.max_attachment_bytes)};
  for (std::size_t start = 0; start < config_.cors_origins.size();) {
    auto end = config_.cors_origins.find(',', start);
    if (end == std::string::npos) end = config_.cors_origins.size();
    auto o = config_.cors_origins.substr(start, end - start);
    o.erase(0, o.find_first_not_of(' '));
    o.erase(o.find_last_not_of(' ') + 1);
    if (!o.empty()) server_options.cors_origins.push_back(std::move(o));
    start = end + 1;
  }
  {
    std::string error;
    auto proxies = net::TrustedProxies::parse(config_.trusted_proxies, &error);
    if (!proxies) throw std::runtime_error("CHATD_TRUSTED_PROXIES: " + error);
    server_options.trusted_proxies = std::move(*proxies);
    if (!server_options.trusted_proxies.empty())
      spdlog::info("client addresses from X-Forwarded-For of {}", config_.trusted_proxies);
  }
  if (!config_.tls_cert_file.empty() || !config_.tls_key_file.empty()) {
    if (config_.tls_cert_file.empty() || config_.tls_key_file.empty())
      throw std::runtime_error("CHATD_TLS_CERT_FILE and CHATD_TLS_KEY_FILE go together");
    server_options.tls =
        std::make_shared<net::TlsContexts>(config_.tls_cert_file, config_.tls_key_file);
    spdlog::info("TLS: serving HTTPS and WSS with {}", config_.tls_cert_file);
  }
  net::Server server(ioc, server_options, router, tokens, &ws_deps);
  // SIGHUP: the certificate and key are read again (a renewed certificate without a restart);
  // open connections keep theirs.
  asio::signal_set hangups(ioc, SIGHUP);
  std::function<void()> on_hangup = [&] {
    hangups.async_wait([&](const boost::system::error_code& ec, int) {
      if (ec) return;
      if (server_options.tls) {
        if (auto failed = server_options.tls->reload()) {
          Metrics::add(metrics().tls_reloads_failed);
          spdlog::error("SIGHUP: TLS certificate not reloaded, the previous one serves on: {}",
                        *failed);
        } else {
          Metrics::add(metrics().tls_reloads);
          spdlog::info("SIGHUP: TLS certificate reloaded from {}", config_.tls_cert_file);
        }
      } else {
        spdlog::info("SIGHUP: nothing to reload (no TLS)");
      }
      on_hangup();
    });
  };
  on_hangup();
  // Serving starts once the ended sessions are known (a restart must not revive a token).
  asio::co_spawn(
      ioc,
      [&]() -> awaitable<void> {
        if (auto loaded = co_await accounts.load_revocations(); !loaded)
          spdlog::error("revoked tokens not loaded: {}", loaded.error().message);
        server.start();
        spdlog::info("chatd listening on {}:{} with {} I/O thread(s)", config_.address,
                     server.port(), io_threads);
        asio::steady_timer t(ioc);
        for (;;) {  // logged-out tokens are forgotten once they would have expired anyway
          t.expires_after(std::chrono::minutes(10));
          boost::system::error_code ec;
          co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
          if (ec) co_return;
          tokens.revocations().forget_expired(
              std::chrono::duration_cast<std::chrono::seconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count());
        }
      },
      asio::detached);

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
          // Quiet on two looks 20 ms apart: a session leaves the hub a moment before its
          // offline transition starts being stored.
          for (int quiet = 0; quiet < 2 && std::chrono::steady_clock::now() < deadline;) {
            const bool busy =
                server.in_flight() > 0 || hub.connections() > 0 || presence.in_flight() > 0;
            quiet = busy ? 0 : quiet + 1;
            t.expires_after(20ms);
            co_await t.async_wait(asio::use_awaitable);
          }
          hangups.cancel();
          push_service.stop();
          co_await presence.goodbye();
          if (bus) bus->close();
          pool.close();
          ioc.stop();
        },
        asio::detached);
  });

  std::vector<std::thread> threads;
  for (int i = 1; i < io_threads; ++i) threads.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& t : threads) t.join();
  hub.set_interest(nullptr);  // connections destroyed from here on must not reach the bus
  hasher.stop();
  spdlog::info("chatd stopped");
  return 0;
}

}  // namespace chatd
