// Owns one PGresult and reads its text-format cells; columns are addressed by position.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

struct pg_result;

namespace chatd::pg {

class ResultSet {
 public:
  ResultSet() = default;
  explicit ResultSet(pg_result* res);

  int rows() const noexcept;
  bool empty() const noexcept { return rows() == 0; }
  // Rows touched by INSERT/UPDATE/DELETE.
  std::int64_t affected() const noexcept;

  bool is_null(int row, int col) const noexcept;
  std::string_view text(int row, int col) const noexcept;
  std::string str(int row, int col) const { return std::string(text(row, col)); }
  std::optional<std::string> opt_str(int row, int col) const;
  std::int64_t int64(int row, int col) const;
  bool boolean(int row, int col) const noexcept { return text(row, col) == "t"; }

 private:
  struct Clear {
    void operator()(pg_result* r) const noexcept;
  };
  std::shared_ptr<pg_result> res_;
};

}  // namespace chatd::pg
