#include "validation/validation.hpp"

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

TEST(ContentRules, LengthInCharactersAndNotBlank) {
  EXPECT_FALSE(v::check_content("a", 4096));
  EXPECT_FALSE(v::check_content(std::string(4096, 'a'), 4096));
  EXPECT_TRUE(v::check_content(std::string(4097, 'a'), 4096));
  std::string accents;
  for (int i = 0; i < 4096; ++i) accents += "é";  // 2 bytes each, 4096 characters
  EXPECT_FALSE(v::check_content(accents, 4096));
  EXPECT_TRUE(v::check_content(accents + "é", 4096));
  EXPECT_TRUE(v::check_content("", 4096));
  EXPECT_TRUE(v::check_content(" \t\n ", 4096));
  EXPECT_TRUE(v::check_content("\xff", 4096));
  EXPECT_TRUE(v::check_content(std::string("a\0b", 3), 4096)) << "PostgreSQL text cannot hold NUL";
  EXPECT_EQ(v::count_code_points("aé😀"), 3u);
}

TEST(Validation, FreeTextCountsCharactersAndRefusesControlCharacters) {
  EXPECT_FALSE(v::check_text("spam", "reason", 1, 500));
  EXPECT_FALSE(v::check_text("two\nlines\tand a tab", "reason", 1, 500));
  std::string accents;
  for (int i = 0; i < 500; ++i) accents += "é";
  EXPECT_FALSE(v::check_text(accents, "reason", 1, 500));
  EXPECT_TRUE(v::check_text(accents + "é", "reason", 1, 500));
  EXPECT_TRUE(v::check_text("", "reason", 1, 500));
  EXPECT_FALSE(v::check_text("", "note", 0, 500));
  EXPECT_TRUE(v::check_text(std::string("a\0b", 3), "reason", 1, 500));
  EXPECT_TRUE(v::check_text("bell\x07", "reason", 1, 500));
  EXPECT_TRUE(v::check_text("\xff", "reason", 1, 500));
  const auto e = v::check_text("", "reason", 1, 500);
  ASSERT_TRUE(e);
  EXPECT_NE(e->message.find("reason"), std::string::npos);
}

TEST(Validation, UsernamesOfTombstonesAreReserved) {
  EXPECT_TRUE(v::check_username("deleted-12"));
  EXPECT_TRUE(v::check_username("Deleted-x"));
  EXPECT_FALSE(v::check_username("deleted_12"));
  EXPECT_FALSE(v::check_username("undeleted-1"));
}


TEST(Validation, EmojiAreOneToEightCodePointsWithoutSpaceOrControl) {
  EXPECT_FALSE(v::check_emoji("👍"));
  EXPECT_FALSE(v::check_emoji("❤️"));                     // with a variation selector
  EXPECT_FALSE(v::check_emoji("👨‍👩‍👧‍👦"));                  // 7 code points joined by ZWJ
  EXPECT_FALSE(v::check_emoji("+1"));
  EXPECT_FALSE(v::check_emoji("12345678"));
  EXPECT_TRUE(v::check_emoji("123456789"));
  EXPECT_TRUE(v::check_emoji(""));
  for (const char* bad : {"a b", "\t", "x\ny", "\x7f", "\xc2\x85", "\xc2\xa0", "\xe2\x80\x83",
                          "\xe3\x80\x80", "\xe2\x80\xa8", "\xff"})
    EXPECT_TRUE(v::check_emoji(bad)) << bad;
  EXPECT_TRUE(v::check_emoji(std::string("a\0", 2)));
}

TEST(Validation, SearchQueriesAreSplitIntoLowerCasedWords) {
  using Words = std::vector<std::string>;
  const auto words = [](std::string_view q) {
    auto r = v::search_words(q);
    return std::holds_alternative<Words>(r) ? std::get<Words>(r) : Words{"<error>"};
  };
  EXPECT_EQ(words("Lunch at NOON"), (Words{"lunch", "at", "noon"}));
  EXPECT_EQ(words("  ...late!! "), (Words{"late"}));
  EXPECT_EQ(words("a':* | b & !c"), (Words{"a", "b", "c"})) << "no tsquery syntax survives";
  EXPECT_EQ(words("hello-world"), (Words{"hello", "world"}));
  EXPECT_EQ(words("Éclair 漢字"), (Words{"\xc3\x89" "clair", "漢字"})) << "non-ASCII kept as letters";
  EXPECT_EQ(words(std::string(200, 'a')).at(0).size(), 100u) << "a word is cut at 100 bytes";
  EXPECT_EQ(words(std::string(60, 'a').append(" ").append(std::string(60, 'a') + "é")).size(), 2u);
  // Cut between code points, never inside one.
  std::string long_word = std::string(99, 'a') + "é";
  EXPECT_EQ(words(long_word).at(0), std::string(99, 'a'));
  std::string many;
  for (int i = 0; i < 30; ++i) many += "w" + std::to_string(i) + " ";
  EXPECT_EQ(words(many).size(), 16u) << "at most 16 words";
  for (const std::string& bad : {std::string(""), std::string(201, 'a'), std::string("!!! ... ???"),
                                std::string("   "), std::string("\xff"), std::string("a\0b", 3)})
    EXPECT_TRUE(std::holds_alternative<chatd::Error>(v::search_words(bad))) << bad;
  EXPECT_TRUE(std::holds_alternative<Words>(v::search_words(std::string(200, 'a'))));
}
