// Attachments (PROTOCOL §4) against a running chatd: uploads streamed to disk, content types
// from the bytes, content-addressed files, downloads with ETag and ranges, who may see them,
// and sending them in messages.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "e2e/e2e_fixture.hpp"
#include "support/ws_client.hpp"

namespace chatd::test {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr std::size_t kLimit = 4 * 1024 * 1024;

class AttachmentsE2E : public ChatdSuite {
 protected:
  static void SetUpTestSuite() {
    start_server("attachments", {{"CHATD_MAX_ATTACHMENT_BYTES", std::to_string(kLimit)}});
  }
  static std::string data_dir() { return server_->data_dir(); }
};

const std::string kPdf = "%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< >>\n%%EOF\n";

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

HttpResult upload(std::uint16_t port, const std::string& token, const std::string& filename,
                  const std::string& bytes) {
  return http_request(port, "POST", "/attachments?filename=" + filename, bytes, token,
                      {{"Content-Type", "application/octet-stream"}});
}

std::size_t files_under(const fs::path& dir) {
  std::size_t n = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); it != fs::recursive_directory_iterator();
       ++it)
    if (it->is_regular_file()) ++n;
  return n;
}

long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

// A raw connection that sends a request head, then body bytes as long as the server reads
// them, then returns the status line of whatever the server answered.
std::string stream_body(std::uint16_t port, const std::string& head, std::size_t body_bytes,
                        bool chunked, bool close_early = false) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return "connect failed";
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  send(fd, head.data(), head.size(), MSG_NOSIGNAL);
  const std::string block(256 * 1024, 'z');
  std::size_t sent = 0;
  while (sent < body_bytes) {
    std::string piece = block.substr(0, std::min(block.size(), body_bytes - sent));
    if (chunked) {
      char size[32];
      std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
      piece = size + piece + "\r\n";
    }
    if (send(fd, piece.data(), piece.size(), MSG_NOSIGNAL) <= 0) break;
    sent += std::min(block.size(), body_bytes - sent);
  }
  if (close_early) {
    close(fd);
    return "";
  }
  if (chunked && sent >= body_bytes) send(fd, "0\r\n\r\n", 5, MSG_NOSIGNAL);
  std::string answer;
  char buf[4096];
  for (;;) {
    const auto n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    answer.append(buf, static_cast<std::size_t>(n));
    if (answer.find("\r\n") != std::string::npos) break;
  }
  close(fd);
  return answer.substr(0, answer.find("\r\n"));
}

TEST_F(AttachmentsE2E, AnUploadIsStoredWithTheTypeItsBytesTellAndComesBackByteForByte) {
  auto a = must_register(port(), "up_a");
  auto r = upload(port(), a.token, "report.pdf", kPdf);
  ASSERT_EQ(r.status, 201) << r.body;
  const auto& att = r.json.at("attachment");
  EXPECT_EQ(att.at("filename").as_string(), "report.pdf");
  EXPECT_EQ(att.at("content_type").as_string(), "application/pdf") << "from the bytes";
  EXPECT_EQ(att.at("size").as_int64(), static_cast<std::int64_t>(kPdf.size()));
  EXPECT_EQ(att.at("sha256").as_string().size(), 64u);
  const std::string url(att.at("url").as_string());
  EXPECT_EQ(url, "/attachments/" + std::to_string(att.at("id").as_int64()));

  auto got = http_request(port(), "GET", url, "", a.token);
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.body, kPdf);
  EXPECT_EQ(got.headers["content-type"], "application/pdf");
  const auto etag = got.headers["etag"];
  EXPECT_EQ(etag, "\"" + std::string(att.at("sha256").as_string()) + "\"");
  EXPECT_EQ(http_request(port(), "GET", url, "", a.token, {{"If-None-Match", etag}}).status, 304);
  EXPECT_EQ(http_request(port(), "GET", url, "", a.token, {{"If-None-Match", "\"other\""}}).status,
            200);

  auto part = http_request(port(), "GET", url, "", a.token, {{"Range", "bytes=5-7"}});
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.body, kPdf.substr(5, 3));
  EXPECT_EQ(part.headers["content-range"], "bytes 5-7/" + std::to_string(kPdf.size()));
  auto tail = http_request(port(), "GET", url, "", a.token, {{"Range", "bytes=-4"}});
  EXPECT_EQ(tail.status, 206);
  EXPECT_EQ(tail.body, kPdf.substr(kPdf.size() - 4));
  auto past = http_request(port(), "GET", url, "", a.token,
                           {{"Range", "bytes=" + std::to_string(kPdf.size()) + "-"}});
  EXPECT_EQ(past.status, 416);
  EXPECT_EQ(past.headers["content-range"], "bytes */" + std::to_string(kPdf.size()));

  const auto big = random_bytes(kLimit - 10, 1);  // several chunks, under the limit
  auto r2 = upload(port(), a.token, "noise.bin", big);
  ASSERT_EQ(r2.status, 201) << r2.body;
  auto back = http_request(port(), "GET", std::string(r2.json.at("attachment").at("url").as_string()),
                           "", a.token);
  EXPECT_EQ(back.status, 200);
  EXPECT_TRUE(back.body == big) << "byte for byte";
}

