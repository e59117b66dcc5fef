#include "feedback/redact.h"

#include <gtest/gtest.h>

namespace steward::feedback {
namespace {

TEST(RedactTest, TakesOutEveryKindOfIdentifierAndKeepsTheRest) {
  struct Case {
    const char* in;
    const char* out;
    const char* kind;
  };
  const Case cases[] = {
      {"Email me at Jo.Bloggs+tax@example.co.uk.", "Email me at [email address removed].", "email address"},
      {"ring 020 7946 0000 after 5", "ring [telephone number removed] after 5", "telephone number"},
      {"mobile 07700-900123", "mobile [telephone number removed]", "telephone number"},
      {"call +44 (0)20 7946 0000 please", "call [telephone number removed] please", "telephone number"},
      {"My NI is QQ 12 34 56 C ok", "My NI is QQ 12 34 56 C ok", ""},  // QQ is never issued
      {"My NI is AB 12 34 56 C ok", "My NI is [National Insurance number removed] ok", "National Insurance number"},
      {"ni: ab123456d", "ni: [National Insurance number removed]", "National Insurance number"},
      {"I live at SW1A 1AA now", "I live at [postcode removed] now", "postcode"},
      {"postcode m11ae", "postcode [postcode removed]", "postcode"},
      {"card 4111 1111 1111 1111 was charged twice", "card [card number removed] was charged twice", "card number"},
      {"ref 4111 1111 1111 1112 failed", "ref 4111 1111 1111 1112 failed", ""},  // fails Luhn
  };
  for (const auto& c : cases) {
    auto r = Redact(c.in);
    EXPECT_EQ(r.text, c.out) << c.in;
    if (*c.kind == '\0') {
      EXPECT_FALSE(r.changed()) << c.in;
    } else {
      EXPECT_EQ(r.found.count(c.kind), 1u) << c.in;
    }
  }
}

TEST(RedactTest, OrdinaryTextIsLeftAlone) {
  for (const char* text :
       {"The form on page 3 lost my answers after 20 minutes.", "It said error 500 at 10:45 on 2 December 2026.",
        "Version 2.4.1 of the PDF is missing table 12.", "I paid £1,250.00 on 01/12/2026.", "Room 101, floor 3",
        "The link to A1 road works is broken", "Email the council?"}) {
    auto r = Redact(text);
    EXPECT_EQ(r.text, text);
    EXPECT_FALSE(r.changed()) << text;
  }
}

TEST(RedactTest, SeveralInOneText) {
  auto r = Redact("jo@example.org, 07700 900123, AB123456C and SW1A 2AA");
  EXPECT_EQ(r.text,
            "[email address removed], [telephone number removed], [National Insurance number removed] and [postcode "
            "removed]");
  EXPECT_EQ(r.found.size(), 4u);
}

TEST(RedactTest, LuhnAndUrls) {
  EXPECT_TRUE(Luhn("79927398713"));
  EXPECT_FALSE(Luhn("79927398710"));
  EXPECT_EQ(ScrubUrl("/search?q=jo@example.org&page=2"), "/search?q=[email]&page=2");
  EXPECT_EQ(ScrubUrl("/u/jo%40example.org/edit"), "/u/[email]/edit");
  EXPECT_EQ(ScrubUrl("/guidance/tax"), "/guidance/tax");
}

}  // namespace
}  // namespace steward::feedback
