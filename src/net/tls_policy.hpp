// The TLS policy chatd holds to on both sides: its own port (net/tls) and the connections it
// makes (the push webhook). TLS 1.2 and 1.3 only; for 1.2, forward-secret AEAD suites only
// (Mozilla's "intermediate" list; 1.3's suites are all modern and OpenSSL's defaults are kept);
// no compression, no renegotiation.
#pragma once

namespace boost::asio::ssl {
class context;
}

namespace chatd::net {

// Throws std::runtime_error if OpenSSL refuses the settings.
void apply_tls_policy(boost::asio::ssl::context& ctx);

}  // namespace chatd::net
