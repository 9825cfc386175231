#include "net/client_address.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace chatd::net {

namespace ip = boost::asio::ip;

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The bytes of an address, IPv4 as 4 and IPv6 as 16.
std::array<unsigned char, 16> bytes_of(const ip::address& a, std::size_t& n) {
  std::array<unsigned char, 16> out{};
  if (a.is_v4()) {
    const auto b = a.to_v4().to_bytes();
    std::copy(b.begin(), b.end(), out.begin());
    n = 4;
  } else {
    out = a.to_v6().to_bytes();
    n = 16;
  }
  return out;
}

bool same_prefix(const ip::address& a, const ip::address& b, unsigned prefix) {
  std::size_t na = 0, nb = 0;
  const auto x = bytes_of(a, na), y = bytes_of(b, nb);
  if (na != nb) return false;
  for (unsigned i = 0; i < prefix; ++i) {
    const unsigned mask = 0x80u >> (i % 8);
    if ((x[i / 8] & mask) != (y[i / 8] & mask)) return false;
  }
  return true;
}

// One X-Forwarded-For entry: an address, perhaps with a port ("1.2.3.4:80", "[::1]:80").
std::optional<ip::address> parse_entry(std::string_view s) {
  s = trim(s);
  if (s.starts_with('[')) {
    const auto close = s.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    s = s.substr(1, close - 1);
  } else if (std::count(s.begin(), s.end(), ':') == 1) {
    s = s.substr(0, s.find(':'));
  }
  boost::system::error_code ec;
  const auto a = ip::make_address(std::string(s), ec);
  if (ec) return std::nullopt;
  return normalized(a);
}

}  // namespace

ip::address normalized(const ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped())
    return ip::make_address_v4(ip::v4_mapped, a.to_v6());
  return a;
}

std::optional<TrustedProxies> TrustedProxies::parse(std::string_view list, std::string* error) {
  TrustedProxies out;
  while (!list.empty()) {
    const auto comma = list.find(',');
    const auto item = trim(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    if (item.empty()) continue;
    const auto slash = item.find('/');
    boost::system::error_code ec;
    const auto base = ip::make_address(std::string(item.substr(0, slash)), ec);
    const unsigned bits = base.is_v4() ? 32 : 128;
    unsigned prefix = bits;
    if (!ec && slash != std::string_view::npos) {
      const auto p = item.substr(slash + 1);
      const auto [end, perr] = std::from_chars(p.data(), p.data() + p.size(), prefix);
      if (perr != std::errc{} || end != p.data() + p.size() || p.empty() || prefix > bits)
        ec = make_error_code(boost::system::errc::invalid_argument);
    }
    if (ec) {
      if (error != nullptr) *error = "not an address or CIDR: " + std::string(item);
      return std::nullopt;
    }
    out.networks_.push_back(Network{normalized(base), base.is_v6() && base.to_v6().is_v4_mapped()
                                                          ? (prefix >= 96 ? prefix - 96 : 0)
                                                          : prefix});
  }
  return out;
}

bool TrustedProxies::trusts(const ip::address& a) const noexcept {
  const auto n = normalized(a);
  return std::any_of(networks_.begin(), networks_.end(), [&](const Network& net) {
    return same_prefix(net.base, n, net.prefix);
  });
}

std::string TrustedProxies::client_address(const ip::address& peer,
                                           std::string_view forwarded_for) const {
  auto client = normalized(peer);
  if (!trusts(client)) return client.to_string();
  // Walk from the right: each trusted hop vouches for the entry to its left.
  std::string_view rest = forwarded_for;
  while (!rest.empty()) {
    const auto comma = rest.rfind(',');
    const auto entry = comma == std::string_view::npos ? rest : rest.substr(comma + 1);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(0, comma);
    if (trim(entry).empty()) continue;
    const auto a = parse_entry(entry);
    if (!a) break;  // garbage a trusted hop would not have written: stop at the last good one
    client = *a;
    if (!trusts(client)) break;
  }
  return client.to_string();
}

}  // namespace chatd::net
