// The header of a WebSocket frame as a server writes it (RFC 6455 §5.2): final, unmasked, with
// the payload length in 7, 16 or 64 bits. The session's frames are written past Beast's write
// path (net/coalescing_stream.hpp), so their header is made here.
#pragma once

#include <cstddef>
#include <cstdint>

namespace chatd::net {

inline constexpr std::size_t kMaxFrameHeader = 10;
inline constexpr unsigned char kOpcodeText = 0x1;
inline constexpr unsigned char kOpcodePing = 0x9;

// Writes the header of a final frame with `opcode` and a payload of `size` bytes into `out`;
// returns its length (2, 4 or 10 bytes).
constexpr std::size_t frame_header(unsigned char opcode, std::uint64_t size,
                                   unsigned char (&out)[kMaxFrameHeader]) noexcept {
  std::size_t n = 0;
  out[n++] = static_cast<unsigned char>(0x80 | (opcode & 0x0F));  // FIN and the opcode
  if (size < 126) {
    out[n++] = static_cast<unsigned char>(size);  // mask bit clear: servers never mask
  } else if (size <= 0xFFFF) {
    out[n++] = 126;
    out[n++] = static_cast<unsigned char>(size >> 8);
    out[n++] = static_cast<unsigned char>(size);
  } else {
    out[n++] = 127;
    for (int shift = 56; shift >= 0; shift -= 8)
      out[n++] = static_cast<unsigned char>(size >> shift);
  }
  return n;
}

}  // namespace chatd::net
