// Shared set-up of end-to-end suites: one database and one running chatd per suite, helpers to
// register users over real HTTP.
#pragma once

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <memory>

#include "support/chatd_process.hpp"
#include "support/http_client.hpp"
#include "support/test_database.hpp"

namespace chatd::test {

// prefix + n, built with += (g++ 12 warns falsely on "literal" + std::string at -O3).
inline std::string numbered(std::string prefix, long long n) {
  prefix += std::to_string(n);
  return prefix;
}

inline std::string json_body(const boost::json::value& v) { return boost::json::serialize(v); }

// A counter or gauge without labels from the server's /metrics; -1 when it is not there.
inline long long metric_value(std::uint16_t port, const std::string& name) {
  const auto body = http_request(port, "GET", "/metrics").body;
  const auto at = body.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::stoll(body.substr(at + name.size() + 2));
}

struct Registered {
  std::int64_t id;
  std::string token;
};

inline HttpResult register_user(std::uint16_t port, const std::string& username,
                                const std::string& email, const std::string& password) {
  return http_request(port, "POST", "/auth/register",
                      json_body({{"username", username}, {"email", email}, {"password", password}}));
}

inline Registered must_register(std::uint16_t port, const std::string& username) {
  auto r = register_user(port, username, username + "@example.com", "password-" + username);
  EXPECT_EQ(r.status, 201) << r.body;
  return {r.json.at("user").at("id").as_int64(), std::string(r.json.at("token").as_string())};
}

// A group created over HTTP by `owner` with `members`: its id and its conversation's.
struct Group {
  std::int64_t id;
  std::int64_t conversation;
};

inline Group make_group(std::uint16_t port, const Registered& owner,
                        const boost::json::array& members, const std::string& name = "crew") {
  auto g = http_request(port, "POST", "/groups",
                        json_body({{"name", name}, {"members", members}}), owner.token);
  EXPECT_EQ(g.status, 201) << g.body;
  return {g.json.at("group").at("id").as_int64(), g.json.at("conversation_id").as_int64()};
}

class ChatdSuite : public ::testing::Test {
 protected:
  static void start_server(const std::string& prefix,
                           std::map<std::string, std::string> env = {}) {
    db_ = std::make_unique<TestDatabase>(prefix);
    server_ = std::make_unique<ChatdProcess>(db_->conninfo(), std::move(env));
    server_->start();
  }
  static void TearDownTestSuite() {
    server_.reset();
    db_.reset();
  }
  static std::uint16_t port() { return server_->port(); }

  static inline std::unique_ptr<TestDatabase> db_;
  static inline std::unique_ptr<ChatdProcess> server_;
};

}  // namespace chatd::test
