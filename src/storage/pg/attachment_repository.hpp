// AttachmentRepository on PostgreSQL.
#pragma once

#include "domain/attachment_service.hpp"
#include "storage/pg/pool.hpp"

namespace chatd::pg {

class PgAttachmentRepository final : public AttachmentRepository {
 public:
  explicit PgAttachmentRepository(Pool& pool) : pool_(pool) {}

  boost::asio::awaitable<Result<Attachment>> create(UserId uploader, std::string filename,
                                                    std::string content_type, std::int64_t size,
                                                    std::string sha256) override;
  boost::asio::awaitable<Result<std::optional<Attachment>>> visible(UserId user,
                                                                    std::int64_t id) override;
  boost::asio::awaitable<Result<std::vector<std::string>>> sweep_unsent(
      std::chrono::seconds age) override;

 private:
  Pool& pool_;
};

}  // namespace chatd::pg
