// Work handed to other threads together: while a HandoffBatch is open on a thread, what that thread
// hands to another through Handoff waits, and goes when the batch closes, one hand-off for each
// receiving thread rather than one for each item. A hand-off to a thread asleep in epoll_wait costs
// a system call on each side; a group commit's callbacks answer dozens of requests at once, so the
// store's writer opens one around them and the HTTP server's answers go through Handoff.
//
//   { HandoffBatch batch; for (auto& w : waiting) w.done(); }   // each done() may call Handoff
//
// A batch opened inside another leaves its items to the outer one. Not for work that must run
// before the batch closes: nothing held runs until then.
//
// Thread safety: a batch belongs to the thread that opened it; Handoff may be called on any thread.
#pragma once

#include <functional>
#include <vector>

namespace steward {

class HandoffBatch {
 public:
  HandoffBatch();
  ~HandoffBatch();  // hands on everything held
  HandoffBatch(const HandoffBatch&) = delete;
  HandoffBatch& operator=(const HandoffBatch&) = delete;

  // True when a batch is open on this thread.
  static bool Open();

  using Runs = std::vector<std::function<void()>>;
  // Only while Open(): holds `run` for the thread `target` (any address that names it, the same for
  // every item bound there); when the batch closes, `post` is given everything held for `target`,
  // in the order held, and must hand it on to that thread. The first item's `post` is the one used.
  static void Hold(const void* target, std::function<void(Runs)> post, std::function<void()> run);

 private:
  struct Held {
    const void* target;
    std::function<void(Runs)> post;
    Runs runs;
  };
  std::vector<Held> held_;
  HandoffBatch* outer_;
};

}  // namespace steward
