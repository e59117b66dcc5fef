#include "feedback/module.h"

#include <nlohmann/json.hpp>

#include <condition_variable>
#include <memory>
#include <mutex>

#include "core/json_text.h"
#include "core/log.h"
#include "core/strings.h"
#include "feedback/feedback.h"
#include "feedback/inbox_pages.h"
#include "feedback/messages.h"
#include "feedback/statistics.h"
#include "feedback/redact.h"
#include "http/json_body.h"
#include "http/origin.h"
#include "site/pages.h"
#include "subjects/sealed.h"

namespace steward::feedback {
namespace {

using http::Method;
using http::Request;
using http::Response;

constexpr module::Id kFeedback("feedback");
constexpr int64_t kMaxBody = int64_t{16} * 1024;

// The hidden field that times an HTML form: when it was shown, and a MAC so it cannot be made up.
class FormTimer {
 public:
  explicit FormTimer(const crypto::SecretKey& key) {
    auto k = key.DeriveKey("feedtime");
    key_.assign(reinterpret_cast<const char*>(k.data()), k.size());
  }
  std::string Issue(SystemTime now) const {
    std::string t = std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count());
    return t + "." + HexEncode(crypto::Hash(t, key_).substr(0, 12));
  }
  // Seconds since Issue, or nullopt for a value this site did not issue.
  std::optional<int64_t> SecondsSince(std::string_view value, SystemTime now) const {
    size_t dot = value.find('.');
    if (dot == std::string_view::npos || dot == 0 || dot > 12) return std::nullopt;
    std::string t(value.substr(0, dot));
    if (!std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; })) return std::nullopt;
    if (!crypto::ConstantTimeEquals(HexEncode(crypto::Hash(t, key_).substr(0, 12)), value.substr(dot + 1))) {
      return std::nullopt;
    }
    return std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count() - std::stoll(t);
  }

 private:
  std::string key_;
};

// A page of this site to link back to: a local path, never another site or a script.
std::string LocalPath(std::string_view page) {
  if (!page.starts_with("/") || page.starts_with("//") || page.find_first_of("\\\r\n\t ") != std::string_view::npos) {
    return "";
  }
  return std::string(page);
}

class FeedbackServing : public module::Serving {
 public:
  // `settings` nullopt: the site takes no feedback ([feedback] absent), and the inbox is there for
  // the messages alone.
  FeedbackServing(module::Platform& p, const std::optional<Settings>& settings)
      : platform_(p),
        forms_(settings.has_value()),
        inbox_(p.store, p.key, p.clock, settings.value_or(Settings{.useful = false})),
        timer_(p.key),
        subjects_(p.SubjectDeps(kFeedback), p.key, p.clock, Inbox::SealedTables()) {
    if (messages::Inbox::Storage().in_use(p.reg)) {
      messages_ = std::make_unique<messages::Inbox>(p.store, p.key, p.clock);
    }
    if (p.metrics != nullptr && forms_) {
      received_ = &p.metrics->AddCounter("steward_feedback_total", "Feedback received, by kind and outcome.",
                                         {"kind", "outcome"});
    }
    if (inbox_.settings().useful) {
      p.pages->AddToPublicFrame([this](const Request& req, html::Object& frame) {
        // The page the answer is about, with any email address in its address taken out.
        std::string page = LocalPath(ScrubUrl(CutUtf8(ValidUtf8(req.path), 2048)));
        frame["feedback_useful"] = html::Object{{"page", page},
                                                {"page_query", http::PercentEncode(page)},
                                                {"started", timer_.Issue(platform_.clock.Now())}};
      });
    }
  }

  ~FeedbackServing() override {
    std::unique_lock<std::mutex> lock(writes_mu_);
    writes_cv_.wait(lock, [this] { return writes_in_flight_ == 0; });
  }

