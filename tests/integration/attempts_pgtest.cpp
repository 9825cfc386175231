// The throttles' counters in PostgreSQL (PROTOCOL §10): a sliding window per key shared by every
// node, the Retry-After it implies, and pruning.
#include "storage/pg/attempt_repository.hpp"

#include <gtest/gtest.h>

#include "support/migrate.hpp"
#include "support/run_sync.hpp"
#include "support/test_database.hpp"

using namespace chatd;
using namespace chatd::pg;
using chatd::test::run_sync;

namespace {

class AttemptsTest : public test::MigratedDatabase {
 protected:
  AttemptsTest() : MigratedDatabase("attempts") {}
  PgAttemptRepository repo{pool};

  std::vector<AttemptLimit> limits(int email_limit, int address_limit, int window) {
    std::vector<AttemptLimit> out;
    out.push_back(AttemptLimit{"e:a", email_limit, std::chrono::seconds(window)});
    out.push_back(AttemptLimit{"a:1", address_limit, std::chrono::seconds(window)});
    return out;
  }
  void record(std::vector<std::string> keys) { ASSERT_TRUE(run_sync(ioc, repo.record(keys))); }
  AttemptCheck check(int email_limit, int address_limit, int window = 300) {
    auto c = run_sync(ioc, repo.check(limits(email_limit, address_limit, window)));
    EXPECT_TRUE(c);
    return c ? *c : AttemptCheck{};
  }
};

}  // namespace

TEST_F(AttemptsTest, UnderTheLimitNothingWaits) {
  auto c = check(3, 10);
  EXPECT_EQ(c.retry_after, 0);
  EXPECT_FALSE(c.first_has_any);
  record({"e:a", "a:1"});
  record({"e:a", "a:1"});
  c = check(3, 10);
  EXPECT_EQ(c.retry_after, 0);
  EXPECT_TRUE(c.first_has_any) << "the email has failures to forget after a success";
}

TEST_F(AttemptsTest, AtTheLimitTheWaitIsUntilTheLimitthNewestLeavesTheWindow) {
  for (int i = 0; i < 3; ++i) record({"e:a", "a:1"});
  auto c = check(3, 10, 300);
  EXPECT_GT(c.retry_after, 290);
  EXPECT_LE(c.retry_after, 300);
  // Three failures, two of them 200 s old: the third newest leaves the window in ~100 s.
  db.scalar("UPDATE auth_attempts SET at = at - interval '200 seconds' WHERE ctid IN"
            " (SELECT ctid FROM auth_attempts WHERE key = 'e:a' ORDER BY at LIMIT 2)");
  c = check(3, 10, 300);
  EXPECT_GT(c.retry_after, 90);
  EXPECT_LE(c.retry_after, 101);
  EXPECT_EQ(check(4, 10, 300).retry_after, 0) << "a higher limit is not reached";
}

TEST_F(AttemptsTest, TheAddressLimitHoldsForAnyEmail) {
  for (int i = 0; i < 5; ++i) record({"e:" + std::to_string(i), "a:1"});
  EXPECT_GT(check(3, 5).retry_after, 0) << "five emails, one address";
  EXPECT_EQ(check(3, 6).retry_after, 0);
}

TEST_F(AttemptsTest, OldAttemptsNeitherCountNorStayAfterPruning) {
  for (int i = 0; i < 5; ++i) record({"e:a", "a:1"});
  db.scalar("UPDATE auth_attempts SET at = at - interval '1 hour'");
  EXPECT_EQ(check(3, 3, 300).retry_after, 0) << "out of the window";
  auto pruned = run_sync(ioc, repo.prune(std::chrono::seconds(1800)));
  ASSERT_TRUE(pruned);
  EXPECT_EQ(*pruned, 10);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM auth_attempts"), "0");
}

TEST_F(AttemptsTest, ForgettingAKeyLeavesTheOthers) {
  for (int i = 0; i < 3; ++i) record({"e:a", "a:1"});
  ASSERT_TRUE(run_sync(ioc, repo.forget("e:a")));
  EXPECT_EQ(db.scalar("SELECT count(*) FROM auth_attempts WHERE key = 'e:a'"), "0");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM auth_attempts WHERE key = 'a:1'"), "3");
}
