#include "storage/pg/result_set.hpp"

#include <libpq-fe.h>

#include <charconv>
#include <stdexcept>

namespace chatd::pg {

void ResultSet::Clear::operator()(pg_result* r) const noexcept { PQclear(r); }

ResultSet::ResultSet(pg_result* res) : res_(res, Clear{}) {}

int ResultSet::rows() const noexcept { return res_ ? PQntuples(res_.get()) : 0; }

std::int64_t ResultSet::affected() const noexcept {
  if (!res_) return 0;
  const char* n = PQcmdTuples(res_.get());
  std::int64_t v = 0;
  std::from_chars(n, n + std::char_traits<char>::length(n), v);
  return v;
}

bool ResultSet::is_null(int row, int col) const noexcept {
  return PQgetisnull(res_.get(), row, col) != 0;
}

std::string_view ResultSet::text(int row, int col) const noexcept {
  return {PQgetvalue(res_.get(), row, col),
          static_cast<std::size_t>(PQgetlength(res_.get(), row, col))};
}

std::optional<std::string> ResultSet::opt_str(int row, int col) const {
  if (is_null(row, col)) return std::nullopt;
  return str(row, col);
}

std::int64_t ResultSet::int64(int row, int col) const {
  const auto t = text(row, col);
  std::int64_t v = 0;
  const auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc{} || p != t.data() + t.size())
    throw std::logic_error("column is not an integer: " + std::string(t));
  return v;
}

}  // namespace chatd::pg
