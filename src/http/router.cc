#include "http/router.h"

#include <algorithm>
#include <atomic>

#include "core/strings.h"

namespace steward::http {
namespace {

std::vector<std::string_view> Segments(std::string_view path) {
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  return Split(path, '/');
}

bool IsParam(std::string_view seg) { return seg.size() >= 3 && seg.front() == '{' && seg.back() == '}'; }
bool IsRest(std::string_view seg) { return IsParam(seg) && seg.size() > 5 && seg.substr(seg.size() - 4) == "...}"; }

// Matches `pattern` against `path`. Returns the number of literal segments matched (a score, so
// literals beat parameters) or -1.
// `ps` and `xs` are the segments of the pattern and the path.
int MatchPattern(const std::vector<std::string_view>& ps, std::string_view path,
                 const std::vector<std::string_view>& xs, Params* params, bool* bad) {
  int score = 0;
  Params out;
  for (size_t i = 0; i < ps.size(); ++i) {
    std::string_view p = ps[i];
    if (IsRest(p)) {
      if (i >= xs.size()) return -1;
      std::string_view rest = path;
      if (!rest.empty() && rest.front() == '/') rest.remove_prefix(1);
      for (size_t k = 0; k < i; ++k) rest.remove_prefix(xs[k].size() + 1);
      // The rest stays encoded: the handler (static files) decodes and checks it segment by segment.
      out.emplace_back(std::string(p.substr(1, p.size() - 5)), std::string(rest));
      if (params) *params = std::move(out);
      return score;
    }
    if (i >= xs.size()) return -1;
    if (IsParam(p)) {
      if (xs[i].empty()) return -1;
      auto v = PercentDecode(xs[i], false);
      if (!v) {
        if (bad) *bad = true;
        return -1;
      }
      out.emplace_back(std::string(p.substr(1, p.size() - 2)), std::move(*v));
    } else if (p == xs[i]) {
      ++score;
    } else {
      return -1;
    }
  }
  if (xs.size() != ps.size()) return -1;
  if (params) *params = std::move(out);
  return score;
}

}  // namespace

struct Responder::State {
  std::function<void(Response)> deliver;
  std::atomic<bool> sent{false};
  ~State() {
    if (!sent.exchange(true)) deliver(Response::Text("500 Internal Server Error\n", 500));
  }
};

Responder::Responder(std::function<void(Response)> deliver) : state_(std::make_shared<State>()) {
  state_->deliver = std::move(deliver);
}

void Responder::Send(Response response) const {
  if (!state_->sent.exchange(true)) state_->deliver(std::move(response));
}

void Router::AddAsync(Method method, std::string pattern, AsyncHandler handler, RouteOptions options) {
  Add(method, std::move(pattern), nullptr, options);
  routes_.back().async_handler = std::move(handler);
}

void Router::Add(Method method, std::string pattern, Handler handler, RouteOptions options) {
  STEWARD_CHECK(!pattern.empty() && pattern.front() == '/', "route patterns start with /");
  auto segs = Segments(pattern);
  for (size_t i = 0; i < segs.size(); ++i) {
    STEWARD_CHECK(!IsRest(segs[i]) || i + 1 == segs.size(), "{rest...} must be the last segment");
  }
  for (const Route& r : routes_) {
    STEWARD_CHECK(!(r.method == method && r.pattern == pattern), "duplicate route");
  }
  routes_.push_back(Route{method, std::move(pattern), std::move(handler), nullptr, options});
  // Views into the stored patterns, rebuilt whole: growing routes_ may move the strings they see.
  segments_.clear();
  literal_.clear();
  for (size_t i = 0; i < routes_.size(); ++i) {
    segments_.push_back(Segments(routes_[i].pattern));
    if (std::none_of(segments_.back().begin(), segments_.back().end(), IsParam)) {
      literal_[routes_[i].pattern].push_back(i);
    }
  }
}

Router::Match Router::Find(Method method, std::string_view path) const {
  Match best;
  int best_score = -1;
  Method want = method == Method::kHead ? Method::kGet : method;
  if (auto it = literal_.find(path); it != literal_.end()) {
    for (size_t i : it->second) {
      if (routes_[i].method == want) {
        best.route = &routes_[i];
        return best;
      }
    }
  }
  auto xs = Segments(path);
  for (size_t i = 0; i < routes_.size(); ++i) {
    const Route& r = routes_[i];
    const auto& ps = segments_[i];
    // Cheap refusals first: a different first literal, or too few segments.
    if (!ps.empty() && !IsParam(ps[0]) && (xs.empty() || xs[0] != ps[0])) continue;
    if (xs.size() < ps.size()) continue;
    Params params;
    bool bad = false;
    int score = MatchPattern(ps, path, xs, &params, &bad);
    if (bad) best.bad_encoding = true;
    if (score < 0) continue;
    if (r.method != want) {
      if (std::find(best.allowed.begin(), best.allowed.end(), r.method) == best.allowed.end()) {
        best.allowed.push_back(r.method);
        if (r.method == Method::kGet) best.allowed.push_back(Method::kHead);
      }
      continue;
    }
    if (score > best_score) {
      best_score = score;
      best.route = &r;
      best.params = std::move(params);
    }
  }
  return best;
}

}  // namespace steward::http
