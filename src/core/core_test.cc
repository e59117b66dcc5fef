#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/log.h"
#include "core/result.h"
#include "core/strings.h"

namespace steward {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return MakeError(ErrorCode::kInvalidArgument, "odd number");
  return x / 2;
}

Result<int> Quarter(int x) {
  STEWARD_ASSIGN_OR_RETURN(int h, Half(x));
  return Half(h);
}

Status CheckEven(int x) {
  STEWARD_RETURN_IF_ERROR(Half(x));
  return Ok();
}

TEST(ResultTest, ValueAndErrorPropagate) {
  EXPECT_EQ(*Quarter(8), 2);
  Result<int> r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.error().ToString(), "invalid_argument: odd number");
  EXPECT_TRUE(CheckEven(4).ok());
  EXPECT_FALSE(CheckEven(5).ok());
}

TEST(ClockTest, FakeClockAdvancesBothReadings) {
  FakeClock clock(SystemTime(std::chrono::seconds(1'800'000'000)));
  auto wall = clock.Now();
  auto mono = clock.Monotonic();
  clock.Advance(std::chrono::minutes(30));
  EXPECT_EQ(clock.Now() - wall, std::chrono::minutes(30));
  EXPECT_EQ(clock.Monotonic() - mono, std::chrono::minutes(30));
  EXPECT_EQ(FormatRfc3339(SystemTime(std::chrono::seconds(1'800'000'000))), "2027-01-15T08:00:00Z");
  EXPECT_EQ(FormatHttpDate(SystemTime(std::chrono::seconds(1'800'000'000))), "Fri, 15 Jan 2027 08:00:00 GMT");
}

TEST(StringsTest, Helpers) {
  EXPECT_EQ(Trim("  a b \r\n"), "a b");
  EXPECT_EQ(Split("a,,b", ',').size(), 3u);
  EXPECT_EQ(ToLower("Content-TYPE"), "content-type");
  EXPECT_TRUE(EqualsIgnoreCase("Keep-Alive", "keep-alive"));
  EXPECT_FALSE(EqualsIgnoreCase("Keep-Alive", "keep-alivf"));
  EXPECT_FALSE(EqualsIgnoreCase("Keep-Alive", "keep-aliv"));
  EXPECT_FALSE(EqualsIgnoreCase("[", "{")) << "only letters fold; [ and { differ by the case bit";
  EXPECT_FALSE(EqualsIgnoreCase("@", "`"));
  EXPECT_TRUE(EqualsIgnoreCase("", ""));
  EXPECT_EQ(ParseUint("42"), 42u);
  EXPECT_FALSE(ParseUint("4x2").has_value());
  EXPECT_FALSE(ParseUint("-1").has_value());
  EXPECT_FALSE(ParseUint("").has_value());
  EXPECT_EQ(HexEncode(std::string("\x00\xff", 2)), "00ff");
  EXPECT_EQ(HexEncode(""), "");
  EXPECT_EQ(HexEncode("\x01\x23\x45\x67\x89\xab\xcd\xef"), "0123456789abcdef");
  EXPECT_EQ(Printable("GET /\x1b]0;owned\x07 \"caf\xc3\xa9\"\x7f"), "GET /\\x1b]0;owned\\x07 \"caf\xc3\xa9\"\\x7f")
      << "control characters escaped, UTF-8 kept";
}

// A cell a spreadsheet would run as a formula is neutralised, TAB and CR included (OWASP).
TEST(StringsTest, FindAnyOfIsFindFirstOf) {
  const std::string_view texts[] = {"", "a", "www.ons.gov.uk/economy?x=1", "no match here", "\xff\x80;", "a\r\nb"};
  const std::string_view sets[] = {"", "/?#", ";\r\n", " \t\r\n<>\"'", "\xff", "a"};
  for (auto text : texts) {
    for (auto set : sets) EXPECT_EQ(FindAnyOf(text, set), text.find_first_of(set)) << text << " / " << set;
  }
}

TEST(StringsTest, SplitCsvLineReadsQuotedFields) {
  using V = std::vector<std::string>;
  EXPECT_EQ(*SplitCsvLine("a,b,c"), (V{"a", "b", "c"}));
  EXPECT_EQ(*SplitCsvLine("a,,"), (V{"a", "", ""}));
  EXPECT_EQ(*SplitCsvLine(""), (V{""}));
  EXPECT_EQ(*SplitCsvLine("\"Taylor, Sam\",\"say \"\"hi\"\"\",x"), (V{"Taylor, Sam", "say \"hi\"", "x"}));
  EXPECT_EQ(*SplitCsvLine("\"\""), (V{""}));
  EXPECT_FALSE(SplitCsvLine("\"open,b"));
  EXPECT_FALSE(SplitCsvLine("\"a\"b,c"));
  EXPECT_FALSE(SplitCsvLine("a\"b"));
  // What CsvField writes, SplitCsvLine reads back.
  EXPECT_EQ(*SplitCsvLine(CsvField("a, \"b\"") + "," + CsvField("c")), (V{"a, \"b\"", "c"}));
}

TEST(StringsTest, CsvFieldNeutralisesFormulas) {
  EXPECT_EQ(CsvField("=HYPERLINK(1)"), "'=HYPERLINK(1)");
  EXPECT_EQ(CsvField("+1+1"), "'+1+1");
  EXPECT_EQ(CsvField("-2"), "'-2");
  EXPECT_EQ(CsvField("@SUM(A1)"), "'@SUM(A1)");
  EXPECT_EQ(CsvField("\t=1"), "'\t=1");
  EXPECT_EQ(CsvField("\r=1"), "\"'\r=1\"") << "quoted too: it holds a line break";
  EXPECT_EQ(CsvField("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvField("plain"), "plain");
}

TEST(StringsTest, ValidUtf8ReplacesEachIllFormedSequenceOnce) {
  const std::string kReplacement = "\xEF\xBF\xBD";
  EXPECT_TRUE(IsUtf8("caf\xC3\xA9 \xF0\x9F\x98\x80"));
  EXPECT_EQ(ValidUtf8("caf\xC3\xA9"), "caf\xC3\xA9");
  EXPECT_EQ(ValidUtf8("q=\xFF\xFE"), "q=" + kReplacement + kReplacement);
  EXPECT_FALSE(IsUtf8("\xC0\xAF")) << "overlong '/'";
  EXPECT_EQ(ValidUtf8("\xC0\xAF"), kReplacement + kReplacement);
  EXPECT_FALSE(IsUtf8("\xED\xA0\x80")) << "a surrogate";
  EXPECT_FALSE(IsUtf8("\xF4\x90\x80\x80")) << "past U+10FFFF";
  // A truncated sequence is one replacement; the byte that broke it is read again.
  EXPECT_EQ(ValidUtf8("\xE2\x82"
                      "a"),
            kReplacement + "a");
  EXPECT_EQ(ValidUtf8("end\xF0\x9F\x98"), "end" + kReplacement);
  EXPECT_EQ(ValidUtf8("\x80\x80"), kReplacement + kReplacement);
  EXPECT_TRUE(IsUtf8(ValidUtf8(std::string("\0\x01\xF8\x88\x80\x80\x80", 7))));
}

TEST(StringsTest, CutUtf8EndsOnACharacterBoundary) {
  std::string text = "ab\xE2\x82\xAC";  // "ab€"
  EXPECT_EQ(CutUtf8(text, 5), text);
  EXPECT_EQ(CutUtf8(text, 4), "ab");
  EXPECT_EQ(CutUtf8(text, 3), "ab");
  EXPECT_EQ(CutUtf8(text, 2), "ab");
  EXPECT_EQ(CutUtf8(text, 1), "a");
  EXPECT_EQ(CutUtf8("\xF0\x9F\x98\x80", 3), "");
}

TEST(LogTest, FormatsLogfmtAndQuotes) {
  std::string line = log::Format(log::Level::kWarn, "config.error", {{"file", "a b.toml"}, {"line", 3}});
  EXPECT_NE(line.find("level=warn event=config.error file=\"a b.toml\" line=3"), std::string::npos) << line;
  std::string inj = log::Format(log::Level::kInfo, "x", {{"v", "a\nlevel=error"}});
  EXPECT_EQ(inj.find('\n'), std::string::npos) << "a value cannot start a new log line";
}

TEST(LogTest, CaptureSeesLines) {
  log::CaptureForTesting capture;
  log::Info("test.event", {{"n", 1}});
  EXPECT_NE(capture.Text().find("event=test.event n=1"), std::string::npos);
}

}  // namespace
}  // namespace steward

#include "core/ip.h"

namespace steward {
namespace {

TEST(IpTest, ParsesAndMatchesRanges) {
  auto v4 = IpAddress::Parse("192.0.2.10");
  ASSERT_TRUE(v4);
  EXPECT_TRUE(v4->is_v4());
  auto mapped = IpAddress::Parse("::ffff:192.0.2.10");
  ASSERT_TRUE(mapped);
  EXPECT_EQ(*mapped, *v4);
  EXPECT_EQ(IpAddress::Parse("[2001:db8::1]")->ToString(), "2001:db8::1");
  EXPECT_EQ(v4->ToString(), "192.0.2.10");
  for (int b = 0; b < 256; ++b) {
    std::string text = "10." + std::to_string(b) + ".0." + std::to_string(255 - b);
    EXPECT_EQ(IpAddress::Parse(text)->ToString(), text);
  }
  EXPECT_FALSE(IpAddress::Parse("192.0.2.256"));
  EXPECT_FALSE(IpAddress::Parse("example.org"));
  EXPECT_FALSE(IpAddress::Parse(""));

  auto net = Cidr::Parse("192.0.2.0/24");
  ASSERT_TRUE(net);
  EXPECT_TRUE(net->Contains(*v4));
  EXPECT_FALSE(net->Contains(*IpAddress::Parse("192.0.3.1")));
  EXPECT_TRUE(Cidr::Parse("10.0.0.0/9")->Contains(*IpAddress::Parse("10.127.0.1")));
  EXPECT_FALSE(Cidr::Parse("10.0.0.0/9")->Contains(*IpAddress::Parse("10.128.0.1")));
  EXPECT_TRUE(Cidr::Parse("2001:db8::/32")->Contains(*IpAddress::Parse("2001:db8:1::5")));
  EXPECT_FALSE(Cidr::Parse("2001:db8::/32")->Contains(*v4));
  EXPECT_TRUE(Cidr::Parse("127.0.0.1")->Contains(*IpAddress::Parse("127.0.0.1")));
  EXPECT_FALSE(Cidr::Parse("10.0.0.0/33"));
  EXPECT_FALSE(Cidr::Parse("10.0.0.0/x"));
}

}  // namespace
}  // namespace steward

#include "core/handoff.h"

namespace steward {
namespace {

// A stand-in for another thread's queue: what a batch hands on, in the order handed.
struct FakeThread {
  std::vector<int> posts;  // how many items each hand-off carried
  void Take(const HandoffBatch::Runs& runs) {
    posts.push_back(static_cast<int>(runs.size()));
    for (auto& run : runs) run();
  }
};

TEST(HandoffBatchTest, HoldsUntilClosedAndHandsOnOncePerTarget) {
  EXPECT_FALSE(HandoffBatch::Open());
  FakeThread a, b;
  std::vector<std::string> ran;
  auto post_to = [](FakeThread& t) { return [&t](const HandoffBatch::Runs& runs) { t.Take(runs); }; };
  {
    HandoffBatch batch;
    ASSERT_TRUE(HandoffBatch::Open());
    for (int i = 0; i < 3; ++i) {
      HandoffBatch::Hold(&a, post_to(a), [&ran, i] { ran.push_back("a" + std::to_string(i)); });
      HandoffBatch::Hold(&b, post_to(b), [&ran, i] { ran.push_back("b" + std::to_string(i)); });
    }
    {
      HandoffBatch inner;  // leaves its items to the outer batch
      HandoffBatch::Hold(&a, post_to(a), [&ran] { ran.emplace_back("a3"); });
    }
    EXPECT_TRUE(HandoffBatch::Open());
    EXPECT_TRUE(ran.empty()) << "nothing runs before the batch closes";
    EXPECT_TRUE(a.posts.empty());
  }
  EXPECT_FALSE(HandoffBatch::Open());
  EXPECT_EQ(a.posts, std::vector<int>({4})) << "one hand-off for the target, with all of its items";
  EXPECT_EQ(b.posts, std::vector<int>({3}));
  EXPECT_EQ(ran, std::vector<std::string>({"a0", "a1", "a2", "a3", "b0", "b1", "b2"}));

  // A batch on one thread does not hold another thread's items.
  HandoffBatch batch;
  std::thread([] { EXPECT_FALSE(HandoffBatch::Open()); }).join();
}

}  // namespace
}  // namespace steward
