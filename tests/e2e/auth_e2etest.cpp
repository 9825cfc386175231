// F01 end to end: registration, login, tokens and user look-ups over real HTTP (PROTOCOL §2).
#include <jwt.h>

#include "auth/token_service.hpp"
#include "e2e/e2e_fixture.hpp"
#include "support/jwt_forge.hpp"

using namespace chatd::test;
namespace json = boost::json;

namespace {

class AuthE2E : public ChatdSuite {
 protected:
  static void SetUpTestSuite() { start_server("auth"); }
};

std::string login_body(const std::string& email, const std::string& password) {
  return json_body({{"email", email}, {"password", password}});
}

std::string sign(jwt_alg_t alg, const std::string& key, const std::string& sub, long exp) {
  return sign_token(alg, key, sub, static_cast<long>(time(nullptr)), exp);
}

std::string b64url(const std::string& in) { return base64url(in); }

}  // namespace

TEST_F(AuthE2E, ValidRegistrationCreatesADatabaseRow) {
  auto r = register_user(port(), "Alice", "Alice@Example.com", "correct-horse");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.headers["content-type"], "application/json");
  const auto& user = r.json.at("user").as_object();
  const auto id = user.at("id").as_int64();
  EXPECT_GT(id, 0);
  EXPECT_EQ(user.at("username").as_string(), "Alice");
  EXPECT_EQ(user.at("email").as_string(), "alice@example.com");
  EXPECT_EQ(user.at("is_online").as_bool(), false);
  EXPECT_TRUE(user.at("last_seen").is_null());
  EXPECT_EQ(user.at("created_at").as_string().size(), 24u);
  EXPECT_FALSE(r.json.at("token").as_string().empty());

  const auto where = " FROM users WHERE id = " + std::to_string(id);
  EXPECT_EQ(db_->scalar("SELECT username" + where), "Alice");
  EXPECT_EQ(db_->scalar("SELECT email" + where), "alice@example.com");
  const auto hash = db_->scalar("SELECT password_hash" + where);
  EXPECT_TRUE(hash.starts_with("$2b$04$")) << "bcrypt $2b$ at the configured cost: " << hash;
  EXPECT_EQ(hash.find("correct-horse"), std::string::npos);
}

TEST_F(AuthE2E, DuplicateEmailRegistrationFailsWith409) {
  ASSERT_EQ(register_user(port(), "dup1", "dup@example.com", "password1").status, 201);
  auto r = register_user(port(), "dup2", "DUP@example.com", "password1");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.error_code(), "conflict");
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM users WHERE email = 'dup@example.com'"), "1");
}

TEST_F(AuthE2E, DuplicateUsernameIsCaseInsensitive) {
  ASSERT_EQ(register_user(port(), "Carol", "carol@example.com", "password1").status, 201);
  auto r = register_user(port(), "cAROL", "carol2@example.com", "password1");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.error_code(), "conflict");
  EXPECT_NE(r.body.find("username"), std::string::npos);
}

TEST_F(AuthE2E, EveryInvalidRegistrationIs400NamingTheFieldAndStoresNothing) {
  const auto before = db_->scalar("SELECT count(*) FROM users");
  struct Case {
    std::string body;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"", "JSON"},
      {"{", "JSON"},
      {"[1,2]", "object"},
      {"\"text\"", "object"},
      {R"({"email":"x1@example.com","password":"password1"})", "username"},
      {R"({"username":"x1","email":"x1@example.com","password":"password1"})", "username"},
      {R"({"username":"x y z","email":"x1@example.com","password":"password1"})", "username"},
      {R"({"username":12345,"email":"x1@example.com","password":"password1"})", "username"},
      {R"({"username":")" + std::string(33, 'a') + R"(","email":"x1@example.com","password":"password1"})",
       "username"},
      {R"({"username":"xone","password":"password1"})", "email"},
      {R"({"username":"xone","email":"not-an-email","password":"password1"})", "email"},
      {R"({"username":"xone","email":null,"password":"password1"})", "email"},
      {R"({"username":"xone","email":")" + std::string(250, 'a') + R"(@x.io","password":"password1"})",
       "email"},
      {R"({"username":"xone","email":"x1@example.com"})", "password"},
      {R"({"username":"xone","email":"x1@example.com","password":"short"})", "password"},
      {R"({"username":"xone","email":"x1@example.com","password":")" + std::string(73, 'p') + R"("})",
       "password"},
      {R"({"username":"xone","email":"x1@example.com","password":["password1"]})", "password"},
  };
  for (const auto& c : cases) {
    auto r = http_request(port(), "POST", "/auth/register", c.body);
    EXPECT_EQ(r.status, 400) << c.body;
    EXPECT_EQ(r.error_code(), "invalid_input") << c.body;
    EXPECT_NE(r.json.at("error").at("message").as_string().find(c.field), std::string::npos)
        << c.body << " -> " << r.body;
  }
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM users"), before);
}

