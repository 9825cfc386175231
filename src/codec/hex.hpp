// Lower-case hex of bytes (sha256 names of attachments, webhook signatures).
#pragma once

#include <cstddef>
#include <string>

namespace chatd::codec {

inline std::string to_hex(const unsigned char* p, std::size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    s += kHex[p[i] >> 4];
    s += kHex[p[i] & 15];
  }
  return s;
}

}  // namespace chatd::codec
