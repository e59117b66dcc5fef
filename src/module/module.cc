#include "module/module.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "core/log.h"
#include "core/days.h"
#include "core/strings.h"
#include "register/versions.h"

namespace steward::module {

subject::StoredSubjectData::Deps Platform::SubjectDeps(Id id) const {
  return {.module = id.str(),
          .store = store,
          .trail = trail,
          .restrictions = restrictions,
          .reg = &reg,
          .pseudonym_key = subject::PseudonymKey(key)};
}

int Fail(const Error& error, int exit_code) {
  std::fprintf(stderr, "steward: %s\n", error.message.c_str());
  return exit_code;
}

std::string Args::Text(std::string_view name) const {
  auto it = values_.find(name);
  return it == values_.end() || it->second.empty() ? std::string() : it->second.front();
}

int64_t Args::Integer(std::string_view name) const {
  std::string v = Text(name);
  if (v.empty()) return 0;
  bool negative = v.front() == '-';
  auto n = ParseUint(negative ? std::string_view(v).substr(1) : std::string_view(v));
  if (!n || *n > static_cast<uint64_t>(INT64_MAX)) return 0;  // app checks ranges before a command runs
  return negative ? -static_cast<int64_t>(*n) : static_cast<int64_t>(*n);
}

bool Args::Flag(std::string_view name) const { return Text(name) == "true"; }

std::vector<std::string> Args::List(std::string_view name) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

bool Args::Has(std::string_view name) const { return values_.find(name) != values_.end(); }

struct TaskRunner::State {
  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;
  std::vector<std::thread> threads;
};

TaskRunner::~TaskRunner() { Stop(); }

void TaskRunner::Start(std::vector<Task> tasks) {
  if (!state_) state_ = std::make_shared<State>();
  for (auto& task : tasks) {
    state_->threads.emplace_back([state = state_, &clock = clock_, leads = leads_, task = std::move(task)] {
      auto due = clock.Monotonic() + task.first;
      std::unique_lock<std::mutex> lock(state->mu);
      while (!state->stopping) {
        auto now = clock.Monotonic();
        if (now < due) {
          auto wait = std::min<std::chrono::steady_clock::duration>(due - now, clock.PollInterval());
          state->cv.wait_for(lock, wait, [&] { return state->stopping; });
          continue;
        }
        lock.unlock();
        // Another instance leads: it does this work, and this one asks again next time.
        if (task.every_instance || !leads || leads()) {
          Status s = task.run();
          if (!s.ok()) log::Error("task.failed", {{"task", task.name}, {"error", s.error().ToString()}});
        }
        lock.lock();
        // On the schedule, not from when the run ended; a run that overran starts the next period.
        due += std::chrono::duration_cast<std::chrono::steady_clock::duration>(task.every);
        if (auto after = clock.Monotonic(); due <= after) due = after + task.every;
      }
    });
  }
}

void TaskRunner::Stop() {
  if (!state_) return;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->stopping = true;
  }
  state_->cv.notify_all();
  for (auto& t : state_->threads) {
    if (t.joinable()) t.join();
  }
  state_->threads.clear();
}

// ---- Staff page helpers ----------------------------------------------------------------------------

std::string Field(const http::Params& params, std::string_view name) {
  const std::string* v = http::Find(params, name);
  return v ? *v : std::string();
}

std::pair<std::string, std::string> FieldError(const Error& e, std::string_view fallback) {
  size_t colon = e.message.find(": ");
  std::string field = colon == std::string::npos ? std::string(fallback) : e.message.substr(0, colon);
  std::string text = colon == std::string::npos ? e.message : e.message.substr(colon + 2);
  if (!text.empty()) text[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(text[0])));
  return {field, text};
}

std::vector<std::string> AllFields(const http::Params& params, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& [k, v] : params) {
    if (k == name) out.push_back(v);
  }
  return out;
}

html::List ErrorSummary(const std::vector<std::pair<std::string, std::string>>& errors) {
  html::List out;
  for (size_t i = 0; i < errors.size(); ++i) {
    out.push_back(html::Object{{"field", errors[i].first},
                               {"message", errors[i].second},
                               {"first", i == 0},
                               {"last", i + 1 == errors.size()}});
  }
  return out;
}

html::List Marked(html::List items) {
  for (size_t i = 0; i < items.size(); ++i) {
    html::Object o = items[i].AsObject() ? *items[i].AsObject() : html::Object{};
    o["first"] = i == 0;
    o["last"] = i + 1 == items.size();
    items[i] = o;
  }
  return items;
}

std::string TimeFilter(const std::string& text) {
  if (text.size() > 30) return {};
  for (char c : text) {
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == 'T' || c == ':' || c == '.' || c == 'Z'))
      return {};
  }
  return text;
}