  void AddRoutes(http::Router& router) override {
    if (!forms_) return;
    http::RouteOptions form{
        .max_body_bytes = kMaxBody, .blocking = true, .anonymous_write = http::RouteOptions::Anonymous::kForm};
    router.Get("/feedback", [this](Request& req) { return FormPage(req); }, {.blocking = false});
    // On the worker pool (forms are parsed and pages rendered there), answered once the item's
    // group commit is done, without holding a thread while it waits.
    router.AddAsync(
        Method::kPost, "/feedback",
        [this](Request& req, const http::Responder& respond) {
          if (auto r = PostForm(req, respond)) respond.Send(std::move(*r));
        },
        form);
    router.AddAsync(
        Method::kPost, "/api/feedback",
        [this](Request& req, const http::Responder& respond) {
          auto answer = [origin = std::string(req.Header("Origin")), this, respond](Response r) {
            http::AllowOrigin(origin, platform_.config.site.script_origins, r);
            r.SetHeader("Cache-Control", "no-store");
            respond.Send(std::move(r));
          };
          if (auto r = Api(req, answer)) answer(std::move(*r));
        },
        form);
    router.Add(Method::kOptions, "/api/feedback", [this](Request& req) {
      return http::Preflight(req.Header("Origin"), platform_.config.site.script_origins, "POST");
    });
  }

  // Only where the register declares feedback: a site that keeps none answers for none.
  subject::SubjectData* Subjects() override { return Inbox::Storage().in_use(platform_.reg) ? &subjects_ : nullptr; }

  std::vector<module::StaffPage> StaffPages() override { return InboxPages(platform_, inbox_, messages_.get()); }

  std::vector<module::Task> Tasks() override {
    if (!forms_) return {};
    return {{.name = "feedback.spam",
             .first = std::chrono::minutes(10),
             .every = std::chrono::hours(24),
             .run = [this]() -> Status {
               STEWARD_RETURN_IF_ERROR(inbox_.PurgeSpam(platform_.trail));
               return Ok();
             }}};
  }

 private:
  // What the form says beside it: what is kept, why and for how long, from the register.
  html::Object Common(Kind kind) const {
    html::Object data{{"kind", std::string(KindName(kind))},
                      {"started", timer_.Issue(platform_.clock.Now())},
                      {"is_" + std::string(KindName(kind)), true}};
    for (const auto& d : platform_.reg.datasets) {
      if (d.id != inbox_.settings().dataset) continue;
      data["kept_for"] = d.retention.text;
      data["why"] = d.description;
    }
    if (!inbox_.settings().share_with.empty()) {
      std::string names;
      for (size_t i = 0; i < inbox_.settings().share_with.size(); ++i) {
        if (i > 0) names += i + 1 == inbox_.settings().share_with.size() ? " and " : ", ";
        names += inbox_.settings().share_with[i];
      }
      data["share_with"] = names;
    }
    html::List ratings;
    for (int r = 5; r >= 1; --r) {
      ratings.push_back(html::Object{{"value", int64_t{r}}, {"text", std::string(RatingText(r))}, {"first", r == 5}});
    }
    data["ratings"] = ratings;
    return data;
  }

  Response FormPage(Request& req) {
    auto query = req.Query();
    std::string kind_name = query.ok() && http::Find(*query, "kind") ? *http::Find(*query, "kind") : "contact";
    auto kind = ParseKind(kind_name);
    if (!kind || *kind == Kind::kUseful) kind = Kind::kContact;
    html::Object data = Common(*kind);
    if (query.ok() && http::Find(*query, "page")) data["page"] = ScrubUrl(CutUtf8(*http::Find(*query, "page"), 2048));
    Response r = platform_.pages->Page(req, "feedback", Title(*kind), std::move(data));
    r.SetHeader("Cache-Control", "no-store");
    return r;
  }

  static std::string Title(Kind kind) {
    switch (kind) {
      case Kind::kProblem:
        return "Report a problem with this page";
      case Kind::kRating:
        return "Give feedback on this service";
      default:
        return "Contact us";
    }
  }

  static Submission FromForm(const http::Params& form) {
    auto text = [&](const char* name) {
      const std::string* v = http::Find(form, name);
      return v ? *v : std::string();
    };
    Submission s;
    s.kind = ParseKind(text("kind")).value_or(Kind::kContact);
    s.page = text("page");
    if (text("useful") == "yes") s.useful = true;
    if (text("useful") == "no") s.useful = false;
    s.doing = text("doing");
    s.wrong = text("wrong");
    s.message = text("message");
    std::string rating = text("rating");
    if (rating.size() == 1 && rating[0] >= '1' && rating[0] <= '5') s.rating = rating[0] - '0';
    if (text("reply") == "yes" || s.kind != Kind::kContact) {
      s.name = text("name");
      s.email = text("email");
    }
    s.share = text("share") == "yes";
    s.honeypot = text("giraffe");
    s.javascript = text("javascript") == "yes";
    return s;
  }

