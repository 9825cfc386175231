#include "cluster/envelope.hpp"

#include <cstring>
#include <limits>

namespace chatd::cluster {

namespace {

constexpr char kMagic[2] = {'c', '1'};
constexpr std::size_t kMaxUsers = 1 << 20;

template <class T>
void put(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.append(b, sizeof(T));
}

struct Reader {
  std::string_view in;
  bool ok = true;
  template <class T>
  T get() {
    T v{};
    if (in.size() < sizeof(T)) {
      ok = false;
      return v;
    }
    std::memcpy(&v, in.data(), sizeof(T));
    in.remove_prefix(sizeof(T));
    return v;
  }
  std::string_view bytes(std::size_t n) {
    if (in.size() < n) {
      ok = false;
      return {};
    }
    auto s = in.substr(0, n);
    in.remove_prefix(n);
    return s;
  }
};

}  // namespace

std::string encode(const Envelope& e) {
  std::string out;
  out.reserve(64 + e.origin.size() + e.users.size() * 8 + e.text.size());
  out.append(kMagic, 2);
  put<std::uint8_t>(out, static_cast<std::uint8_t>(e.kind));
  put<std::uint16_t>(out, static_cast<std::uint16_t>(
                              std::min<std::size_t>(e.origin.size(), 0xffff)));
  out.append(e.origin.data(), std::min<std::size_t>(e.origin.size(), 0xffff));
  put(out, e.origin_session);
  put(out, e.message_id);
  put(out, e.conversation_id);
  put(out, e.seq);
  put(out, e.sender_id);
  put<std::uint32_t>(out, static_cast<std::uint32_t>(e.users.size()));
  for (auto u : e.users) put(out, u);
  put<std::uint32_t>(out, static_cast<std::uint32_t>(e.text.size()));
  out.append(e.text);
  return out;
}

std::optional<Envelope> decode(std::string_view bytes) {
  Reader r{bytes};
  if (r.bytes(2) != std::string_view(kMagic, 2) || !r.ok) return std::nullopt;
  Envelope e;
  const auto kind = r.get<std::uint8_t>();
  if (kind != static_cast<std::uint8_t>(EventKind::message) &&
      kind != static_cast<std::uint8_t>(EventKind::frame) &&
      kind != static_cast<std::uint8_t>(EventKind::revoke))
    return std::nullopt;
  e.kind = static_cast<EventKind>(kind);
  e.origin = std::string(r.bytes(r.get<std::uint16_t>()));
  e.origin_session = r.get<std::uint64_t>();
  e.message_id = r.get<std::int64_t>();
  e.conversation_id = r.get<std::int64_t>();
  e.seq = r.get<std::int64_t>();
  e.sender_id = r.get<std::int64_t>();
  const auto n = r.get<std::uint32_t>();
  if (!r.ok || n > kMaxUsers || r.in.size() < static_cast<std::size_t>(n) * 8) return std::nullopt;
  e.users.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i) e.users.push_back(r.get<std::int64_t>());
  const auto len = r.get<std::uint32_t>();
  e.text = std::string(r.bytes(len));
  if (!r.ok || !r.in.empty()) return std::nullopt;
  if (e.kind == EventKind::message && (e.message_id <= 0 || e.conversation_id <= 0 || e.seq <= 0))
    return std::nullopt;
  return e;
}

}  // namespace chatd::cluster
