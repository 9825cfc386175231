#include "domain/validation.hpp"

#include <gtest/gtest.h>

namespace v = chatd::validation;

TEST(Validation, UsernameAcceptsTheAllowedAlphabetAndLengths) {
  EXPECT_FALSE(v::check_username("bob"));
  EXPECT_FALSE(v::check_username("Alice_01.x-y"));
  EXPECT_FALSE(v::check_username(std::string(32, 'a')));
}

TEST(Validation, UsernameRejectsBadLengthsAndCharacters) {
  const std::vector<std::string> bad_names = {"",           "ab",         std::string(33, 'a'),
                                             "has space",  "é_accent",   "semi;colon",
                                             "new\nline", "at@sign"};
  for (const auto& bad : bad_names) {
    auto e = v::check_username(bad);
    ASSERT_TRUE(e) << bad;
    EXPECT_EQ(e->code, chatd::errc::invalid_input);
    EXPECT_NE(e->message.find("username"), std::string::npos);
  }
}

TEST(Validation, EmailAcceptsOrdinaryAddresses) {
  EXPECT_FALSE(v::check_email("alice@example.com"));
  EXPECT_FALSE(v::check_email("a.b+tag@mail.example.co.uk"));
  EXPECT_FALSE(v::check_email("UPPER@Example.COM"));
}

TEST(Validation, EmailRejectsMalformedAddresses) {
  for (std::string bad :
       {"", "plain", "@example.com", "alice@", "alice@@example.com", "alice@localhost",
        "a lice@example.com", ".alice@example.com", "alice.@example.com", "al..ice@example.com",
        "alice@-example.com", "alice@example..com", "alice@exa_mple.com", "alice@example.com."}) {
    auto e = v::check_email(bad);
    ASSERT_TRUE(e) << bad;
    EXPECT_NE(e->message.find("email"), std::string::npos);
  }
  // 254 characters is the limit of an address.
  const std::string local(64, 'a');
  std::string long_domain;
  while (long_domain.size() < 200) long_domain += std::string(60, 'b') + ".";
  long_domain += "com";
  EXPECT_TRUE(v::check_email(local + "@" + long_domain));
}

TEST(Validation, PasswordIs8To72Bytes) {
  EXPECT_TRUE(v::check_password("1234567"));
  EXPECT_FALSE(v::check_password("12345678"));
  EXPECT_FALSE(v::check_password(std::string(72, 'x')));
  EXPECT_TRUE(v::check_password(std::string(73, 'x')));
  EXPECT_TRUE(v::check_password(std::string("abc\0defgh", 9)));
  auto e = v::check_password("short");
  ASSERT_TRUE(e);
  EXPECT_NE(e->message.find("password"), std::string::npos);
}

TEST(Validation, Utf8) {
  EXPECT_TRUE(v::is_valid_utf8("plain ascii"));
  EXPECT_TRUE(v::is_valid_utf8("héllo wörld ✓ 😀"));
  EXPECT_FALSE(v::is_valid_utf8("\xff"));
  EXPECT_FALSE(v::is_valid_utf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(v::is_valid_utf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(v::is_valid_utf8("\xe2\x82"));          // truncated
  EXPECT_FALSE(v::is_valid_utf8("\xf4\x90\x80\x80"));  // beyond U+10FFFF
}

TEST(Validation, LowerAscii) { EXPECT_EQ(v::to_lower_ascii("MiXeD@Example.COM"), "mixed@example.com"); }