  // The answer now (refused, or errors to correct), or nullopt: `respond` answers once the item
  // is committed.
  std::optional<Response> PostForm(Request& req, const http::Responder& respond) {
    if (!http::SameOriginOrAllowed(req, platform_.config.server.public_base_url,
                                   platform_.config.site.script_origins)) {
      log::Warn("feedback.cross_site_refused", {{"route", req.route}});
      return platform_.pages->ErrorPage(403, &req);
    }
    auto form = req.Form();
    if (!form.ok()) return platform_.pages->ErrorPage(400, &req);
    Submission s = FromForm(*form);
    const std::string* started = http::Find(*form, "started");
    s.seconds_open = started ? timer_.SecondsSince(*started, platform_.clock.Now()) : std::nullopt;
    // A form this site showed carries its timer: without one (or with a forged one) it is spam, and
    // so is one sent faster than a person could. A plain form on one of the site's other origins
    // has no timer to carry; the honeypot and the rate limit still apply to it.
    const auto& others = platform_.config.site.script_origins;
    bool other_origin = std::find(others.begin(), others.end(), req.Header("Origin")) != others.end();
    if (!s.seconds_open && (started != nullptr || !other_origin)) {
      s.honeypot = s.honeypot.empty() ? "no form time" : s.honeypot;
    }
    FieldErrors errors = Check(s);
    if (!errors.empty()) {
      if (s.kind == Kind::kUseful) return platform_.pages->ErrorPage(400, &req);
      html::Object data = Common(s.kind);
      html::List list;
      for (size_t i = 0; i < errors.size(); ++i) {
        list.push_back(html::Object{{"field", errors[i].first},
                                    {"message", errors[i].second},
                                    {"first", i == 0},
                                    {"last", i + 1 == errors.size()}});
        data[errors[i].first + "_error"] = errors[i].second;
      }
      data["errors"] = list;
      // What they typed goes back to them to correct; it is not kept.
      for (const auto& [k, v] : std::vector<std::pair<std::string, std::string>>{{"page", s.page},
                                                                                 {"doing", s.doing},
                                                                                 {"wrong", s.wrong},
                                                                                 {"message", s.message},
                                                                                 {"name", s.name},
                                                                                 {"email", s.email}}) {
        data[k] = v;
      }
      if (!s.email.empty() || !s.name.empty()) data["reply"] = true;
      if (s.share) data["share"] = true;
      if (s.rating > 0) {
        html::List ratings;
        for (int r = 5; r >= 1; --r) {
          ratings.push_back(html::Object{{"value", int64_t{r}},
                                         {"text", std::string(RatingText(r))},
                                         {"first", r == 5},
                                         {"checked", r == s.rating}});
        }
        data["ratings"] = ratings;
      }
      Response r = platform_.pages->Page(req, "feedback", "Error: " + Title(s.kind), std::move(data), 400);
      r.SetHeader("Cache-Control", "no-store");
      return r;
    }
    auto answer = std::make_shared<Answer>(respond, s.kind);
    auto known = Queue(s, answer, [this](const Error& e) {
      Response r = platform_.pages->ErrorPage(http::StatusForError(e.code), nullptr);
      if (r.status == 503) r.SetHeader("Retry-After", "1");
      return r;
    });
    if (!known.ok()) return platform_.pages->ErrorFor(known.error(), req);
    std::string page = LocalPath(ScrubUrl(CutUtf8(ValidUtf8(s.page), 2048)));
    html::Object data{{"is_" + std::string(KindName(s.kind)), true},
                      {"page", page},
                      {"page_query", http::PercentEncode(page)},
                      {"reply", !s.email.empty()}};
    if (!known->redacted.empty()) data["redacted"] = true;
    Response r = platform_.pages->Page(req, "feedback_sent", "Thank you for your feedback", std::move(data));
    r.SetHeader("Cache-Control", "no-store");
    answer->Ready(std::move(r));
    return std::nullopt;
  }

  // The answer to a queued submission: sent when both the page (rendered on the worker) and the
  // commit (on the writer) are done, whichever comes last; a failed write sends its error instead.
  class Answer {
   public:
    Answer(http::Responder respond, Kind kind) : respond_(std::move(respond)), kind_(kind) {}
    Kind kind() const { return kind_; }
    void Ready(Response page) {
      Arrive([&] { page_ = std::move(page); });
    }
    void Committed(Response failure) {
      Arrive([&] { failure_ = std::move(failure), done_ = true; });
    }
    void Committed() {
      Arrive([&] { done_ = true; });
    }

