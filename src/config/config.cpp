#include "config/config.hpp"

#include <charconv>
#include <sstream>
#include <thread>

namespace chatd {

namespace {

template <class T>
bool parse_int(const std::string& s, T& out, long long lo, long long hi) {
  long long v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || v < lo || v > hi) return false;
  out = static_cast<T>(v);
  return true;
}

template <class T>
ConfigField int_field(std::string flag, std::string env, std::string doc, T Config::*member,
                      long long lo, long long hi) {
  return ConfigField{
      std::move(flag), std::move(env), std::move(doc),
      [member, lo, hi](Config& c, const std::string& v) { return parse_int(v, c.*member, lo, hi); },
      [member](const Config& c) { return std::to_string(c.*member); }};
}

ConfigField string_field(std::string flag, std::string env, std::string doc,
                         std::string Config::*member, bool secret = false) {
  return ConfigField{std::move(flag), std::move(env), std::move(doc),
                     [member](Config& c, const std::string& v) {
                       c.*member = v;
                       return true;
                     },
                     [member, secret](const Config& c) -> std::string {
                       if (!secret) return c.*member;
                       return (c.*member).empty() ? "(unset)" : "****** (set)";
                     }};
}

// Hides the password of a libpq URL or key/value string for the log.
std::string mask_database_url(const std::string& url) {
  std::string out = url;
  // URL form: scheme://user:password@host
  if (const auto scheme = out.find("://"); scheme != std::string::npos) {
    const auto at = out.find('@', scheme);
    const auto colon = out.find(':', scheme + 3);
    if (at != std::string::npos && colon != std::string::npos && colon < at)
      out.replace(colon + 1, at - colon - 1, "******");
  }
  // key/value form: password=secret
  if (const auto pw = out.find("password="); pw != std::string::npos) {
    const auto end = out.find(' ', pw);
    out.replace(pw + 9, (end == std::string::npos ? out.size() : end) - pw - 9, "******");
  }
  return out;
}

}  // namespace

