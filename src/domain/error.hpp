// The one error vocabulary of chatd: every layer returns these codes, and one table (http/ and
// ws/) maps them to the wire. Exceptions are kept for bugs and start-up failures.
#pragma once

#include <boost/system/result.hpp>

#include <string>
#include <string_view>

namespace chatd {

enum class errc {
  invalid_input = 1,    // 400 — malformed JSON, missing/ill-typed field, value out of bounds
  unauthorized,         // 401 — missing, malformed, expired or forged token
  invalid_credentials,  // 401 — wrong email or password (never says which)
  forbidden,            // 403
  not_found,            // 404 — also for what the caller may not see
  conflict,             // 409 — duplicate email or username
  too_large,            // 413
  rate_limited,         // 429
  unavailable,          // 503 — database down, pool exhausted, worker queue full
  internal,             // 500 — a bug; details only in the log
};

// The stable machine code of PROTOCOL §1 ("invalid_input", "conflict", ...).
std::string_view code_name(errc code) noexcept;

struct Error {
  errc code;
  std::string message;
  int retry_after = 0;  // seconds, for errc::rate_limited (the Retry-After header)
};

// Lets boost::system::result<T, Error>::value() throw on a programming error.
[[noreturn]] void throw_exception_from_error(const Error& e, const boost::source_location& loc);

template <class T>
using Result = boost::system::result<T, Error>;
using Status = boost::system::result<void, Error>;

inline Error make_error(errc code, std::string message) { return Error{code, std::move(message)}; }

}  // namespace chatd
