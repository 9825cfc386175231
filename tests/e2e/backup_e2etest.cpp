// Backups and restores (issue 23, docs/operating.md "Backups"): scripts/backup of a chatd in use,
// scripts/restore into an empty database and data directory, and a chatd started on them serves
// what was there — the users log in with their passwords, the history is whole, an attachment
// downloads with its bytes. A restore over a database in use is refused and changes nothing.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <filesystem>
#include <random>

#include "e2e/e2e_fixture.hpp"
#include "support/server_process.hpp"
#include "support/ws_client.hpp"

namespace chatd::test {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

std::string temp_dir() {
  char tmpl[] = "/tmp/chatd-backup-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
  return tmpl;
}

// Runs scripts/<name> DIR against `database` and `data_dir`.
CommandResult run_script(const std::string& name, const std::string& dir,
                         const std::string& database, const std::string& data_dir) {
  return run_command("CHATD_DATABASE_URL='" + database + "' CHATD_DATA_DIR='" + data_dir +
                     "' " CHATD_SOURCE_DIR "/scripts/" + name + " '" + dir + "' 2>&1");
}

TEST(BackupE2E, ABackupRestoredIntoAnEmptyDatabaseServesWhatWasThere) {
  const auto work = temp_dir();
  TestDatabase db("backup_src");
  ChatdProcess server(db.conninfo());
  server.start();
  const auto a = must_register(server.port(), "bk_a");
  const auto b = must_register(server.port(), "bk_b");
  std::string bytes(70000, '\0');
  std::mt19937 rng(7);
  for (auto& c : bytes) c = static_cast<char>(rng());
  auto up = http_request(server.port(), "POST", "/attachments?filename=notes.bin", bytes, a.token,
                         {{"Content-Type", "application/octet-stream"}});
  ASSERT_EQ(up.status, 201) << up.body;
  const auto att = up.json.at("attachment").at("id").as_int64();
  {
    WsClient wa(server.port(), a.token);
    wa.next_of("ready");
    for (int i = 0; i < 5; ++i) wa.send_direct(b.id, "kept " + std::to_string(i));
    wa.send(json::value{{"type", "send_message"}, {"to", b.id}, {"content", "with a file"},
                        {"attachment_ids", json::array{att}}});
    ASSERT_EQ(wa.collect("ack", 6, std::chrono::seconds(10)).size(), 6u);
  }

  const auto backup = work + "/backup";
  const auto taken = run_script("backup", backup, db.conninfo(), server.data_dir());
  ASSERT_EQ(taken.exit_code, 0) << "taken while chatd serves: " << taken.output;
  EXPECT_TRUE(fs::exists(backup + "/chatd.dump"));
  EXPECT_EQ(server.stop(), 0);

  TestDatabase fresh("backup_dst");
  const auto data = work + "/data";
  const auto restored_run = run_script("restore", backup, fresh.conninfo(), data);
  ASSERT_EQ(restored_run.exit_code, 0) << restored_run.output;
  const auto again = run_script("restore", backup, fresh.conninfo(), work + "/other");
  EXPECT_NE(again.exit_code, 0) << "a database that holds tables is refused: " << again.output;
  EXPECT_EQ(fresh.scalar("SELECT count(*) FROM messages"), "6") << "nothing restored twice";

  ChatdProcess restored(fresh.conninfo(), {{"CHATD_DATA_DIR", data}});
  restored.start();
  auto login =
      http_request(restored.port(), "POST", "/auth/login",
                   json_body({{"email", "bk_b@example.com"}, {"password", "password-bk_b"}}));
  ASSERT_EQ(login.status, 200) << login.body;
  const std::string token(login.json.at("token").as_string());
  auto history = http_request(restored.port(), "GET",
                              "/messages?peer_id=" + std::to_string(a.id), "", token);
  ASSERT_EQ(history.status, 200) << history.body;
  const auto& msgs = history.json.at("messages").as_array();
  ASSERT_EQ(msgs.size(), 6u);
  for (std::size_t i = 0; i < 5; ++i)
    EXPECT_EQ(msgs[i].at("content").as_string(), "kept " + std::to_string(i));
  const auto& files = msgs[5].at("attachments").as_array();
  ASSERT_EQ(files.size(), 1u);
  auto file = http_request(restored.port(), "GET", std::string(files[0].at("url").as_string()),
                           "", token);
  EXPECT_EQ(file.status, 200);
  EXPECT_EQ(file.body, bytes) << "the attachment's bytes came back";
  EXPECT_EQ(restored.stop(), 0);
  std::error_code ec;
  fs::remove_all(work, ec);
}

}  // namespace
}  // namespace chatd::test