const std::vector<ConfigField>& config_fields() {
  static const std::vector<ConfigField> fields = [] {
    std::vector<ConfigField> f;
    f.push_back(string_field("address", "CHATD_ADDRESS", "address to listen on",
                             &Config::address));
    f.push_back(int_field("port", "CHATD_PORT", "TCP port for HTTP and WebSocket", &Config::port,
                          0, 65535));
    f.push_back(ConfigField{
        "database-url", "CHATD_DATABASE_URL",
        "libpq connection string or URL (DATABASE_URL is also read)",
        [](Config& c, const std::string& v) {
          c.database_url = v;
          return true;
        },
        [](const Config& c) { return mask_database_url(c.database_url); }});
    f.push_back(string_field("jwt-secret", "CHATD_JWT_SECRET",
                             "HS256 signing secret, at least 32 bytes (required)",
                             &Config::jwt_secret, true));
    f.push_back(int_field("jwt-ttl-seconds", "CHATD_JWT_TTL_SECONDS", "token lifetime",
                          &Config::jwt_ttl_seconds, 60, 365LL * 24 * 3600));
    f.push_back(int_field("bcrypt-cost", "CHATD_BCRYPT_COST", "bcrypt cost factor",
                          &Config::bcrypt_cost, 4, 31));
    f.push_back(int_field("io-threads", "CHATD_IO_THREADS", "I/O threads (0: one per core)",
                          &Config::io_threads, 0, 256));
    f.push_back(int_field("hash-threads", "CHATD_HASH_THREADS",
                          "bcrypt worker threads (0: cores - 1, at least 1)",
                          &Config::hash_threads, 0, 256));
    f.push_back(int_field("hash-queue", "CHATD_HASH_QUEUE",
                          "bcrypt jobs queued or running before 503", &Config::hash_queue, 1,
                          100000));
    f.push_back(int_field("db-pool-size", "CHATD_DB_POOL_SIZE", "database connections at most",
                          &Config::db_pool_size, 1, 1000));
    f.push_back(int_field("db-acquire-timeout-ms", "CHATD_DB_ACQUIRE_TIMEOUT_MS",
                          "wait for a free database connection before 503",
                          &Config::db_acquire_timeout_ms, 1, 600000));
    f.push_back(int_field("db-timeout-ms", "CHATD_DB_TIMEOUT_MS",
                          "a database connect or statement taking longer is cut: unavailable "
                          "(0: wait for ever)",
                          &Config::db_timeout_ms, 0, 3600000));
    f.push_back(int_field("max-body-bytes", "CHATD_MAX_BODY_BYTES",
                          "largest HTTP request body (larger: 413)", &Config::max_body_bytes, 1024,
                          64LL * 1024 * 1024));
    f.push_back(int_field("header-timeout-ms", "CHATD_HEADER_TIMEOUT_MS",
                          "time allowed to send a whole request", &Config::header_timeout_ms, 100,
                          600000));
    f.push_back(int_field("idle-timeout-ms", "CHATD_IDLE_TIMEOUT_MS",
                          "keep-alive connection idle limit", &Config::idle_timeout_ms, 100,
                          3600000));
    f.push_back(int_field("login-max-failures-per-email", "CHATD_LOGIN_MAX_FAILURES_PER_EMAIL",
                          "failed logins per email within the window before 429",
                          &Config::login_max_failures_per_email, 1, 1000000));
    f.push_back(int_field("login-max-failures-per-address",
                          "CHATD_LOGIN_MAX_FAILURES_PER_ADDRESS",
                          "failed logins per client address within the window before 429",
                          &Config::login_max_failures_per_address, 1, 1000000));
    f.push_back(int_field("login-window-seconds", "CHATD_LOGIN_WINDOW_SECONDS",
                          "window of the login throttle", &Config::login_window_seconds, 1,
                          86400));
    f.push_back(int_field("shutdown-grace-ms", "CHATD_SHUTDOWN_GRACE_MS",
                          "time given to in-flight requests on SIGTERM",
                          &Config::shutdown_grace_ms, 0, 600000));
    f.push_back(int_field("ws-idle-timeout-seconds", "CHATD_WS_IDLE_TIMEOUT_SECONDS",
                          "a WebSocket peer silent this long is dropped "
                          "(pinged after three quarters of it)",
                          &Config::ws_idle_timeout_seconds, 2, 3600));
    f.push_back(int_field("ws-max-frame-bytes", "CHATD_WS_MAX_FRAME_BYTES",
                          "largest WebSocket message (larger: close 1009)",
                          &Config::ws_max_frame_bytes, 1024, 16 * 1024 * 1024));
    f.push_back(int_field("ws-queue-messages", "CHATD_WS_QUEUE_MESSAGES",
                          "frames queued to one connection before it is dropped (close 1008)",
                          &Config::ws_queue_messages, 1, 1000000));
    f.push_back(int_field("ws-queue-bytes", "CHATD_WS_QUEUE_BYTES",
                          "bytes queued to one connection before it is dropped (close 1008)",
                          &Config::ws_queue_bytes, 1024, 1024LL * 1024 * 1024));
    f.push_back(int_field("ws-events-per-second", "CHATD_WS_EVENTS_PER_SECOND",
                          "sustained client events per connection before rate_limited",
                          &Config::ws_events_per_second, 1, 1000000));
    f.push_back(int_field("ws-event-burst", "CHATD_WS_EVENT_BURST",
                          "client events a connection may send at once", &Config::ws_event_burst,
                          1, 1000000));
    f.push_back(int_field("max-group-members", "CHATD_MAX_GROUP_MEMBERS",
                          "members of one group at most", &Config::max_group_members, 2, 100000));
    f.push_back(int_field("send-shards", "CHATD_SEND_SHARDS",
                          "message committers working in parallel (conversations split by id)",
                          &Config::send_shards, 1, 64));
    f.push_back(int_field("send-batch", "CHATD_SEND_BATCH",
                          "messages stored in one transaction at most", &Config::send_batch, 1,
                          10000));
    f.push_back(int_field("edit-window-seconds", "CHATD_EDIT_WINDOW_SECONDS",
                          "how long after sending a message may be edited",
                          &Config::edit_window_seconds, 0, 100000000));
    f.push_back(int_field("expiry-sweep-seconds", "CHATD_EXPIRY_SWEEP_SECONDS",
                          "how often disappearing messages past their time are erased",
                          &Config::expiry_sweep_seconds, 1, 86400));
    f.push_back(string_field("web-root", "CHATD_WEB_ROOT",
                             "folder of the web client served at / (default: web/ beside or "
                             "above the binary)",
                             &Config::web_root));
    f.push_back(string_field("data-dir", "CHATD_DATA_DIR",
                             "where attachments are stored (created when missing)",
                             &Config::data_dir));
    f.push_back(int_field("max-attachment-bytes", "CHATD_MAX_ATTACHMENT_BYTES",
                          "largest attachment accepted (413 above)", &Config::max_attachment_bytes,
                          1, 1LL << 40));
    f.push_back(string_field("push-webhook-url", "CHATD_PUSH_WEBHOOK_URL",
                             "https:// or http:// URL receiving signed batches of push "
                             "notifications (unset: no push)",
                             &Config::push_webhook_url));
    f.push_back(string_field("push-secret", "CHATD_PUSH_SECRET",
                             "HMAC-SHA256 key of X-Chatd-Signature on push batches",
                             &Config::push_secret, true));
    f.push_back(int_field("push-retries", "CHATD_PUSH_RETRIES",
                          "attempts after a failed push webhook call, with doubling backoff",
                          &Config::push_retries, 0, 100));
    f.push_back(int_field("register-max-per-address", "CHATD_REGISTER_MAX_PER_ADDRESS",
                          "registrations from one client address within an hour (429 beyond)",
                          &Config::register_max_per_address, 1, 100000000));
    f.push_back(string_field("trusted-proxies", "CHATD_TRUSTED_PROXIES",
                             "proxies (comma-separated CIDRs) whose X-Forwarded-For names the "
                             "client's address; none by default",
                             &Config::trusted_proxies));
    f.push_back(ConfigField{"registration", "CHATD_REGISTRATION",
                            "who may register: open, invite (an admin's invite code) or closed "
                            "(admins create accounts)",
                            [](Config& c, const std::string& v) {
                              if (v != "open" && v != "invite" && v != "closed") return false;
                              c.registration = v;
                              return true;
                            },
                            [](const Config& c) { return c.registration; }});
    f.push_back(int_field("max-concurrent-exports", "CHATD_MAX_CONCURRENT_EXPORTS",
                          "data exports streaming at once on a node (429 beyond)",
                          &Config::max_concurrent_exports, 1, 1000));
    f.push_back(string_field("cors-origins", "CHATD_CORS_ORIGINS",
                             "browser origins of other sites allowed to use the API and open "
                             "WebSockets, comma-separated (none by default)",
                             &Config::cors_origins));
    f.push_back(string_field("tls-cert-file", "CHATD_TLS_CERT_FILE",
                             "PEM certificate chain: serve HTTPS and WSS (with the key; read "
                             "again on SIGHUP)",
                             &Config::tls_cert_file));
    f.push_back(string_field("tls-key-file", "CHATD_TLS_KEY_FILE",
                             "PEM private key of the TLS certificate", &Config::tls_key_file));
    f.push_back(string_field("nats-url", "CHATD_NATS_URL",
                             "NATS server(s) linking several chatd nodes (unset: one node)",
                             &Config::nats_url));
    f.push_back(string_field("node-name", "CHATD_NODE_NAME",
                             "this node's name in a cluster (default: host name:port)",
                             &Config::node_name));
    f.push_back(int_field("node-timeout-seconds", "CHATD_NODE_TIMEOUT_SECONDS",
                          "a node silent this long is dead: its users go offline",
                          &Config::node_timeout_seconds, 2, 3600));
    f.push_back(int_field("nats-interest-max", "CHATD_NATS_INTEREST_MAX",
                          "events for at most this many users go only to the nodes holding "
                          "them (0: every event to every node)",
                          &Config::nats_interest_max, 0, 1000));
    f.push_back(ConfigField{"log-format", "CHATD_LOG_FORMAT", "text, or json (a JSON object per line)",
                            [](Config& c, const std::string& v) {
                              if (v != "text" && v != "json") return false;
                              c.log_format = v;
                              return true;
                            },
                            [](const Config& c) { return c.log_format; }});
    f.push_back(ConfigField{"log-level", "CHATD_LOG_LEVEL",
                            "trace, debug, info, warn, error",
                            [](Config& c, const std::string& v) {
                              if (v != "trace" && v != "debug" && v != "info" && v != "warn" &&
                                  v != "error")
                                return false;
                              c.log_level = v;
                              return true;
                            },
                            [](const Config& c) { return c.log_level; }});
    return f;
  }();
  return fields;
}

