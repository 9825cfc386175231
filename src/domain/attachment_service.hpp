// Attachments (PROTOCOL §4): uploads the transport streamed to a temporary file become
// content-addressed files (identical bytes once) and a row per upload; downloads only for the
// uploader and members of a conversation the attachment was sent in; unsent uploads are swept.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/error.hpp"
#include "domain/message.hpp"

namespace chatd {

// A request body written to a temporary file as it arrived (never whole in memory).
struct Upload {
  std::string temp_path;
  std::int64_t size = 0;
  std::string sha256;  // hex
  std::string head;    // the first bytes, to tell the content type
};

// Where the bytes live.
class FileStore {
 public:
  virtual ~FileStore() = default;
  // Moves the temporary file to the place of `sha256` (or drops it when those bytes are there
  // already, and marks them as in use now).
  virtual Status keep(const std::string& temp_path, const std::string& sha256) = 0;
  virtual std::string path(const std::string& sha256) const = 0;
  // Removes the bytes of `sha256` unless they were kept again within `grace`.
  virtual void remove(const std::string& sha256, std::chrono::seconds grace) = 0;
  // The content type told by the bytes themselves (magic numbers).
  virtual std::string content_type(std::string_view head) = 0;
};

class AttachmentRepository {
 public:
  virtual ~AttachmentRepository() = default;
  virtual boost::asio::awaitable<Result<Attachment>> create(UserId uploader, std::string filename,
                                                            std::string content_type,
                                                            std::int64_t size,
                                                            std::string sha256) = 0;
  // The attachment when `user` may see it: its uploader, or a member of a conversation it
  // was sent in.
  virtual boost::asio::awaitable<Result<std::optional<Attachment>>> visible(UserId user,
                                                                            std::int64_t id) = 0;
  // Removes uploads older than `age` never sent in a message; returns the sha256 of files no
  // upload refers to any more.
  virtual boost::asio::awaitable<Result<std::vector<std::string>>> sweep_unsent(
      std::chrono::seconds age) = 0;
};

struct StoredFile {
  Attachment attachment;
  std::string path;
};

class AttachmentService {
 public:
  AttachmentService(AttachmentRepository& repo, FileStore& files) : repo_(repo), files_(files) {}

  // `filename` as the client named it (its last path segment is kept).
  boost::asio::awaitable<Result<Attachment>> store(UserId uploader, std::string filename,
                                                   Upload upload);
  // nullopt for an attachment that does not exist or that `user` may not see (404 alike).
  boost::asio::awaitable<Result<std::optional<StoredFile>>> open(UserId user, std::int64_t id);
  // Unsent uploads older than `age` and their files; returns how many files went.
  boost::asio::awaitable<std::size_t> sweep(std::chrono::seconds age);

 private:
  AttachmentRepository& repo_;
  FileStore& files_;
};

// The last path segment of a client's file name, checked: 1–255 bytes of UTF-8, no control
// characters, not "." or "..". nullopt when nothing usable is left.
std::optional<std::string> clean_filename(std::string_view name);

}  // namespace chatd
