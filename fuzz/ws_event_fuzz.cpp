// The WebSocket event decoder (PROTOCOL §3): any text a client sends is decoded or refused with
// an error event, and refusals read a send_message's client_id the same way decode() does.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "ws/event_codec.hpp"

using namespace chatd;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto decoded = ws::decode(text);
  if (auto* err = std::get_if<ws::DecodeError>(&decoded)) {
    // The error event the client gets must itself be well-formed.
    (void)ws::encode_error(err->error, err->client_id, err->answers_send);
  } else if (auto* send = std::get_if<ws::SendMessageEvent>(&std::get<ws::ClientEvent>(decoded))) {
    // A decoded send_message names exactly one recipient kind.
    if (send->to.has_value() == send->group_id.has_value()) std::abort();
    // The rate-limit path reads the same client_id as the decoder.
    const auto cid = ws::send_client_id(text);
    if (!cid || *cid != send->client_id) std::abort();
  }
  (void)ws::send_client_id(text);
  return 0;
}
