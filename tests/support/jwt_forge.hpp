// Tokens made by hand for tests: any algorithm, any key, any claims — to prove chatd refuses
// the forged ones.
#pragma once

#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdlib>
#include <string>

namespace chatd::test {

inline std::string base64url(const std::string& in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  int val = 0, bits = -6;
  for (unsigned char c : in) {
    val = (val << 8) + c;
    bits += 8;
    while (bits >= 0) {
      out.push_back(t[(val >> bits) & 0x3F]);
      bits -= 6;
    }
  }
  if (bits > -6) out.push_back(t[((val << 8) >> (bits + 8)) & 0x3F]);
  return out;
}

// A token signed by libjwt with `alg` and `key`, claims sub, iat and exp.
inline std::string sign_token(jwt_alg_t alg, const std::string& key, const std::string& sub,
                              long iat, long exp) {
  jwt_t* j = nullptr;
  jwt_new(&j);
  jwt_add_grant(j, "sub", sub.c_str());
  jwt_add_grant_int(j, "iat", iat);
  jwt_add_grant_int(j, "exp", exp);
  jwt_set_alg(j, alg, reinterpret_cast<const unsigned char*>(key.data()),
              static_cast<int>(key.size()));
  char* s = jwt_encode_str(j);
  std::string out(s);
  std::free(s);
  jwt_free(j);
  return out;
}

// A token with exactly this header and payload (JSON text), HMAC-SHA256 signed with `key`.
inline std::string sign_raw_hs256(const std::string& header, const std::string& payload,
                                  const std::string& key) {
  std::string input = base64url(header) + "." + base64url(payload);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  return input + "." + base64url(std::string(reinterpret_cast<const char*>(mac), len));
}

}  // namespace chatd::test
