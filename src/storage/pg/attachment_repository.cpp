#include "storage/pg/attachment_repository.hpp"

#include "storage/pg/message_columns.hpp"

namespace chatd::pg {

using boost::asio::awaitable;

namespace {

#define CHATD_ATTACHMENT_COLUMNS "a.id, a.filename, a.content_type, a.size, a.sha256"

constexpr Statement kCreate{
    "attachment_create",
    "INSERT INTO attachments AS a (uploader_id, filename, content_type, size, sha256)"
    " VALUES ($1, $2, $3, $4, $5) RETURNING " CHATD_ATTACHMENT_COLUMNS};
// The uploader, or a member of a conversation a message carrying it was sent in (and has not
// disappeared: its links go with the next expiry sweep, the file is unreadable from expires_at).
constexpr Statement kVisible{
    "attachment_visible",
    "SELECT " CHATD_ATTACHMENT_COLUMNS " FROM attachments a WHERE a.id = $1"
    " AND (a.uploader_id = $2 OR EXISTS ("
    "   SELECT 1 FROM message_attachments ma JOIN messages m ON m.id = ma.message_id"
    "   JOIN conversation_members cm ON cm.conversation_id = m.conversation_id"
    "                               AND cm.user_id = $2"
    "   WHERE ma.attachment_id = a.id AND " CHATD_NOT_EXPIRED("m") "))"};
// Unsent uploads past their age go; the files no remaining upload names are returned.
constexpr Statement kSweep{
    "attachment_sweep",
    "WITH gone AS (DELETE FROM attachments a"
    "              WHERE a.created_at < now() - make_interval(secs => $1::int)"
    "                AND NOT EXISTS (SELECT 1 FROM message_attachments ma"
    "                                WHERE ma.attachment_id = a.id)"
    "              RETURNING a.id, a.sha256)"
    " SELECT DISTINCT g.sha256 FROM gone g"
    " WHERE NOT EXISTS (SELECT 1 FROM attachments k WHERE k.sha256 = g.sha256"
    "                   AND k.id NOT IN (SELECT id FROM gone))"};

#undef CHATD_ATTACHMENT_COLUMNS

Attachment read_attachment(const ResultSet& rs, int row) {
  return Attachment{rs.int64(row, 0), rs.str(row, 1), rs.str(row, 2), rs.int64(row, 3),
                    rs.str(row, 4)};
}

}  // namespace

awaitable<Result<Attachment>> PgAttachmentRepository::create(UserId uploader, std::string filename,
                                                             std::string content_type,
                                                             std::int64_t size,
                                                             std::string sha256) {
  auto rs = co_await pool_.exec(kCreate, params(std::to_string(uploader), std::move(filename),
                                                std::move(content_type), std::to_string(size),
                                                std::move(sha256)));
  if (!rs) co_return to_domain_error(rs.error());
  co_return read_attachment(*rs, 0);
}

awaitable<Result<std::optional<Attachment>>> PgAttachmentRepository::visible(UserId user,
                                                                             std::int64_t id) {
  auto rs = co_await pool_.exec(kVisible, params(std::to_string(id), std::to_string(user)));
  if (!rs) co_return to_domain_error(rs.error());
  if (rs->empty()) co_return std::optional<Attachment>{};
  co_return std::optional<Attachment>{read_attachment(*rs, 0)};
}

awaitable<Result<std::vector<std::string>>> PgAttachmentRepository::sweep_unsent(
    std::chrono::seconds age) {
  auto rs = co_await pool_.exec(kSweep, params(std::to_string(age.count())));
  if (!rs) co_return to_domain_error(rs.error());
  std::vector<std::string> out;
  for (int r = 0; r < rs->rows(); ++r) out.push_back(rs->str(r, 0));
  co_return out;
}

}  // namespace chatd::pg
