// JWT verification (TokenService::claims). Two ways in, chosen by the first byte:
//  - even: the rest is a token as a client would present it (forged, truncated, any bytes);
//  - odd: the rest is "<header JSON>\n<payload JSON>", signed here with HMAC-SHA256 under the
//    server's secret (or, when the first byte is 3 mod 4, under another secret), so the fuzzer
//    reaches the claim checks behind the signature.
// Oracles: a token signed with another secret is never accepted; an accepted token names
// alg HS256 in a header that is a JSON object, and a positive user.
#include <boost/json/parse.hpp>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "auth/token_service.hpp"

using namespace chatd;

namespace {

const std::string kSecret = "fuzz-secret-0123456789abcdef0123456789";

std::string base64url(std::string_view in) {
  static constexpr char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                       (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    out += abc[(v >> 18) & 63];
    out += abc[(v >> 12) & 63];
    out += abc[(v >> 6) & 63];
    out += abc[v & 63];
  }
  if (i + 1 == in.size()) {
    const unsigned v = static_cast<unsigned char>(in[i]) << 16;
    out += abc[(v >> 18) & 63];
    out += abc[(v >> 12) & 63];
  } else if (i + 2 == in.size()) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                       (static_cast<unsigned char>(in[i + 1]) << 8);
    out += abc[(v >> 18) & 63];
    out += abc[(v >> 12) & 63];
    out += abc[(v >> 6) & 63];
  }
  return out;
}

std::string sign(std::string_view header, std::string_view payload, const std::string& key) {
  std::string input = base64url(header);
  input += '.';
  input += base64url(payload);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  input += '.';
  input += base64url(std::string_view(reinterpret_cast<const char*>(mac), len));
  return input;
}

// libjwt reads the decoded header as a C string: what follows a NUL is not part of it (a
// header only the server's key can sign, so nothing to forge there).
bool names_hs256(std::string_view header) {
  header = header.substr(0, header.find('\0'));
  boost::system::error_code ec;
  auto v = boost::json::parse(header, ec);
  if (ec || !v.is_object()) return false;
  const auto* alg = v.as_object().if_contains("alg");
  return alg != nullptr && alg->is_string() && alg->get_string() == "HS256";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auth::TokenService tokens({kSecret, std::chrono::seconds(3600)});
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  (void)auth::bearer_token(rest);
  if ((data[0] & 1) == 0) {
    auto c = tokens.claims(rest);
    if (c && c->user <= 0) std::abort();
    return 0;
  }
  const auto nl = rest.find('\n');
  if (nl == std::string_view::npos) return 0;
  const auto header = rest.substr(0, nl);
  const auto payload = rest.substr(nl + 1);
  const bool foreign = (data[0] & 3) == 3;
  const auto token = sign(header, payload, foreign ? kSecret + "-other" : kSecret);
  auto c = tokens.claims(token);
  if (c && (foreign || !names_hs256(header) || c->user <= 0)) std::abort();
  return 0;
}
