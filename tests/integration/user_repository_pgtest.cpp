#include "storage/pg/user_repository.hpp"

#include <gtest/gtest.h>

#include "storage/pg/migrations.hpp"
#include "support/migrate.hpp"
#include "support/run_sync.hpp"
#include "support/test_database.hpp"

using namespace chatd;
using namespace chatd::pg;
using boost::asio::awaitable;
using chatd::test::run_sync;

namespace {

const std::string& kHash = test::kSampleHash;

class UserRepositoryTest : public test::MigratedDatabase {
 protected:
  UserRepositoryTest() : MigratedDatabase("users") {}
  PgUserRepository repo{pool};
};

}  // namespace

TEST_F(UserRepositoryTest, CreateStoresARowAndReturnsTheUser) {
  auto u = run_sync(ioc, repo.create({"Alice", "alice@example.com", kHash}));
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_GT(u->id, 0);
  EXPECT_EQ(u->username, "Alice");
  EXPECT_EQ(u->email, "alice@example.com");
  EXPECT_FALSE(u->is_online);
  EXPECT_FALSE(u->last_seen);
  EXPECT_EQ(u->created_at.size(), 24u) << u->created_at;  // 2026-11-24T14:22:56.123Z
  EXPECT_EQ(u->created_at.back(), 'Z');
  EXPECT_EQ(db.scalar("SELECT password_hash FROM users WHERE id = " + std::to_string(u->id)), kHash);
}

TEST_F(UserRepositoryTest, DuplicatesAreConflictsNamingTheField) {
  ASSERT_TRUE(run_sync(ioc, repo.create({"Alice", "alice@example.com", kHash})));
  auto dup_email = run_sync(ioc, repo.create({"other", "alice@example.com", kHash}));
  ASSERT_FALSE(dup_email);
  EXPECT_EQ(dup_email.error().code, errc::conflict);
  EXPECT_NE(dup_email.error().message.find("email"), std::string::npos);
  auto dup_name = run_sync(ioc, repo.create({"ALICE", "new@example.com", kHash}));
  ASSERT_FALSE(dup_name);
  EXPECT_EQ(dup_name.error().code, errc::conflict);
  EXPECT_NE(dup_name.error().message.find("username"), std::string::npos);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM users"), "1");
}

TEST_F(UserRepositoryTest, Lookups) {
  auto u = run_sync(ioc, repo.create({"Alice", "alice@example.com", kHash}));
  ASSERT_TRUE(u);
  auto creds = run_sync(ioc, repo.find_credentials("alice@example.com"));
  ASSERT_TRUE(creds && *creds);
  EXPECT_EQ((*creds)->password_hash, kHash);
  EXPECT_EQ((*creds)->user.id, u->id);
  EXPECT_FALSE(*run_sync(ioc, repo.find_credentials("nobody@example.com")));

  auto by_id = run_sync(ioc, repo.find_by_id(u->id));
  ASSERT_TRUE(by_id && *by_id);
  EXPECT_EQ((*by_id)->username, "Alice");
  EXPECT_FALSE(*run_sync(ioc, repo.find_by_id(u->id + 100)));

  auto found = run_sync(ioc, repo.find_by_username("aLiCe"));
  ASSERT_TRUE(found);
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].id, u->id);
  EXPECT_TRUE(run_sync(ioc, repo.find_by_username("ali"))->empty()) << "exact match only";
}
