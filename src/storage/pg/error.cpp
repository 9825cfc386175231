#include "storage/pg/error.hpp"

#include <spdlog/spdlog.h>

#include <stdexcept>

namespace chatd::pg {

void throw_exception_from_error(const PgError& e, const boost::source_location&) {
  throw std::runtime_error("database error " + e.sqlstate + ": " + e.message);
}

errc map_sqlstate(std::string_view s) noexcept {
  if (s == "23505") return errc::conflict;       // unique_violation
  if (s == "23503") return errc::not_found;      // foreign_key_violation: the referent is gone
  if (s == "23514" || s == "23502") return errc::invalid_input;  // check / not-null violation
  if (s.starts_with("22")) return errc::invalid_input;          // data exception
  if (s == "40001" || s == "40P01") return errc::unavailable;    // serialization / deadlock
  if (s.starts_with("08") || s.starts_with("57") || s.starts_with("53"))
    return errc::unavailable;  // connection, operator intervention, insufficient resources
  return errc::internal;
}

Error to_domain_error(const PgError& e) {
  switch (e.code) {
    case errc::unavailable:
      spdlog::warn("database unavailable: {} {}", e.sqlstate, e.message);
      return make_error(errc::unavailable, "database unavailable, try again");
    case errc::internal:
      spdlog::error("database error {}: {}", e.sqlstate, e.message);
      return make_error(errc::internal, "internal error");
    default:
      spdlog::debug("database rejected input {} ({}): {}", e.sqlstate, e.constraint, e.message);
      return make_error(e.code, "rejected by the database");
  }
}

}  // namespace chatd::pg