ConfigResult parse_config(const std::vector<std::string>& args,
                          const std::map<std::string, std::string>& env) {
  ConfigResult r;
  const auto& fields = config_fields();
  if (auto it = env.find("DATABASE_URL"); it != env.end()) r.config.database_url = it->second;
  for (const auto& f : fields) {
    auto it = env.find(f.env);
    if (it == env.end()) continue;
    if (!f.set(r.config, it->second)) r.errors.push_back(f.env + ": invalid value");
  }
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    if (a == "-h" || a == "--help") {
      r.help = true;
      continue;
    }
    if (!a.starts_with("--")) {
      r.errors.push_back("unexpected argument: " + a);
      continue;
    }
    std::string name = a.substr(2), value;
    bool has_value = false;
    if (const auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
      has_value = true;
    }
    const ConfigField* field = nullptr;
    for (const auto& f : fields)
      if (f.flag == name) field = &f;
    if (field == nullptr) {
      r.errors.push_back("unknown flag: --" + name);
      continue;
    }
    if (!has_value) {
      if (i + 1 >= args.size()) {
        r.errors.push_back("--" + name + " needs a value");
        continue;
      }
      value = args[++i];
    }
    if (!field->set(r.config, value)) r.errors.push_back("--" + name + ": invalid value");
  }
  return r;
}

void validate(const Config& c, std::vector<std::string>& errors) {
  if (c.jwt_secret.empty())
    errors.push_back("CHATD_JWT_SECRET is required: chatd will not sign tokens without a secret");
  else if (c.jwt_secret.size() < 32)
    errors.push_back("CHATD_JWT_SECRET must be at least 32 bytes (HS256 wants a 256-bit key)");
  if (c.address.empty()) errors.push_back("CHATD_ADDRESS must not be empty");
}

std::string describe(const Config& c) {
  std::ostringstream out;
  for (const auto& f : config_fields()) out << "  " << f.env << " = " << f.show(c) << "\n";
  return out.str();
}

std::string usage() {
  std::ostringstream out;
  out << "usage: chatd [--flag VALUE | --flag=VALUE]...\n\n";
  for (const auto& f : config_fields())
    out << "  --" << f.flag << " (" << f.env << ")\n      " << f.doc << "\n";
  return out.str();
}

int effective_io_threads(const Config& c) {
  if (c.io_threads > 0) return c.io_threads;
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

int effective_hash_threads(const Config& c) {
  if (c.hash_threads > 0) return c.hash_threads;
  return static_cast<int>(std::max(2u, std::thread::hardware_concurrency()) - 1);
}

}  // namespace chatd
