#include "core/handoff.h"

#include <algorithm>
#include <iterator>
#include <utility>

namespace steward {
namespace {

thread_local HandoffBatch* open_batch = nullptr;

}  // namespace

HandoffBatch::HandoffBatch() : outer_(open_batch) {
  if (outer_ == nullptr) open_batch = this;
}

HandoffBatch::~HandoffBatch() {
  if (outer_ != nullptr) return;  // the outer batch holds what this one was given
  open_batch = nullptr;
  for (auto& h : held_) h.post(std::move(h.runs));
}

bool HandoffBatch::Open() { return open_batch != nullptr; }

void HandoffBatch::Hold(const void* target, std::function<void(Runs)> post, std::function<void()> run) {
  HandoffBatch* batch = open_batch;
  auto it = std::find_if(batch->held_.begin(), batch->held_.end(), [&](const Held& h) { return h.target == target; });
  if (it == batch->held_.end()) {
    batch->held_.push_back({target, std::move(post), {}});
    it = std::prev(batch->held_.end());
  }
  it->runs.push_back(std::move(run));
}

}  // namespace steward
