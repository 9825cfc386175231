// The one typed configuration of chatd (PROTOCOL §7). Every field has a default, a CHATD_*
// environment variable, a --flag and a line of documentation; flags win over the environment.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace chatd {

struct Config {
  std::string address = "0.0.0.0";
  std::uint16_t port = 8080;
  std::string database_url;
  std::string jwt_secret;
  int jwt_ttl_seconds = 24 * 3600;
  int bcrypt_cost = 12;
  int io_threads = 0;    // 0: one per core
  int hash_threads = 0;  // 0: cores - 1, at least 1
  int hash_queue = 256;
  int db_pool_size = 8;
  int db_acquire_timeout_ms = 5000;
  int max_body_bytes = 64 * 1024;
  int header_timeout_ms = 10000;
  int idle_timeout_ms = 60000;
  int login_max_failures_per_email = 5;
  int login_max_failures_per_address = 50;
  int login_window_seconds = 300;
  int register_max_per_address = 30;     // registrations per address within an hour
  // PROTOCOL §10: peers whose X-Forwarded-For names the client (comma-separated CIDRs).
  std::string trusted_proxies;
  std::string registration = "open";     // open | invite | closed
  int max_concurrent_exports = 4;        // exports streaming at once on a node (429 beyond)
  std::string cors_origins;              // comma-separated browser origins of other sites
  int db_timeout_ms = 5000;              // a database that stops answering: unavailable after this
  std::string tls_cert_file;             // PEM chain; with tls_key_file: HTTPS and WSS
  std::string tls_key_file;

  int shutdown_grace_ms = 10000;
  int ws_idle_timeout_seconds = 60;
  int ws_max_frame_bytes = 64 * 1024;
  int ws_queue_messages = 8192;
  int ws_queue_bytes = 4 * 1024 * 1024;
  int ws_events_per_second = 50;
  int ws_event_burst = 300;
  int max_group_members = 256;
  int send_shards = 4;
  int send_batch = 256;
  int edit_window_seconds = 900;
  int expiry_sweep_seconds = 60;  // disappearing messages are erased this often (PROTOCOL §9)
  std::string data_dir = "./data";  // attachments
  std::string web_root;             // the web client; default: web/ next to the binary or above it
  std::string push_webhook_url;     // unset: no push
  std::string push_secret;
  int push_retries = 5;
  long long max_attachment_bytes = 25LL * 1024 * 1024;
  // Several nodes (PROTOCOL §8): unset NATS URL = one node, nothing but PostgreSQL.
  std::string nats_url;
  std::string node_name;  // default: host name and port
  int node_timeout_seconds = 15;
  // An event for at most this many users goes to their subjects, so only the nodes holding them
  // get it; one for more goes to every node (0: every event to every node).
  int nats_interest_max = 8;
  std::string log_level = "info";
  std::string log_format = "text";  // or "json": one JSON object per line
};

// One documented setting: its flag, variable, doc line and how to read and print it.
struct ConfigField {
  std::string flag;  // "port" → --port / --port=VALUE
  std::string env;   // "CHATD_PORT"
  std::string doc;
  std::function<bool(Config&, const std::string&)> set;  // false when the value is not valid
  std::function<std::string(const Config&)> show;        // masked for secrets
};

const std::vector<ConfigField>& config_fields();

struct ConfigResult {
  Config config;
  std::vector<std::string> errors;  // empty when the configuration may be used
  bool help = false;
};

// Reads `env` (name → value) and then argv. Unknown flags and invalid values are errors.
ConfigResult parse_config(const std::vector<std::string>& args,
                          const std::map<std::string, std::string>& env);

// Checks relations between fields (required secret, ranges); appends to errors.
void validate(const Config& config, std::vector<std::string>& errors);

// "name = value" lines with the secret masked, for the start-up log.
std::string describe(const Config& config);
std::string usage();

// The effective number of I/O and hashing threads on this machine.
int effective_io_threads(const Config& c);
int effective_hash_threads(const Config& c);

}  // namespace chatd