TEST_F(AuthE2E, LoginReturnsAValidJwtSignedWithTheServerSecret) {
  auto reg = must_register(port(), "dave");
  auto r = http_request(port(), "POST", "/auth/login",
                        login_body("DAVE@example.com", "password-dave"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json.at("user").at("id").as_int64(), reg.id);
  EXPECT_EQ(r.json.at("user").at("email").as_string(), "dave@example.com");
  const std::string token(r.json.at("token").as_string());

  // Signed with the server's secret, HS256, sub = the user id as a string, exp - iat = 24 h.
  chatd::auth::TokenService verifier({ChatdProcess::secret(), std::chrono::seconds(60)});
  auto id = verifier.verify(token);
  ASSERT_TRUE(id);
  EXPECT_EQ(*id, reg.id);
  jwt_t* j = nullptr;
  const auto secret = ChatdProcess::secret();
  ASSERT_EQ(jwt_decode(&j, token.c_str(), reinterpret_cast<const unsigned char*>(secret.data()),
                       static_cast<int>(secret.size())),
            0);
  EXPECT_EQ(jwt_get_alg(j), JWT_ALG_HS256);
  EXPECT_STREQ(jwt_get_grant(j, "sub"), std::to_string(reg.id).c_str());
  EXPECT_EQ(jwt_get_grant_int(j, "exp") - jwt_get_grant_int(j, "iat"), 24 * 3600);
  jwt_free(j);

  auto me = http_request(port(), "GET", "/users/me", "", token);
  EXPECT_EQ(me.status, 200);
  EXPECT_EQ(me.json.at("user").at("id").as_int64(), reg.id);
}

TEST_F(AuthE2E, WrongPasswordAndUnknownEmailAre401Alike) {
  must_register(port(), "erin");
  auto wrong = http_request(port(), "POST", "/auth/login",
                            login_body("erin@example.com", "not-the-password"));
  auto unknown = http_request(port(), "POST", "/auth/login",
                              login_body("nobody@example.com", "password-erin"));
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.error_code(), "invalid_credentials");
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(wrong.body, unknown.body) << "no user enumeration";
  auto malformed = http_request(port(), "POST", "/auth/login", R"({"email":"erin@example.com"})");
  EXPECT_EQ(malformed.status, 400);
  EXPECT_EQ(malformed.error_code(), "invalid_input");
}

TEST_F(AuthE2E, UsersMeAndLookups) {
  auto frank = must_register(port(), "Frank");
  auto grace = must_register(port(), "grace");
  auto me = http_request(port(), "GET", "/users/me", "", frank.token);
  ASSERT_EQ(me.status, 200);
  EXPECT_EQ(me.json.at("user").at("email").as_string(), "frank@example.com");

  auto other = http_request(port(), "GET", "/users/" + std::to_string(grace.id), "", frank.token);
  ASSERT_EQ(other.status, 200);
  EXPECT_EQ(other.json.at("user").at("username").as_string(), "grace");
  EXPECT_FALSE(other.json.at("user").as_object().contains("email")) << "only one's own email";

  EXPECT_EQ(http_request(port(), "GET", "/users/999999", "", frank.token).status, 404);
  EXPECT_EQ(http_request(port(), "GET", "/users/abc", "", frank.token).status, 400);
  EXPECT_EQ(http_request(port(), "GET", "/users/-1", "", frank.token).status, 400);

  auto search = http_request(port(), "GET", "/users?username=FRANK", "", grace.token);
  ASSERT_EQ(search.status, 200);
  ASSERT_EQ(search.json.at("users").as_array().size(), 1u);
  EXPECT_EQ(search.json.at("users").at(0).at("id").as_int64(), frank.id);
  EXPECT_FALSE(search.json.at("users").at(0).as_object().contains("email"));
  EXPECT_TRUE(http_request(port(), "GET", "/users?username=fra", "", grace.token)
                  .json.at("users").as_array().empty());
  EXPECT_EQ(http_request(port(), "GET", "/users", "", grace.token).status, 400);
}

