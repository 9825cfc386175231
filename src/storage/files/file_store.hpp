// FileStore on the local file system: <data dir>/attachments/<first two hex digits>/<sha256>,
// temporary uploads in <data dir>/tmp (same file system, so keeping one is a rename). The
// content type comes from libmagic (Debian's libmagic), one handle behind a mutex.
#pragma once

#include <mutex>
#include <string>

#include "domain/attachment_service.hpp"

struct magic_set;

namespace chatd::files {

class LocalFileStore final : public FileStore {
 public:
  // Creates the directories; throws when the data directory cannot be used.
  explicit LocalFileStore(std::string data_dir);
  ~LocalFileStore() override;

  // Where the transport writes an upload as it arrives.
  const std::string& temp_dir() const noexcept { return temp_dir_; }

  Status keep(const std::string& temp_path, const std::string& sha256) override;
  std::string path(const std::string& sha256) const override;
  void remove(const std::string& sha256, std::chrono::seconds grace) override;
  std::string content_type(std::string_view head) override;

 private:
  std::string root_;
  std::string temp_dir_;
  std::mutex magic_mutex_;
  magic_set* magic_ = nullptr;
};

}  // namespace chatd::files
