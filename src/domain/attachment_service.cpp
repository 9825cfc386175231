#include "domain/attachment_service.hpp"

#include <spdlog/spdlog.h>

#include "validation/validation.hpp"

namespace chatd {

using boost::asio::awaitable;

std::optional<std::string> clean_filename(std::string_view name) {
  if (const auto slash = name.find_last_of("/\\"); slash != std::string_view::npos)
    name.remove_prefix(slash + 1);
  if (name.empty() || name.size() > 255 || name == "." || name == ".." ||
      !validation::is_valid_utf8(name))
    return std::nullopt;
  for (unsigned char c : name)
    if (c < 0x20 || c == 0x7f) return std::nullopt;
  return std::string(name);
}

awaitable<Result<Attachment>> AttachmentService::store(UserId uploader, std::string filename,
                                                      Upload upload) {
  auto name = clean_filename(filename);
  if (!name)
    co_return make_error(errc::invalid_input,
                         "filename must be 1-255 bytes of UTF-8 without control characters");
  const auto type = files_.content_type(upload.head);
  if (auto kept = files_.keep(upload.temp_path, upload.sha256); !kept) co_return kept.error();
  co_return co_await repo_.create(uploader, std::move(*name), type, upload.size, upload.sha256);
}

awaitable<Result<std::optional<StoredFile>>> AttachmentService::open(UserId user,
                                                                     std::int64_t id) {
  auto found = co_await repo_.visible(user, id);
  if (!found) co_return found.error();
  if (!*found) co_return std::optional<StoredFile>{};
  auto path = files_.path((*found)->sha256);
  co_return std::optional<StoredFile>{StoredFile{std::move(**found), std::move(path)}};
}

awaitable<std::size_t> AttachmentService::sweep(std::chrono::seconds age) {
  auto gone = co_await repo_.sweep_unsent(age);
  if (!gone) {
    spdlog::warn("sweeping unsent attachments failed: {}", gone.error().message);
    co_return 0;
  }
  // Bytes kept again within the last hour (an upload of the same file racing the sweep) stay.
  for (const auto& sha : *gone) files_.remove(sha, std::chrono::hours(1));
  if (!gone->empty()) spdlog::info("removed {} unsent attachment file(s)", gone->size());
  co_return gone->size();
}

}  // namespace chatd
