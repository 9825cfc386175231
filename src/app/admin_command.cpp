#include "app/admin_command.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <cstdio>
#include <iostream>

#include "auth/account_service.hpp"
#include "auth/moderation_service.hpp"
#include "domain/account_eraser.hpp"
#include "storage/pg/account_repository.hpp"
#include "storage/pg/attempt_repository.hpp"
#include "storage/pg/migrations.hpp"
#include "storage/pg/moderation_repository.hpp"
#include "storage/pg/pool.hpp"
#include "storage/pg/user_repository.hpp"
#include "ws/hub_publisher.hpp"

namespace chatd {

namespace asio = boost::asio;
using asio::awaitable;

namespace {

constexpr const char* kUsage =
    "usage: chatd admin promote EMAIL\n"
    "       chatd admin demote EMAIL\n"
    "       chatd admin create USERNAME EMAIL [--admin]   (password on standard input)\n";

// The commands erase nothing: no file store of the server's is touched (opening one clears its
// temporary uploads).
class NoFiles final : public FileStore {
 public:
  Status keep(const std::string&, const std::string&) override { return Status{}; }
  std::string path(const std::string&) const override { return {}; }
  void remove(const std::string&, std::chrono::seconds) override {}
  std::string content_type(std::string_view) override { return {}; }
};

struct Outcome {
  int code = 1;
  std::string line;
};

// What the commands use; it outlives the io_context's run, so nothing posted to the pool at
// the end finds it gone.
struct Parts {
  explicit Parts(asio::io_context& ioc, const Config& config)
      : pool(ioc.get_executor(),
             pg::PoolOptions{config.database_url, 2,
                             std::chrono::milliseconds(config.db_acquire_timeout_ms),
                             std::chrono::milliseconds(config.db_timeout_ms)}),
        users(pool),
        account_store(pool),
        attempts(pool),
        moderation_store(pool),
        publisher(hub),
        eraser(account_store, publisher, files),
        hasher({config.bcrypt_cost, 1, 4}),
        // Tokens are never issued here; the service wants a key all the same.
        tokens({std::string(32, 'x'), std::chrono::seconds(60)}),
        accounts(auth::AccountDeps{users, account_store, attempts, eraser, hasher, tokens}, {},
                 auth::RegistrationPolicy::closed, ""),
        moderation(moderation_store, accounts, nullptr) {}
  pg::Pool pool;
  pg::PgUserRepository users;
  pg::PgAccountRepository account_store;
  pg::PgAttemptRepository attempts;
  pg::PgModerationRepository moderation_store;
  hub::Hub hub;
  ws::HubPublisher publisher;
  NoFiles files;
  AccountEraser eraser;
  auth::PasswordHasher hasher;
  auth::TokenService tokens;
  auth::AccountService accounts;
  auth::ModerationService moderation;
};

awaitable<Outcome> run(Parts& p, std::vector<std::string> args, std::string password) {
  {
    auto lease = co_await p.pool.acquire();
    if (!lease) co_return Outcome{1, "cannot connect to the database: " + lease.error().message};
    auto report = co_await pg::migrate(**lease, pg::embedded_migrations());
    if (!report) co_return Outcome{1, "migrations failed: " + report.error().message};
  }
  auto& accounts = p.accounts;
  auto& moderation = p.moderation;
  auto& moderation_store = p.moderation_store;
  Outcome out;
  const auto& verb = args[0];
  if ((verb == "promote" || verb == "demote") && args.size() == 2) {
    const bool admin = verb == "promote";
    auto u = co_await moderation.set_role(args[1], admin);
    if (!u) out = {1, u.error().message};
    else if (!*u) out = {1, "no account has the email " + args[1]};
    else
      out = {0, std::string(admin ? "promoted " : "demoted ") + (*u)->email + " (user " +
                    std::to_string((*u)->id) + ", " + (*u)->username + ") to " + (*u)->role};
  } else if (verb == "create" && (args.size() == 3 || (args.size() == 4 && args[3] == "--admin"))) {
    const std::string role = args.size() == 4 ? "admin" : "user";
    auto u = co_await accounts.create_account(args[1], args[2], std::move(password), role);
    if (!u) {
      out = {1, u.error().message};
    } else {
      AuditEntry entry{0, "create_user", u->id, u->username, role};
      (void)co_await moderation_store.audit(std::move(entry));
      out = {0, "created " + u->username + " <" + u->email + "> (user " + std::to_string(u->id) +
                    ", " + u->role + ")"};
    }
  } else {
    out = {2, kUsage};
  }
  co_return out;
}

}  // namespace

int run_admin_command(const Config& config, const std::vector<std::string>& args) {
  if (args.empty()) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  std::string password;
  if (args[0] == "create") {
    // One line; a terminal's or a pipe's newline is not part of it.
    std::getline(std::cin, password);
    if (!password.empty() && password.back() == '\r') password.pop_back();
  }
  spdlog::set_level(spdlog::level::warn);  // one line out: the answer
  asio::io_context ioc;
  Parts parts(ioc, config);
  auto done = asio::co_spawn(ioc, run(parts, args, std::move(password)), asio::use_future);
  ioc.run();
  parts.pool.close();
  ioc.restart();
  ioc.poll();
  parts.hasher.stop();
  Outcome out;
  try {
    out = done.get();
  } catch (const std::exception& e) {
    out = {1, e.what()};
  }
  if (out.code == 0) {
    std::printf("%s\n", out.line.c_str());
  } else if (out.code == 2) {
    std::fputs(out.line.c_str(), stderr);
  } else {
    std::fprintf(stderr, "chatd admin: %s\n", out.line.c_str());
  }
  return out.code == 0 ? 0 : 1;
}

}  // namespace chatd
