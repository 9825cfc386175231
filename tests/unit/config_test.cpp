#include "config/config.hpp"

#include <gtest/gtest.h>

using chatd::parse_config;

TEST(Config, DefaultsFollowTheProtocol) {
  auto r = parse_config({}, {});
  EXPECT_TRUE(r.errors.empty());
  EXPECT_EQ(r.config.port, 8080);
  EXPECT_EQ(r.config.bcrypt_cost, 12);
  EXPECT_EQ(r.config.max_body_bytes, 64 * 1024);
  EXPECT_EQ(r.config.jwt_ttl_seconds, 24 * 3600);
}

TEST(Config, EnvironmentThenFlagsWhichWin) {
  auto r = parse_config({"--port", "9000", "--bcrypt-cost=10"},
                        {{"CHATD_PORT", "7000"}, {"CHATD_BCRYPT_COST", "5"},
                         {"DATABASE_URL", "dbname=x"}, {"CHATD_JWT_SECRET", "s"}});
  EXPECT_TRUE(r.errors.empty());
  EXPECT_EQ(r.config.port, 9000);
  EXPECT_EQ(r.config.bcrypt_cost, 10);
  EXPECT_EQ(r.config.database_url, "dbname=x");
  EXPECT_EQ(r.config.jwt_secret, "s");
}

TEST(Config, ChatdDatabaseUrlWinsOverDatabaseUrl) {
  auto r = parse_config({}, {{"CHATD_DATABASE_URL", "dbname=a"}, {"DATABASE_URL", "dbname=b"}});
  EXPECT_EQ(r.config.database_url, "dbname=a");
}

TEST(Config, InvalidValuesAndUnknownFlagsAreErrors) {
  EXPECT_FALSE(parse_config({}, {{"CHATD_BCRYPT_COST", "3"}}).errors.empty());
  EXPECT_FALSE(parse_config({}, {{"CHATD_BCRYPT_COST", "32"}}).errors.empty());
  EXPECT_FALSE(parse_config({}, {{"CHATD_PORT", "http"}}).errors.empty());
  EXPECT_FALSE(parse_config({"--nope", "1"}, {}).errors.empty());
  EXPECT_FALSE(parse_config({"--port"}, {}).errors.empty());
  EXPECT_FALSE(parse_config({}, {{"CHATD_LOG_LEVEL", "loud"}}).errors.empty());
}

TEST(Config, RefusesToRunWithoutAStrongSecret) {
  std::vector<std::string> errors;
  chatd::validate(parse_config({}, {}).config, errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("CHATD_JWT_SECRET"), std::string::npos);
  errors.clear();
  chatd::validate(parse_config({}, {{"CHATD_JWT_SECRET", "short"}}).config, errors);
  EXPECT_EQ(errors.size(), 1u);
  errors.clear();
  chatd::validate(parse_config({}, {{"CHATD_JWT_SECRET", std::string(32, 'k')}}).config, errors);
  EXPECT_TRUE(errors.empty());
}

TEST(Config, DescribeMasksSecrets) {
  auto r = parse_config({}, {{"CHATD_JWT_SECRET", "super-secret-value-0123456789abcdef"},
                             {"CHATD_DATABASE_URL", "postgresql://chat:hunter2@db/chatd"}});
  const auto text = chatd::describe(r.config);
  EXPECT_EQ(text.find("super-secret-value"), std::string::npos);
  EXPECT_EQ(text.find("hunter2"), std::string::npos);
  EXPECT_NE(text.find("CHATD_PORT = 8080"), std::string::npos);
  EXPECT_NE(text.find("postgresql://chat:******@db/chatd"), std::string::npos);
  auto kv = parse_config({}, {{"CHATD_DATABASE_URL", "host=db password=hunter2 dbname=x"}});
  EXPECT_EQ(chatd::describe(kv.config).find("hunter2"), std::string::npos);
}

TEST(Config, RegistrationPolicyIsOneOfThree) {
  EXPECT_EQ(parse_config({}, {}).config.registration, "open");
  for (const char* p : {"open", "invite", "closed"})
    EXPECT_EQ(parse_config({}, {{"CHATD_REGISTRATION", p}}).config.registration, p);
  EXPECT_FALSE(parse_config({}, {{"CHATD_REGISTRATION", "invite-only"}}).errors.empty());
  EXPECT_EQ(parse_config({"--trusted-proxies", "10.0.0.0/8"}, {}).config.trusted_proxies,
            "10.0.0.0/8");
}
