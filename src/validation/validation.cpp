#include "validation/validation.hpp"

#include <algorithm>
#include <cctype>

namespace chatd::validation {
namespace {

bool is_username_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

// Characters allowed in the local part of an address (RFC 5322 atext plus dots).
bool is_local_char(unsigned char c) {
  if (std::isalnum(c)) return true;
  return std::string_view("!#$%&'*+/=?^_`{|}~.-").find(static_cast<char>(c)) !=
         std::string_view::npos;
}

bool is_domain_label(std::string_view label) {
  if (label.empty() || label.size() > 63) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  return std::all_of(label.begin(), label.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-';
  });
}

}  // namespace

std::optional<Error> check_username(std::string_view u) {
  if (u.size() < 3 || u.size() > 32 || !std::all_of(u.begin(), u.end(), [](unsigned char c) {
        return is_username_char(c);
      })) {
    return make_error(errc::invalid_input, "username must be 3-32 characters of A-Z a-z 0-9 _ . -");
  }
  // The names of deleted accounts' tombstones (PROTOCOL §10).
  if (to_lower_ascii(u).starts_with("deleted-"))
    return make_error(errc::invalid_input, "usernames starting with deleted- are reserved");
  return std::nullopt;
}

std::optional<Error> check_email(std::string_view e) {
  const auto bad = make_error(errc::invalid_input, "email is not a valid address");
  if (e.empty() || e.size() > kMaxEmail) return bad;
  const auto at = e.find('@');
  if (at == std::string_view::npos || at == 0 || e.find('@', at + 1) != std::string_view::npos)
    return bad;
  const auto local = e.substr(0, at);
  const auto domain = e.substr(at + 1);
  if (local.size() > 64 || local.front() == '.' || local.back() == '.' ||
      local.find("..") != std::string_view::npos)
    return bad;
  if (!std::all_of(local.begin(), local.end(), [](unsigned char c) { return is_local_char(c); }))
    return bad;
  // The domain needs at least two labels ("example.com"), each a valid DNS label.
  if (domain.find('.') == std::string_view::npos) return bad;
  std::size_t start = 0;
  while (start <= domain.size()) {
    const auto dot = domain.find('.', start);
    const auto label = domain.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (!is_domain_label(label)) return bad;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return std::nullopt;
}

std::optional<Error> check_password(std::string_view p) {
  if (p.size() < kMinPassword || p.size() > kMaxPassword)
    return make_error(errc::invalid_input, "password must be 8-72 bytes");
  if (p.find('\0') != std::string_view::npos)
    return make_error(errc::invalid_input, "password must not contain NUL bytes");
  return std::nullopt;
}

bool is_valid_utf8(std::string_view s) {
  std::size_t i = 0;
  const auto n = s.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len;
    std::uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += len;
  }
  return true;
}

std::string to_lower_ascii(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
  });
  return out;
}

std::size_t count_code_points(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::optional<Error> check_content(std::string_view content, std::size_t max_chars) {
  if (!is_valid_utf8(content))
    return make_error(errc::invalid_input, "content must be valid UTF-8");
  if (content.find('\0') != std::string_view::npos)
    return make_error(errc::invalid_input, "content must not contain NUL characters");
  const auto n = count_code_points(content);
  if (n == 0 || n > max_chars)
    return make_error(errc::invalid_input,
                      "content must be 1-" + std::to_string(max_chars) + " characters");
  const bool blank = std::all_of(content.begin(), content.end(), [](unsigned char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  });
  if (blank) return make_error(errc::invalid_input, "content must not be blank");
  return std::nullopt;
}

std::optional<Error> check_emoji(std::string_view emoji) {
  const auto bad = make_error(errc::invalid_input,
                              "emoji must be 1-8 characters without spaces or control characters");
  if (!is_valid_utf8(emoji)) return bad;
  const auto n = count_code_points(emoji);
  if (n < 1 || n > 8) return bad;
  for (std::size_t i = 0; i < emoji.size();) {
    const auto c = static_cast<unsigned char>(emoji[i]);
    if (c < 0x20 || c == 0x20 || c == 0x7f) return bad;
    // Two-byte controls and spaces: U+0080–U+009F (C1 controls), U+00A0 (no-break space).
    if (c == 0xc2 && i + 1 < emoji.size()) {
      const auto d = static_cast<unsigned char>(emoji[i + 1]);
      if (d >= 0x80 && d <= 0xa0) return bad;
    }
    // Three-byte spaces and separators: U+1680, U+2000–U+200A, U+2028, U+2029, U+202F, U+205F,
    // U+3000 (ZWJ U+200D and variation selectors stay: emoji are made of them).
    if (i + 2 < emoji.size()) {
      const auto d = static_cast<unsigned char>(emoji[i + 1]);
      const auto e = static_cast<unsigned char>(emoji[i + 2]);
      if ((c == 0xe1 && d == 0x9a && e == 0x80) || (c == 0xe3 && d == 0x80 && e == 0x80) ||
          (c == 0xe2 && d == 0x80 && (e <= 0x8a || e == 0xa8 || e == 0xa9 || e == 0xaf)) ||
          (c == 0xe2 && d == 0x81 && e == 0x9f))
        return bad;
    }
    i += c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
  }
  return std::nullopt;
}

std::optional<Error> check_text(std::string_view text, std::string_view field, std::size_t min,
                                std::size_t max) {
  const auto n = count_code_points(text);
  const bool control = std::any_of(text.begin(), text.end(), [](unsigned char c) {
    return (c < 0x20 && c != '\n' && c != '\t' && c != '\r') || c == 0x7f;
  });
  if (!is_valid_utf8(text) || control || n < min || n > max)
    return make_error(errc::invalid_input, std::string(field) + " must be " + std::to_string(min) +
                                               "-" + std::to_string(max) +
                                               " characters of text");
  return std::nullopt;
}

std::variant<std::vector<std::string>, Error> search_words(std::string_view q) {
  if (!is_valid_utf8(q) || q.find('\0') != std::string_view::npos)
    return make_error(errc::invalid_input, "q must be valid UTF-8 without NUL");
  const auto n = count_code_points(q);
  if (n < 1 || n > 200) return make_error(errc::invalid_input, "q must be 1-200 characters");
  std::vector<std::string> words;
  std::string word;
  const auto flush = [&] {
    if (!word.empty() && words.size() < 16) {
      // At most 100 bytes, cut between code points.
      std::size_t end = std::min<std::size_t>(word.size(), 100);
      while (end < word.size() && (static_cast<unsigned char>(word[end]) & 0xC0) == 0x80) --end;
      words.push_back(word.substr(0, end));
    }
    word.clear();
  };
  for (char ch : q) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x80 || std::isalnum(c) != 0)
      word += static_cast<char>(c < 0x80 ? std::tolower(c) : c);
    else
      flush();
  }
  flush();
  if (words.empty()) return make_error(errc::invalid_input, "q must contain at least one word");
  return words;
}

}  // namespace chatd::validation
