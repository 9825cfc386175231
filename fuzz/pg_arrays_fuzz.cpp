// The PostgreSQL array literals chatd builds for its batch statements and the one it parses:
// what to_array/to_text_array write reads back as the same values (checked here with a reference
// reader of PostgreSQL's array syntax), and parse_int_array survives any text.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/pg/arrays.hpp"

using namespace chatd;

namespace {

// PostgreSQL's reading of a one-dimensional text[] literal (arrayfuncs.c ReadArrayStr, for the
// quoted and NULL elements chatd writes); nullopt when it is malformed.
std::optional<std::vector<std::optional<std::string>>> read_text_array(std::string_view s) {
  if (s.size() < 2 || s.front() != '{' || s.back() != '}') return std::nullopt;
  std::vector<std::optional<std::string>> out;
  std::size_t i = 1;
  if (s.size() == 2) return out;
  while (true) {
    if (s.compare(i, 4, "NULL") == 0) {
      out.emplace_back(std::nullopt);
      i += 4;
    } else {
      if (s[i] != '"') return std::nullopt;
      ++i;
      std::string v;
      while (i < s.size() - 1 && s[i] != '"') {
        if (s[i] == '\\') ++i;
        if (i >= s.size() - 1) return std::nullopt;
        v += s[i++];
      }
      if (i >= s.size() - 1) return std::nullopt;
      ++i;  // the closing quote
      out.emplace_back(std::move(v));
    }
    if (i == s.size() - 1) return out;
    if (s[i] != ',') return std::nullopt;
    ++i;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)pg::parse_int_array(text);

  // bigint[]: 8 bytes per value.
  std::vector<std::int64_t> ints;
  for (std::size_t i = 0; i + 8 <= size; i += 8) {
    std::int64_t v;
    std::memcpy(&v, data + i, 8);
    ints.push_back(v);
  }
  if (pg::parse_int_array(pg::to_array(ints)) != ints) std::abort();

  // text[]: elements separated by 0xFF; an element that is exactly 0xFE is NULL.
  std::vector<std::optional<std::string>> texts;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= size; ++i) {
    if (i < size && data[i] != 0xFF) continue;
    const auto part = text.substr(start, i - start);
    if (part == "\xFE")
      texts.emplace_back(std::nullopt);
    else
      texts.emplace_back(std::string(part));
    start = i + 1;
  }
  const auto literal = pg::to_text_array(texts);
  const auto back = read_text_array(literal);
  if (!back || *back != texts) std::abort();
  return 0;
}
