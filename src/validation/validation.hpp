// What text must be, in one place (PROTOCOL §2, §3, §9, §10): accounts, message content, reactions,
// free text, search queries; characters counted as code points of well-formed UTF-8 everywhere.
// Pure rules, no I/O, so unit tests cover them exhaustively.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

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

// Code points of well-formed UTF-8 (what "characters" means in PROTOCOL's bounds).
std::size_t count_code_points(std::string_view s);

// A message's content: UTF-8 without NUL, 1–`max_chars` characters, not blank (PROTOCOL §3).
std::optional<Error> check_content(std::string_view content, std::size_t max_chars);

// A reaction (PROTOCOL §9): 1–8 code points of UTF-8, no whitespace or control character.
std::optional<Error> check_emoji(std::string_view emoji);

// Free text a person writes (a report's reason, a note): UTF-8 without NUL or other control
// characters but line breaks and tabs, `min`–`max` characters; the error names `field`.
std::optional<Error> check_text(std::string_view text, std::string_view field, std::size_t min,
                                std::size_t max);

// The words of a search query (PROTOCOL §9): 1–200 characters of UTF-8 without NUL, split at
// ASCII whitespace and punctuation (other characters are letters), lower-cased (ASCII); at
// least one word. At most 16 words are kept, each of at most 100 bytes.
std::variant<std::vector<std::string>, Error> search_words(std::string_view q);

}  // namespace chatd::validation
