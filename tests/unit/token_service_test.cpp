#include "auth/token_service.hpp"

#include <gtest/gtest.h>
#include <jwt.h>

#include <cstdlib>
#include <memory>

using chatd::errc;
using chatd::auth::TokenService;

namespace {

const std::string kSecret = "unit-test-secret-0123456789abcdef0123";

TokenService service() { return TokenService({kSecret, std::chrono::seconds(3600)}); }

std::string base64url(const std::string& in) {
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

// A token signed by libjwt with any algorithm and key.
std::string make_token(jwt_alg_t alg, const std::string& key, const std::string& sub, long exp) {
  jwt_t* j = nullptr;
  jwt_new(&j);
  jwt_add_grant(j, "sub", sub.c_str());
  jwt_add_grant_int(j, "iat", 1);
  jwt_add_grant_int(j, "exp", exp);
  jwt_set_alg(j, alg, reinterpret_cast<const unsigned char*>(key.data()),
              static_cast<int>(key.size()));
  char* s = jwt_encode_str(j);
  std::string out(s);
  std::free(s);
  jwt_free(j);
  return out;
}

long future() { return static_cast<long>(time(nullptr)) + 3600; }

}  // namespace

TEST(TokenService, IssuedTokenVerifiesToItsUser) {
  auto t = service().issue(42);
  auto id = service().verify(t);
  ASSERT_TRUE(id);
  EXPECT_EQ(*id, 42);
}

TEST(TokenService, IssuedTokenIsHs256WithSubIatExp) {
  auto t = service().issue(7);
  jwt_t* j = nullptr;
  ASSERT_EQ(jwt_decode(&j, t.c_str(), reinterpret_cast<const unsigned char*>(kSecret.data()),
                       static_cast<int>(kSecret.size())),
            0);
  EXPECT_EQ(jwt_get_alg(j), JWT_ALG_HS256);
  EXPECT_STREQ(jwt_get_grant(j, "sub"), "7");
  const long iat = jwt_get_grant_int(j, "iat");
  const long exp = jwt_get_grant_int(j, "exp");
  EXPECT_EQ(exp - iat, 3600);
  EXPECT_NEAR(iat, time(nullptr), 5);
  jwt_free(j);
}

TEST(TokenService, RejectsAlgNone) {
  const std::string header = base64url(R"({"alg":"none","typ":"JWT"})");
  const std::string payload =
      base64url(R"({"sub":"1","iat":1,"exp":)" + std::to_string(future()) + "}");
  for (const auto& t : {header + "." + payload + ".", header + "." + payload}) {
    auto r = service().verify(t);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::unauthorized);
  }
}

TEST(TokenService, RejectsOtherHmacAlgorithmsWithTheSameKey) {
  for (auto alg : {JWT_ALG_HS384, JWT_ALG_HS512}) {
    auto r = service().verify(make_token(alg, kSecret, "1", future()));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::unauthorized);
  }
}

TEST(TokenService, RejectsAnotherKey) {
  auto r = service().verify(make_token(JWT_ALG_HS256, "another-secret-0123456789abcdef0123", "1",
                                       future()));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::unauthorized);
}

TEST(TokenService, RejectsTamperedPayload) {
  auto t = service().issue(1);
  const auto first = t.find('.');
  const auto second = t.find('.', first + 1);
  const std::string forged_payload =
      base64url(R"({"sub":"2","iat":1,"exp":)" + std::to_string(future()) + "}");
  const auto forged = t.substr(0, first + 1) + forged_payload + t.substr(second);
  EXPECT_FALSE(service().verify(forged));
}

TEST(TokenService, RejectsExpiredTokens) {
  auto t = service().issue_at(1, 1000, 2000);
  EXPECT_FALSE(service().verify_at(t, 2000));
  EXPECT_FALSE(service().verify_at(t, 5000));
  EXPECT_TRUE(service().verify_at(t, 1999));
  EXPECT_FALSE(service().verify(make_token(JWT_ALG_HS256, kSecret, "1", 1000)));
}

TEST(TokenService, RejectsMissingOrBadClaims) {
  jwt_t* j = nullptr;
  jwt_new(&j);
  jwt_add_grant(j, "sub", "1");
  jwt_set_alg(j, JWT_ALG_HS256, reinterpret_cast<const unsigned char*>(kSecret.data()),
              static_cast<int>(kSecret.size()));
  char* s = jwt_encode_str(j);
  const std::string no_exp(s);
  std::free(s);
  jwt_free(j);
  EXPECT_FALSE(service().verify(no_exp));
  EXPECT_FALSE(service().verify(make_token(JWT_ALG_HS256, kSecret, "abc", future())));
  EXPECT_FALSE(service().verify(make_token(JWT_ALG_HS256, kSecret, "-5", future())));
  EXPECT_FALSE(service().verify(make_token(JWT_ALG_HS256, kSecret, "0", future())));
}

TEST(TokenService, RejectsGarbage) {
  const std::vector<std::string> garbage = {"", "x", "a.b.c", "....", "eyJ.eyJ.sig",
                                            std::string(5000, 'a')};
  for (const auto& bad : garbage)
    EXPECT_FALSE(service().verify(bad)) << bad.substr(0, 20);
}

TEST(TokenService, BearerHeader) {
  using chatd::auth::bearer_token;
  EXPECT_EQ(bearer_token("Bearer abc.def.ghi"), "abc.def.ghi");
  EXPECT_EQ(bearer_token("bearer abc"), "abc");
  EXPECT_EQ(bearer_token("Basic abc"), "");
  EXPECT_EQ(bearer_token("Bearer "), "");
  EXPECT_EQ(bearer_token(""), "");
}