std::optional<int64_t> IdParam(const http::Request& req, std::string_view name) {
  auto v = ParseUint(req.PathParam(name));
  if (!v || *v == 0 || *v > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
  return static_cast<int64_t>(*v);
}

// A GOV.UK date input's three fields ("received-day", "-month", "-year") as a day.
std::optional<int64_t> DateField(const http::Params& form, const std::string& name) {
  auto part = [&](const char* which) { return std::string(Trim(Field(form, name + "-" + which))); };
  std::string d = part("day"), m = part("month"), y = part("year");
  if (d.empty() || m.empty() || y.size() != 4 || d.size() > 2 || m.size() > 2) return std::nullopt;
  auto two = [](const std::string& s) { return s.size() == 1 ? "0" + s : s; };
  return ParseDay(y + "-" + two(m) + "-" + two(d));
}

html::Object DateInput(const std::string& id, const http::Params& form, std::optional<int64_t> day, bool error) {
  html::Object out{{"id", id}, {"error", error}};
  std::string typed[3];
  const char* parts[3] = {"day", "month", "year"};
  bool any = false;
  for (int i = 0; i < 3; ++i) {
    typed[i] = Field(form, id + "-" + parts[i]);
    any = any || !Trim(typed[i]).empty();
  }
  if (!any && day) {
    std::string text = DayText(*day);
    auto strip = [](std::string s) { return s.size() == 2 && s[0] == '0' ? s.substr(1) : s; };
    typed[0] = strip(text.substr(8, 2));
    typed[1] = strip(text.substr(5, 2));
    typed[2] = text.substr(0, 4);
  }
  for (int i = 0; i < 3; ++i) out[parts[i]] = std::move(typed[i]);
  return out;
}

bool HasError(const std::vector<std::pair<std::string, std::string>>& errors, std::string_view field) {
  return std::any_of(errors.begin(), errors.end(), [&](const auto& e) { return e.first == field; });
}

http::Response FormPage(const http::Request& req, const StaffContext& ctx, std::string_view tmpl, std::string title,
                        html::Object data, const std::vector<std::pair<std::string, std::string>>& errors,
                        std::string_view current, int status) {
  if (!errors.empty()) {
    data["errors"] = ErrorSummary(errors);
    for (const auto& [field, message] : errors) data[field + "_error"] = message;
    title = "Error: " + title;
  }
  return ctx.layout->Page(req, ctx, tmpl, title, std::move(data), current, status);
}

http::Response CsvDownload(std::string body, std::string_view filename) {
  http::Response r;
  r.body = std::move(body);
  r.SetHeader("Content-Type", "text/csv; charset=utf-8");
  r.SetHeader("Content-Disposition", "attachment; filename=\"" + std::string(filename) + "\"");
  return r;
}

namespace chr = std::chrono;

namespace {

std::string ShortDay(int64_t day) {
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  chr::year_month_day ymd{chr::sys_days(chr::days(day))};
  return std::to_string(static_cast<unsigned>(ymd.day())) + " " + kMonths[static_cast<unsigned>(ymd.month()) - 1];
}

}  // namespace

std::string LongDay(int64_t day) { return processing::LongDate(DayText(day) + "T00:00:00Z"); }

std::string Thousands(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

html::Object DailyChart(const std::string& title, const std::vector<std::string>& columns,
                        const std::vector<ChartPoint>& points) {
  int64_t peak = 1;
  for (const auto& p : points) peak = std::max(peak, p.values.empty() ? 0 : p.values[0]);
  const double width = 720, height = 180, gap = 2;
  double bar = points.empty() ? 0 : std::max(1.0, width / static_cast<double>(points.size()) - gap);
  html::List bars, rows, heads;
  for (const auto& c : columns) heads.push_back(html::Object{{"name", c}});
  for (size_t i = 0; i < points.size(); ++i) {
    const ChartPoint& p = points[i];
    int64_t v = p.values.empty() ? 0 : p.values[0];
    double h = v == 0 ? 0 : std::max(2.0, height * static_cast<double>(v) / static_cast<double>(peak));
    char x[32], y[32], w[32], hh[32];
    std::snprintf(x, sizeof x, "%.1f", static_cast<double>(i) * (bar + gap));
    std::snprintf(y, sizeof y, "%.1f", height - h);
    std::snprintf(w, sizeof w, "%.1f", bar);
    std::snprintf(hh, sizeof hh, "%.1f", h);
    std::string label = ShortDay(p.day) + ":";
    html::List cells;
    for (size_t c = 0; c < p.values.size() && c < columns.size(); ++c) {
      label += (c == 0 ? " " : ", ") + Thousands(p.values[c]) + " " + ToLower(columns[c]);
      cells.push_back(html::Object{{"text", Thousands(p.values[c])}});
    }
    bars.push_back(html::Object{{"x", x}, {"y", y}, {"width", w}, {"height", hh}, {"label", label}});
    rows.push_back(html::Object{{"day", LongDay(p.day)}, {"cells", std::move(cells)}});
  }
  return html::Object{{"title", title},
                      {"width", "720"},
                      {"height", "180"},
                      {"bars", std::move(bars)},
                      {"columns", std::move(heads)},
                      {"rows", std::move(rows)}};
}

}  // namespace steward::module