   private:
    template <typename F>
    void Arrive(F set) {
      std::optional<Response> send;
      {
        std::lock_guard<std::mutex> lock(mu_);
        set();
        if (sent_) return;
        if (failure_) {
          send = std::move(failure_);
        } else if (done_ && page_) {
          send = std::move(page_);
        }
        sent_ = send.has_value();
      }
      if (send) respond_.Send(std::move(*send));
    }
    http::Responder respond_;
    Kind kind_;
    std::mutex mu_;
    std::optional<Response> page_, failure_;
    bool done_ = false, sent_ = false;
  };

  // Queues `s` for the store; `answer` hears the commit (or `failure(error)` for a failed write).
  // Returns what is known before the write, or the refusal of a full queue.
  Result<Stored> Queue(const Submission& s, const std::shared_ptr<Answer>& answer,
                       std::function<Response(const Error&)> failure) {
    {
      std::lock_guard<std::mutex> lock(writes_mu_);
      ++writes_in_flight_;
    }
    auto known = inbox_.SubmitAsync(s, [this, answer, failure = std::move(failure)](Result<Stored> stored) {
      if (stored.ok()) {
        Count(answer->kind(), *stored);
        answer->Committed();
      } else {
        log::Warn("feedback.not_stored", {{"error", stored.error().message}});
        answer->Committed(failure(stored.error()));
      }
      std::lock_guard<std::mutex> lock(writes_mu_);
      --writes_in_flight_;
      writes_cv_.notify_all();
    });
    if (!known.ok()) {
      std::lock_guard<std::mutex> lock(writes_mu_);
      --writes_in_flight_;
      writes_cv_.notify_all();
    }
    return known;
  }

  static Response Fail(int status, const std::string& error, const FieldErrors& errors = {}) {
    nlohmann::json j{{"error", error}};
    if (!errors.empty()) {
      nlohmann::json fields = nlohmann::json::object();
      for (const auto& [field, message] : errors) fields[field] = message;
      j["errors"] = fields;
    }
    return Response::Json(JsonText(j), status);
  }

  // The answer now, or nullopt: `deliver` answers once the item is committed.
  std::optional<Response> Api(Request& req, const std::function<void(Response)>& deliver) {
    if (!http::SameOriginOrAllowed(req, platform_.config.server.public_base_url,
                                   platform_.config.site.script_origins)) {
      return Fail(403, "feedback is taken from the site's own pages and the origins it names");
    }
    auto body = http::ParseJsonBody(req, {.max_depth = 4, .max_bytes = kMaxBody});
    if (!body.ok()) return Fail(400, body.error().message);
    if (!body->is_object()) return Fail(400, "the body is a JSON object");
    Submission s;
    FieldErrors shape;
    auto text = [&](const char* name, std::string& out) {
      auto it = body->find(name);
      if (it == body->end() || it->is_null()) return;
      if (!it->is_string()) {
        shape.emplace_back(name, std::string("'") + name + "' is a string");
        return;
      }
      out = it->get<std::string>();
    };
    auto flag = [&](const char* name) -> std::optional<bool> {
      auto it = body->find(name);
      if (it == body->end() || it->is_null()) return std::nullopt;
      if (!it->is_boolean()) {
        shape.emplace_back(name, std::string("'") + name + "' is true or false");
        return std::nullopt;
      }
      return it->get<bool>();
    };
    std::string kind;
    text("kind", kind);
    auto parsed = ParseKind(kind);
    if (!parsed) return Fail(400, "'kind' is one of useful, problem, contact, rating");
    s.kind = *parsed;
    text("page", s.page);
    s.useful = flag("useful");
    text("doing", s.doing);
    text("wrong", s.wrong);
    text("message", s.message);
    text("name", s.name);
    text("email", s.email);
    s.share = flag("share").value_or(false);
    s.javascript = true;
    if (auto it = body->find("rating"); it != body->end() && !it->is_null()) {
      if (!it->is_number_integer()) {
        shape.emplace_back("rating", "'rating' is a whole number from 1 to 5");
      } else {
        s.rating = it->get<int64_t>();
      }
    }
    if (!shape.empty()) return Fail(400, "some fields are not of the right type", shape);
    FieldErrors errors = Check(s);
    if (!errors.empty()) return Fail(400, "some fields need correcting", errors);
    auto failure = [](const Error& e) {
      Response r = Fail(http::StatusForError(e.code), "the feedback could not be kept; try again");
      if (r.status == 503) r.SetHeader("Retry-After", "1");
      return r;
    };
    // A responder only now: one made and dropped unused would answer 500.
    auto answer = std::make_shared<Answer>(http::Responder(deliver), s.kind);
    auto known = Queue(s, answer, failure);
    if (!known.ok()) {
      // Refused through the responder that holds the request: dropped unsent, it would answer 500.
      log::Warn("feedback.not_stored", {{"error", known.error().message}, {"request_id", req.request_id}});
      answer->Committed(failure(known.error()));
      return std::nullopt;
    }
    nlohmann::json j{{"status", s.kind == Kind::kUseful ? "counted" : "stored"}};
    if (!known->redacted.empty()) j["redacted"] = known->redacted;
    answer->Ready(Response::Json(JsonText(j), 202));
    return std::nullopt;
  }

