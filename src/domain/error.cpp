#include "domain/error.hpp"

#include <stdexcept>

namespace chatd {

std::string_view code_name(errc code) noexcept {
  switch (code) {
    case errc::invalid_input: return "invalid_input";
    case errc::unauthorized: return "unauthorized";
    case errc::invalid_credentials: return "invalid_credentials";
    case errc::forbidden: return "forbidden";
    case errc::not_found: return "not_found";
    case errc::conflict: return "conflict";
    case errc::too_large: return "too_large";
    case errc::rate_limited: return "rate_limited";
    case errc::unavailable: return "unavailable";
    case errc::internal: return "internal";
  }
  return "internal";
}

void throw_exception_from_error(const Error& e, const boost::source_location&) {
  throw std::runtime_error(std::string(code_name(e.code)) + ": " + e.message);
}

}  // namespace chatd
