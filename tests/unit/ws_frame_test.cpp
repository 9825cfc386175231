// The frame headers chatd writes past Beast (RFC 6455 §5.2).
#include "net/ws_frame.hpp"

#include <gtest/gtest.h>

#include <vector>

using chatd::net::frame_header;
using chatd::net::kMaxFrameHeader;
using chatd::net::kOpcodeText;

namespace {
std::vector<int> header(std::uint64_t size) {
  unsigned char out[kMaxFrameHeader] = {};
  const auto n = frame_header(kOpcodeText, size, out);
  return std::vector<int>(out, out + n);
}
}  // namespace

TEST(WsFrameHeader, SmallPayloadsTakeTheSevenBitLength) {
  EXPECT_EQ(header(0), (std::vector<int>{0x81, 0}));
  EXPECT_EQ(header(1), (std::vector<int>{0x81, 1}));
  EXPECT_EQ(header(125), (std::vector<int>{0x81, 125}));
}

TEST(WsFrameHeader, From126BytesTheSixteenBitLengthInNetworkOrder) {
  EXPECT_EQ(header(126), (std::vector<int>{0x81, 126, 0x00, 0x7E}));
  EXPECT_EQ(header(4096), (std::vector<int>{0x81, 126, 0x10, 0x00}));
  EXPECT_EQ(header(65535), (std::vector<int>{0x81, 126, 0xFF, 0xFF}));
}

TEST(WsFrameHeader, From65536BytesTheSixtyFourBitLength) {
  EXPECT_EQ(header(65536), (std::vector<int>{0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0}));
  EXPECT_EQ(header(0x0102030405ull),
            (std::vector<int>{0x81, 127, 0, 0, 0, 0x01, 0x02, 0x03, 0x04, 0x05}));
}

TEST(WsFrameHeader, FinalUnmaskedAndTheOpcodeInTheLowBits) {
  unsigned char out[kMaxFrameHeader] = {};
  EXPECT_EQ(frame_header(0x2, 3, out), 2u);
  EXPECT_EQ(out[0], 0x82);  // FIN + binary
  EXPECT_EQ(out[1] & 0x80, 0) << "a server's frames are never masked";
  EXPECT_EQ(frame_header(0x1F, 3, out), 2u);
  EXPECT_EQ(out[0], 0x8F) << "the opcode is four bits";
}