TEST_F(AuthE2E, EveryForgedTokenIs401) {
  auto henry = must_register(port(), "henry");
  const auto secret = ChatdProcess::secret();
  const long later = static_cast<long>(time(nullptr)) + 3600;
  const auto sub = std::to_string(henry.id);
  const std::string none_header = b64url(R"({"alg":"none","typ":"JWT"})");
  const std::string payload =
      b64url(R"({"sub":")" + sub + R"(","iat":1,"exp":)" + std::to_string(later) + "}");
  auto tampered = henry.token;
  tampered[tampered.size() - 3] = tampered[tampered.size() - 3] == 'A' ? 'B' : 'A';

  const std::vector<std::pair<std::string, std::string>> forged = {
      {"alg none", none_header + "." + payload + "."},
      {"HS384 same key", sign(JWT_ALG_HS384, secret, sub, later)},
      {"HS512 same key", sign(JWT_ALG_HS512, secret, sub, later)},
      {"other key", sign(JWT_ALG_HS256, "some-other-secret-0123456789abcdef012", sub, later)},
      {"expired", sign(JWT_ALG_HS256, secret, sub, static_cast<long>(time(nullptr)) - 10)},
      {"tampered signature", tampered},
      {"malformed", "not.a.jwt"},
      {"garbage", "!!!"},
  };
  for (const auto& [what, token] : forged) {
    auto r = http_request(port(), "GET", "/users/me", "", token);
    EXPECT_EQ(r.status, 401) << what;
    EXPECT_EQ(r.error_code(), "unauthorized") << what;
  }
  EXPECT_EQ(http_request(port(), "GET", "/users/me").status, 401) << "no token";
  EXPECT_EQ(http_request(port(), "GET", "/users/me", "", "", {{"Authorization", "Basic eDp5"}})
                .status,
            401);
}

namespace {
class ThrottleE2E : public ChatdSuite {
 protected:
  static void SetUpTestSuite() {
    start_server("throttle", {{"CHATD_LOGIN_MAX_FAILURES_PER_EMAIL", "3"},
                              {"CHATD_LOGIN_MAX_FAILURES_PER_ADDRESS", "8"},
                              {"CHATD_LOGIN_WINDOW_SECONDS", "60"}});
  }
};
}  // namespace

TEST_F(ThrottleE2E, RepeatedFailuresForOneEmailAreThrottledWithRetryAfter) {
  must_register(port(), "ivan");
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(http_request(port(), "POST", "/auth/login", login_body("ivan@example.com", "wrong-pw"))
                  .status,
              401);
  // Even the right password is refused while throttled.
  auto r = http_request(port(), "POST", "/auth/login", login_body("ivan@example.com", "password-ivan"));
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.error_code(), "rate_limited");
  ASSERT_TRUE(r.headers.contains("retry-after"));
  const int retry = std::stoi(r.headers["retry-after"]);
  EXPECT_GE(retry, 1);
  EXPECT_LE(retry, 60);
}

TEST_F(ThrottleE2E, RepeatedFailuresFromOneAddressAreThrottledAcrossEmails) {
  must_register(port(), "judy");
  // 8 failures per address: spread over emails so the per-email limit is not what bites.
  int limited = 0;
  for (int i = 0; i < 12; ++i) {
    auto r = http_request(port(), "POST", "/auth/login",
                          login_body("ghost" + std::to_string(i) + "@example.com", "wrong-pw"));
    if (r.status == 429) ++limited;
  }
  EXPECT_GT(limited, 0);
  EXPECT_EQ(http_request(port(), "POST", "/auth/login", login_body("judy@example.com", "password-judy"))
                .status,
            429);
}
