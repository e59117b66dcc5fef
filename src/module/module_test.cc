#include "module/module.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace steward::module {
namespace {

using namespace std::chrono_literals;

// Waits, in real time, for `cond` (at most five seconds).
template <typename Cond>
bool Eventually(Cond cond) {
  for (int i = 0; i < 1000 && !cond(); ++i) std::this_thread::sleep_for(5ms);
  return cond();
}

TEST(TaskRunnerTest, RunsOnTheInjectedClockFirstThenEveryPeriod) {
  FakeClock clock(SystemTime(std::chrono::seconds(1'800'000'000)));
  std::atomic<int> runs{0};
  TaskRunner runner(clock);
  runner.Start({{.name = "test", .first = 1min, .every = 24h, .run = [&] {
                   ++runs;
                   return Status(MakeError(ErrorCode::kIo, "a failure is logged and the task goes on"));
                 }}});
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(runs, 0) << "not before its first time";
  clock.Advance(1min);
  EXPECT_TRUE(Eventually([&] { return runs == 1; }));
  clock.Advance(23h);
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(runs, 1);
  clock.Advance(1h);
  EXPECT_TRUE(Eventually([&] { return runs == 2; }));
  runner.Stop();
  clock.Advance(48h);
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(runs, 2) << "nothing runs after Stop";
}

TEST(TaskRunnerTest, StopsPromptlyOnARealClock) {
  TaskRunner runner(SystemClock::Instance());
  runner.Start({{.name = "daily", .first = 24h, .every = 24h, .run = [] { return Ok(); }}});
  auto started = std::chrono::steady_clock::now();
  runner.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s) << "a waiting task wakes for Stop";
}

TEST(ArgsTest, ReadsTextIntegersFlagsAndLists) {
  Args args;
  args.Set("--period", {"7d"});
  args.Set("--top", {"-3"});
  args.Set("--dry-run", {"true"});
  args.Set("files", {"a.log", "b.log"});
  EXPECT_EQ(args.Text("--period"), "7d");
  EXPECT_EQ(args.Integer("--top"), -3);
  EXPECT_TRUE(args.Flag("--dry-run"));
  EXPECT_FALSE(args.Flag("--evidence"));
  EXPECT_EQ(args.List("files").size(), 2u);
  EXPECT_EQ(args.Text("--missing"), "");
  EXPECT_FALSE(args.Has("--missing"));
}

TEST(ServicesTest, FindsWhatWasProvidedByType) {
  Services services;
  int gate = 3;
  std::string edge = "edge";
  services.Provide(&gate);
  EXPECT_EQ(services.Find<int>(), &gate);
  EXPECT_EQ(services.Find<std::string>(), nullptr);
  services.Provide(&edge);
  EXPECT_EQ(*services.Find<std::string>(), "edge");
}

}  // namespace
}  // namespace steward::module