  void Count(Kind kind, const Stored& stored) {
    if (received_ == nullptr) return;
    std::string outcome = stored.spam ? "spam" : stored.duplicate ? "duplicate" : "stored";
    received_->Inc({std::string(KindName(kind)), outcome});
  }

  module::Platform& platform_;
  bool forms_;
  Inbox inbox_;
  // Writes queued and not yet answered: the destructor waits for them (their callbacks use this).
  std::mutex writes_mu_;
  std::condition_variable writes_cv_;
  int64_t writes_in_flight_ = 0;
  std::unique_ptr<messages::Inbox> messages_;
  FormTimer timer_;
  subjects::SealedData subjects_;
  metrics::Counter* received_ = nullptr;
};

}  // namespace

module::Descriptor Module() {
  return {
      .id = kFeedback,
      .migrations = [] { return Inbox::Migrations(); },
      .storage = [](const config::Config&) { return std::vector<retention::ModuleStorage>{Inbox::Storage()}; },
      .config_tables = {"feedback"},
      .check = [](const config::Config& config, const processing::Register& reg) -> Status {
        STEWARD_ASSIGN_OR_RETURN(auto settings, ReadSettings(*config.document, reg));
        (void)settings;
        return Ok();
      },
      .command_groups = {{"feedback", "What members of the public sent through the feedback forms."}},
      .commands =
          [] {
            using module::Option;
            return std::vector<module::Command>{
                {.path = {"feedback", "export"},
                 .help = "Print the feedback items (JSON lines or CSV), newest first; audited.",
                 .options = {{.name = "--format",
                              .help = "json or csv; default json.",
                              .default_value = "json",
                              .choices = {"json", "csv"}},
                             {.name = "--from", .help = "First day received (YYYY-MM-DD)."},
                             {.name = "--to", .help = "Last day received (YYYY-MM-DD)."},
                             {.name = "--with-personal",
                              .help = "Include what people wrote, of those who let us share it.",
                              .kind = Option::Kind::kFlag},
                             {.name = "--all-personal",
                              .help = "Include what everyone wrote, shared or not (for a rights request or the law).",
                              .kind = Option::Kind::kFlag}},
                 .run = ExportCommand},
            };
          },
      .subjects = [](module::Platform& p) -> Result<std::unique_ptr<subject::SubjectData>> {
        return std::unique_ptr<subject::SubjectData>(
            std::make_unique<subjects::SealedData>(p.SubjectDeps(kFeedback), p.key, p.clock, Inbox::SealedTables()));
      },
      .counters = [](module::Platform& p) { return Counters(p); },
      .start = [](module::Platform& p) -> Result<std::unique_ptr<module::Serving>> {
        STEWARD_ASSIGN_OR_RETURN(auto settings, ReadSettings(*p.config.document, p.reg));
        // No [feedback] and no messages: nothing served.
        if (!settings && !messages::Inbox::Storage().in_use(p.reg)) return std::make_unique<module::Serving>();
        STEWARD_CHECK(p.pages != nullptr, "feedback serves pages");
        return std::unique_ptr<module::Serving>(std::make_unique<FeedbackServing>(p, std::move(settings)));
      },
  };
}

}  // namespace steward::feedback
