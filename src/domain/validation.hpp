// Pure input rules of PROTOCOL §2; no I/O, so unit tests cover them exhaustively.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "domain/error.hpp"

namespace chatd::validation {

inline constexpr std::size_t kMinPassword = 8;
inline constexpr std::size_t kMaxPassword = 72;  // bcrypt reads no further
inline constexpr std::size_t kMaxEmail = 254;

// Each returns the error to send (naming the field) or nothing when the value is fine.
std::optional<Error> check_username(std::string_view username);
std::optional<Error> check_email(std::string_view email);
std::optional<Error> check_password(std::string_view password);

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates).
bool is_valid_utf8(std::string_view s);

std::string to_lower_ascii(std::string_view s);

}  // namespace chatd::validation