TEST_F(AttachmentsE2E, TheSameBytesTwiceShareOneFileAndNamesCannotEscapeTheDataDirectory) {
  auto a = must_register(port(), "same_a");
  auto b = must_register(port(), "same_b");
  const auto bytes = random_bytes(100000, 2);
  const auto before = files_under(data_dir());
  auto r1 = upload(port(), a.token, "one.bin", bytes);
  auto r2 = upload(port(), b.token, "..%2F..%2F..%2Fetc%2Fpasswd", bytes);
  ASSERT_EQ(r1.status, 201);
  ASSERT_EQ(r2.status, 201) << r2.body;
  EXPECT_NE(r1.json.at("attachment").at("id"), r2.json.at("attachment").at("id"));
  EXPECT_EQ(r1.json.at("attachment").at("sha256"), r2.json.at("attachment").at("sha256"));
  EXPECT_EQ(files_under(data_dir()), before + 1) << "one file for both";
  EXPECT_EQ(r2.json.at("attachment").at("filename").as_string(), "passwd")
      << "only the last path segment is kept";
  for (const auto& e : fs::recursive_directory_iterator(data_dir())) {
    if (e.is_regular_file()) {
      EXPECT_EQ(e.path().filename().string().size(), 64u) << e.path() << ": only sha256 names";
    }
  }

  for (const std::string bad : {"", "..", "a%2F", "tab%09name"}) {
    auto r = upload(port(), a.token, bad, "x");
    EXPECT_EQ(r.status, 400) << bad;
  }
  EXPECT_EQ(http_request(port(), "POST", "/attachments", "x", a.token).status, 400)
      << "filename is required";
  EXPECT_EQ(upload(port(), "not-a-token", "x.bin", "x").status, 401);
}

TEST_F(AttachmentsE2E, AnUploadOverTheLimitIsRefusedWithoutChatdHoldingIt) {
  auto a = must_register(port(), "big_a");
  const auto files_before = files_under(data_dir());
  const auto rss_before = rss_kib(server_->pid());
  // Declared too large: refused before a byte of the body is read.
  const std::string head = "POST /attachments?filename=huge.bin HTTP/1.1\r\nHost: x\r\n"
                           "Authorization: Bearer " + a.token + "\r\n";
  EXPECT_EQ(stream_body(port(), head + "Content-Length: " + std::to_string(100 << 20) + "\r\n\r\n",
                        100 << 20, false),
            "HTTP/1.1 413 Payload Too Large");
  // Not declared (chunked): refused once the streamed count passes the limit.
  EXPECT_EQ(stream_body(port(), head + "Transfer-Encoding: chunked\r\n\r\n", 5 * kLimit, true),
            "HTTP/1.1 413 Payload Too Large");
  const auto rss_after = rss_kib(server_->pid());
  EXPECT_LT(rss_after - rss_before, 8 * 1024) << "KiB: chatd's memory does not grow with uploads";
  EXPECT_EQ(files_under(data_dir()), files_before) << "nothing left behind";
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM attachments WHERE filename = 'huge.bin'"), "0");
}

TEST_F(AttachmentsE2E, ATruncatedUploadLeavesNoFileAndNoRow) {
  auto a = must_register(port(), "cut_a");
  const auto files_before = files_under(data_dir());
  const std::string head = "POST /attachments?filename=cut.bin HTTP/1.1\r\nHost: x\r\n"
                           "Authorization: Bearer " + a.token + "\r\nContent-Length: 1000000\r\n\r\n";
  stream_body(port(), head, 300000, false, /*close_early=*/true);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(files_under(data_dir()), files_before);
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM attachments WHERE filename = 'cut.bin'"), "0");
  EXPECT_EQ(http_request(port(), "GET", "/healthz").status, 200);
}

