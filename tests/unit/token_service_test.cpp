#include "auth/token_service.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <jwt.h>

#include "support/jwt_forge.hpp"

#include <cstdlib>
#include <memory>

using chatd::errc;
using chatd::auth::TokenService;

namespace {

const std::string kSecret = "unit-test-secret-0123456789abcdef0123";

TokenService service() { return TokenService({kSecret, std::chrono::seconds(3600)}); }

using chatd::test::base64url;

// A token signed by libjwt with any algorithm and key.
std::string make_token(jwt_alg_t alg, const std::string& key, const std::string& sub, long exp) {
  return chatd::test::sign_token(alg, key, sub, 1, exp);
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

// libjwt takes "alg" case-insensitively; the pinned algorithm is exactly "HS256".
TEST(TokenService, RejectsAlgNamesThatDifferOnlyInCase) {
  auto tokens = service();
  const std::string payload = R"({"sub":"5","exp":4102444800})";
  EXPECT_TRUE(tokens.verify(chatd::test::sign_raw_hs256(R"({"alg":"HS256"})", payload, kSecret)));
  for (const char* alg : {"Hs256", "hs256", "HS256 "}) {
    const std::string header = std::string(R"({"alg":")") + alg + R"("})";
    EXPECT_FALSE(tokens.verify(chatd::test::sign_raw_hs256(header, payload, kSecret))) << alg;
  }
  // A huge iat without iat_ms is refused or read safely (no overflow: UBSan watches).
  auto huge = tokens.claims(chatd::test::sign_raw_hs256(
      R"({"alg":"HS256"})", R"({"sub":"5","exp":4102444800,"iat":9223372036854775807})", kSecret));
  ASSERT_TRUE(huge);
  EXPECT_EQ(huge->issued_ms, 0);
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

TEST(TokenRevocations, LogoutEndsOneTokenAPasswordChangeEveryOtherIssuedBefore) {
  TokenService tokens({"revocation-test-secret-0123456789abcdef", std::chrono::seconds(60)});
  const auto a = tokens.issue(7), b = tokens.issue(7), other_user = tokens.issue(8);
  auto ca = tokens.claims(a), cb = tokens.claims(b);
  ASSERT_TRUE(ca && cb);
  EXPECT_NE(ca->jti, cb->jti) << "every token has its own id";
  EXPECT_EQ(ca->jti.size(), 32u);

  tokens.revocations().revoke(ca->jti, ca->exp);
  EXPECT_FALSE(tokens.verify(a)) << "logged out";
  EXPECT_TRUE(tokens.verify(b));
  EXPECT_TRUE(tokens.verify(other_user));

  // A password change presented with b: every token of user 7 issued before now but b.
  const auto c = tokens.issue(7);
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  tokens.revocations().revoke_before(7, now_ms, cb->jti);
  EXPECT_TRUE(tokens.verify(b)) << "the presented token stays";
  EXPECT_FALSE(tokens.verify(c)) << "issued before the change";
  EXPECT_TRUE(tokens.verify(other_user)) << "other users are untouched";
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_TRUE(tokens.verify(tokens.issue(7))) << "issued after the change";

  tokens.revocations().forget_expired(ca->exp + 1);  // a's entry is no longer needed
  EXPECT_FALSE(tokens.verify_at(a, ca->exp + 1)) << "and a is expired by then anyway";
}
