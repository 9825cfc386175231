// The client's address (PROTOCOL §10): a connection's peer, or — when that peer is a trusted
// proxy (CHATD_TRUSTED_PROXIES) — the rightmost address of X-Forwarded-For that is not itself a
// trusted proxy. Every throttle, log line and admin view uses it.
#pragma once

#include <boost/asio/ip/address.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chatd::net {

class TrustedProxies {
 public:
  TrustedProxies() = default;
  // A comma-separated list of CIDRs ("10.0.0.0/8, 127.0.0.1, ::1/128"); a bare address is
  // one host. nullopt, with `error` set, when an entry is not one.
  static std::optional<TrustedProxies> parse(std::string_view list, std::string* error = nullptr);

  bool empty() const noexcept { return networks_.empty(); }
  bool trusts(const boost::asio::ip::address& a) const noexcept;

  // `forwarded_for`: every X-Forwarded-For line of the request, joined with commas, in order.
  // Returns the address as text (IPv4-mapped IPv6 addresses written as IPv4).
  std::string client_address(const boost::asio::ip::address& peer,
                             std::string_view forwarded_for) const;

 private:
  struct Network {
    boost::asio::ip::address base;  // with the host bits cleared
    unsigned prefix = 0;
  };
  std::vector<Network> networks_;
};

// An address as chatd writes it: IPv4-mapped IPv6 ("::ffff:1.2.3.4") as plain IPv4.
boost::asio::ip::address normalized(const boost::asio::ip::address& a);

}  // namespace chatd::net
