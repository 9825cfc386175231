// The sweep of unsent uploads (PROTOCOL §4: an attachment not sent within 24 h may be
// deleted): rows and files, with a real PostgreSQL and a real data directory.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "domain/attachment_service.hpp"
#include "storage/files/file_store.hpp"
#include "storage/pg/attachment_repository.hpp"
#include "support/migrate.hpp"

namespace chatd::test {
namespace {

namespace fs = std::filesystem;

class AttachmentSweep : public MigratedDatabase {
 protected:
  AttachmentSweep() : MigratedDatabase("attachments") {}
  void SetUp() override {
    MigratedDatabase::SetUp();
    dir = fs::temp_directory_path() / ("chatd-att-" + db.name());
    store.emplace(dir.string());
  }
  void TearDown() override {
    store.reset();
    fs::remove_all(dir);
  }
  // An upload of `bytes` by user 1 whose file was last kept `age` ago and row made `age` ago.
  Attachment put(const std::string& bytes, const std::string& sha, std::chrono::hours age) {
    const auto temp = store->temp_dir() + "/t-" + sha;
    std::ofstream(temp) << bytes;
    EXPECT_TRUE(store->keep(temp, sha));
    fs::last_write_time(store->path(sha), fs::file_time_type::clock::now() - age);
    auto a = run_sync(ioc, repo.create(1, "f.bin", "application/octet-stream",
                                       static_cast<std::int64_t>(bytes.size()), sha));
    EXPECT_TRUE(a);
    db.scalar("UPDATE attachments SET created_at = now() - interval '" +
              std::to_string(age.count()) + " hours' WHERE id = " + std::to_string(a->id));
    return *a;
  }
  fs::path dir;
  std::optional<files::LocalFileStore> store;
  pg::PgAttachmentRepository repo{pool};
};

const std::string kShaOld(64, 'a'), kShaSent(64, 'b'), kShaNew(64, 'c');

TEST_F(AttachmentSweep, UnsentUploadsOlderThanADayGoWithTheirFilesSentOrRecentOnesStay) {
  AttachmentService service(repo, *store);
  put("old", kShaOld, std::chrono::hours(30));
  auto sent = put("sent", kShaSent, std::chrono::hours(30));
  put("new", kShaNew, std::chrono::hours(2));
  db.scalar("INSERT INTO message_attachments (message_id, position, attachment_id) VALUES (7, 1, " +
            std::to_string(sent.id) + ")");

  EXPECT_EQ(run_sync(ioc, service.sweep(std::chrono::hours(24))), 1u);
  EXPECT_FALSE(fs::exists(store->path(kShaOld)));
  EXPECT_TRUE(fs::exists(store->path(kShaSent))) << "sent in a message";
  EXPECT_TRUE(fs::exists(store->path(kShaNew))) << "younger than a day";
  EXPECT_EQ(db.scalar("SELECT string_agg(sha256, ',' ORDER BY sha256) FROM attachments"),
            kShaSent + "," + kShaNew);
}

TEST_F(AttachmentSweep, BytesStillNamedByAnotherUploadOrKeptAgainRecentlyStay) {
  AttachmentService service(repo, *store);
  put("shared", kShaOld, std::chrono::hours(30));
  auto again = run_sync(ioc, repo.create(2, "same.bin", "application/octet-stream", 6, kShaOld));
  ASSERT_TRUE(again);  // the same bytes uploaded again just now: that row is young
  EXPECT_EQ(run_sync(ioc, service.sweep(std::chrono::hours(24))), 0u) << "no file goes";
  EXPECT_TRUE(fs::exists(store->path(kShaOld)));
  EXPECT_EQ(db.scalar("SELECT count(*) FROM attachments"), "1") << "only the old row went";

  // Kept again within the hour (an upload racing the sweep): the file stays even unnamed.
  db.scalar("UPDATE attachments SET created_at = now() - interval '30 hours'");
  fs::last_write_time(store->path(kShaOld), fs::file_time_type::clock::now());
  EXPECT_EQ(run_sync(ioc, service.sweep(std::chrono::hours(24))), 1u);
  EXPECT_TRUE(fs::exists(store->path(kShaOld)));
}

}  // namespace
}  // namespace chatd::test
