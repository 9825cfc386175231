// REST routes for attachments (PROTOCOL §4): POST /attachments?filename= (the body streamed to a
// file by the transport, never whole in memory), GET /attachments/{id} with ETag,
// If-None-Match and single byte ranges.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "domain/attachment_service.hpp"
#include "http/router.hpp"

namespace chatd::http {

void add_attachment_routes(Router& router, AttachmentService& attachments);

// A single `Range: bytes=...` of a body of `size` bytes. nullopt: no usable range (serve it
// whole); a range with `satisfiable == false`: answer 416.
struct ByteRange {
  std::uint64_t first = 0;
  std::uint64_t length = 0;
  bool satisfiable = true;
};
std::optional<ByteRange> parse_range(std::string_view header, std::uint64_t size);

}  // namespace chatd::http
