#include "auth/login_throttle.hpp"

#include <gtest/gtest.h>

using chatd::auth::LoginThrottle;
using namespace std::chrono_literals;

namespace {
// Built with append: `"literal" + std::string` trips g++ 12's false -Wrestrict at -O3.
std::string key(const char* prefix, int i, const char* suffix = "") {
  std::string k(prefix);
  k.append(std::to_string(i)).append(suffix);
  return k;
}
}  // namespace

TEST(LoginThrottle, ThrottlesAnEmailAfterTheLimitUntilTheWindowPasses) {
  LoginThrottle t({3, 100, 60s, 1000});
  const auto t0 = LoginThrottle::Clock::now();
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(t.retry_after("a@x.io", "1.1.1.1", t0), 0s);
    t.record_failure("a@x.io", "1.1.1.1", t0 + std::chrono::seconds(i));
  }
  const auto wait = t.retry_after("a@x.io", "2.2.2.2", t0 + 3s);
  EXPECT_GT(wait, 0s);
  EXPECT_LE(wait, 60s);
  EXPECT_EQ(t.retry_after("b@x.io", "2.2.2.2", t0 + 3s), 0s) << "other emails are unaffected";
  EXPECT_EQ(t.retry_after("a@x.io", "2.2.2.2", t0 + 61s), 0s) << "the window has passed";
}

TEST(LoginThrottle, ThrottlesAnAddressAcrossEmails) {
  LoginThrottle t({100, 4, 60s, 1000});
  const auto t0 = LoginThrottle::Clock::now();
  for (int i = 0; i < 4; ++i) t.record_failure(key("u", i, "@x.io"), "9.9.9.9", t0);
  EXPECT_GT(t.retry_after("new@x.io", "9.9.9.9", t0), 0s);
  EXPECT_EQ(t.retry_after("new@x.io", "8.8.8.8", t0), 0s);
}

TEST(LoginThrottle, SuccessForgetsTheEmailsFailures) {
  LoginThrottle t({2, 100, 60s, 1000});
  const auto t0 = LoginThrottle::Clock::now();
  t.record_failure("a@x.io", "1.1.1.1", t0);
  t.record_success("a@x.io");
  t.record_failure("a@x.io", "1.1.1.1", t0);
  EXPECT_EQ(t.retry_after("a@x.io", "1.1.1.1", t0), 0s);
}

TEST(LoginThrottle, MemoryIsBounded) {
  LoginThrottle t({2, 2, 60s, 50});
  const auto t0 = LoginThrottle::Clock::now();
  for (int i = 0; i < 1000; ++i)
    t.record_failure(key("u", i, "@x.io"), key("a", i), t0 + std::chrono::milliseconds(i));
  // The newest keys are still tracked.
  t.record_failure("u999@x.io", "z", t0 + 2s);
  EXPECT_GT(t.retry_after("u999@x.io", "q", t0 + 2s), 0s);
}
