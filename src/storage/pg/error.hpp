// Database failures as the repositories see them: the SQLSTATE and constraint are kept so a
// repository can say which field clashed; `code` is already mapped to chatd's vocabulary.
#pragma once

#include <boost/system/result.hpp>

#include <string>
#include <string_view>

#include "domain/error.hpp"

namespace chatd::pg {

struct PgError {
  errc code = errc::internal;
  std::string sqlstate;    // "23505", or empty for client-side failures
  std::string constraint;  // constraint name, when the server names one
  std::string message;     // for the log only, never for clients
};

[[noreturn]] void throw_exception_from_error(const PgError& e, const boost::source_location& loc);

template <class T>
using PgResult = boost::system::result<T, PgError>;

// The one SQLSTATE → errc table (unique violation → conflict, lost connection → unavailable, ...).
errc map_sqlstate(std::string_view sqlstate) noexcept;

// A domain error for anything a repository does not interpret itself; logs the detail.
Error to_domain_error(const PgError& e);

}  // namespace chatd::pg
