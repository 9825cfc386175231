#include "storage/files/file_store.hpp"

#include <magic.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <stdexcept>
#include <system_error>

namespace chatd::files {

namespace fs = std::filesystem;

namespace {
bool is_sha256(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}
}  // namespace

LocalFileStore::LocalFileStore(std::string data_dir)
    : root_(fs::absolute(data_dir) / "attachments"),
      temp_dir_(fs::absolute(data_dir) / "tmp") {
  std::error_code ec;
  fs::create_directories(root_, ec);
  if (!ec) fs::create_directories(temp_dir_, ec);
  if (ec)
    throw std::runtime_error("data directory " + data_dir + " not usable: " + ec.message());
  // Uploads a crash left half-written.
  for (const auto& e : fs::directory_iterator(temp_dir_, ec)) fs::remove(e.path(), ec);
  magic_ = magic_open(MAGIC_MIME_TYPE);
  if (magic_ == nullptr || magic_load(magic_, nullptr) != 0)
    throw std::runtime_error("libmagic could not load its database");
}

LocalFileStore::~LocalFileStore() {
  if (magic_ != nullptr) magic_close(magic_);
}

std::string LocalFileStore::path(const std::string& sha256) const {
  return root_ + "/" + sha256.substr(0, 2) + "/" + sha256;
}

Status LocalFileStore::keep(const std::string& temp_path, const std::string& sha256) {
  std::error_code ec;
  if (!is_sha256(sha256)) {
    fs::remove(temp_path, ec);
    return make_error(errc::internal, "not a sha256");
  }
  const auto target = path(sha256);
  fs::create_directories(fs::path(target).parent_path(), ec);
  if (fs::exists(target, ec)) {
    // The same bytes are stored already: one file for both, marked as in use now.
    fs::remove(temp_path, ec);
    fs::last_write_time(target, fs::file_time_type::clock::now(), ec);
    return Status{};
  }
  fs::rename(temp_path, target, ec);
  if (ec) {
    fs::remove(temp_path, ec);
    spdlog::error("keeping upload {} failed: {}", sha256, ec.message());
    return make_error(errc::unavailable, "the upload could not be stored");
  }
  return Status{};
}

void LocalFileStore::remove(const std::string& sha256, std::chrono::seconds grace) {
  if (!is_sha256(sha256)) return;
  std::error_code ec;
  const auto p = path(sha256);
  const auto written = fs::last_write_time(p, ec);
  if (ec || fs::file_time_type::clock::now() - written < grace) return;
  fs::remove(p, ec);
}

std::string LocalFileStore::content_type(std::string_view head) {
  std::lock_guard l(magic_mutex_);
  const char* type = magic_buffer(magic_, head.data(), head.size());
  return type != nullptr ? type : "application/octet-stream";
}

}  // namespace chatd::files