TEST_F(AttachmentsE2E, SentAttachmentsReachTheMembersAndNobodyElse) {
  auto a = must_register(port(), "send_a");
  auto b = must_register(port(), "send_b");
  auto c = must_register(port(), "send_c");
  auto up = upload(port(), a.token, "doc.pdf", kPdf);
  ASSERT_EQ(up.status, 201);
  const auto id = up.json.at("attachment").at("id").as_int64();
  const std::string url(up.json.at("attachment").at("url").as_string());
  EXPECT_EQ(http_request(port(), "GET", url, "", b.token).status, 404) << "not sent yet";

  WsClient ca(port(), a.token), cb(port(), b.token);
  ca.next_of("ready");
  cb.next_of("ready");
  ca.send(json::value{{"type", "send_message"}, {"to", b.id}, {"content", ""},
                      {"attachment_ids", json::array{id}}, {"client_id", "att1"}});
  auto ack = ca.next_of("ack").at("message");
  ASSERT_EQ(ack.at("attachments").as_array().size(), 1u);
  EXPECT_EQ(ack.at("attachments").as_array()[0].at("url").as_string(), url);
  EXPECT_EQ(ack.at("content").as_string(), "") << "content may be empty with attachments";
  auto got = cb.next_of("message").at("message");
  EXPECT_EQ(got.at("attachments"), ack.at("attachments"));
  EXPECT_EQ(http_request(port(), "GET", url, "", b.token).status, 200) << "a member now";
  EXPECT_EQ(http_request(port(), "GET", url, "", c.token).status, 404) << "not a member";
  EXPECT_EQ(http_request(port(), "GET", "/attachments/999999999", "", a.token).status, 404);
  EXPECT_EQ(http_request(port(), "GET", "/attachments/abc", "", a.token).status, 404);
  auto history = http_request(port(), "GET", "/messages?peer_id=" + std::to_string(a.id), "",
                              b.token);
  ASSERT_EQ(history.status, 200) << history.body;
  EXPECT_EQ(history.json.at("messages").as_array()[0].at("attachments"), ack.at("attachments"));

  // Someone else's upload, too many, twice the same, nothing at all.
  auto theirs = upload(port(), c.token, "c.pdf", kPdf);
  json::array eleven;
  for (int i = 0; i < 11; ++i) eleven.push_back(id);
  struct Case {
    json::array ids;
    std::string content;
  };
  int n = 0;
  for (auto& [ids, content] : std::vector<Case>{
           {json::array{theirs.json.at("attachment").at("id")}, "x"},
           {eleven, "x"},
           {json::array{id, id}, "x"},
           {json::array{}, ""}}) {
    const auto cid = numbered("bad", n++);
    ca.send(json::value{{"type", "send_message"}, {"to", b.id}, {"content", content},
                        {"attachment_ids", ids}, {"client_id", cid}});
    auto err = ca.next_of("error");
    EXPECT_EQ(err.at("code").as_string(), "invalid_input") << json::serialize(ids);
    EXPECT_EQ(err.at("client_id").as_string(), cid);
  }

  // Deleted for everyone: the attachment goes from the message, in the database too.
  ca.send(json::value{{"type", "delete_message"}, {"message_id", ack.at("id")}});
  EXPECT_TRUE(cb.next_of("message_updated").at("message").at("attachments").as_array().empty());
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM message_attachments WHERE message_id = " +
                        std::to_string(ack.at("id").as_int64())),
            "0");
  EXPECT_EQ(http_request(port(), "GET", url, "", b.token).status, 404);
  EXPECT_EQ(http_request(port(), "GET", url, "", a.token).status, 200) << "still the uploader's";
}

}  // namespace
}  // namespace chatd::test

namespace chatd::test {
namespace {

// The data directory's disk full during an upload: 503 `unavailable`, nothing left behind, and
// the next upload that fits works. Needs a small file system of its own (tmpfs, mounted as root).
TEST(AttachmentsDiskFullE2E, AFullDiskAnswersUnavailableAndRecovers) {
  const auto dir = fs::temp_directory_path() / ("chatd-full-" + std::to_string(getpid()));
  fs::create_directories(dir);
  const auto mount = "mount -t tmpfs -o size=512k tmpfs " + dir.string() + " 2>/dev/null";
  if (std::system(mount.c_str()) != 0) {
    fs::remove_all(dir);
    GTEST_SKIP() << "cannot mount a tmpfs here (not root?)";
  }
  struct Unmount {
    fs::path dir;
    ~Unmount() {
      (void)std::system(("umount " + dir.string()).c_str());
      fs::remove_all(dir);
    }
  } unmount{dir};
  TestDatabase db("disk_full");
  ChatdProcess server(db.conninfo(), {{"CHATD_DATA_DIR", dir.string()}});
  server.start();
  auto a = must_register(server.port(), "full_a");
  auto r = upload(server.port(), a.token, "big.bin", random_bytes(1024 * 1024, 3));
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(r.error_code(), "unavailable");
  EXPECT_EQ(files_under(dir), 0u) << "the partial upload is gone";
  EXPECT_EQ(db.scalar("SELECT count(*) FROM attachments"), "0");
  auto ok = upload(server.port(), a.token, "small.bin", random_bytes(100 * 1024, 4));
  EXPECT_EQ(ok.status, 201) << "the space came back: " << ok.body;
  EXPECT_EQ(http_request(server.port(), "GET", "/healthz").status, 200);
}

}  // namespace
}  // namespace chatd::test
