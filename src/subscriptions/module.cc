#include "subscriptions/module.h"

#include "module/audience.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>

#include "analytics/api_keys.h"
#include "core/json_text.h"
#include "core/log.h"
#include "core/strings.h"
#include "http/json_body.h"
#include "http/origin.h"
#include "site/pages.h"
#include "staff/accounts.h"
#include "staff/throttle.h"
#include "subscriptions/staff_pages.h"
#include "subscriptions/subscriptions.h"

namespace steward::subscriptions {
namespace {

using http::Method;
using http::Request;
using http::Response;
using module::FieldError;

constexpr module::Id kSubscriptions("subscriptions");
constexpr int64_t kMaxBody = int64_t{16} * 1024;

Response NoStore(Response r) {
  r.SetHeader("Cache-Control", "no-store");
  // The links in the address carry the person's token: no other site is told it. (Not
  // "no-referrer": a browser then sends "Origin: null" with the page's own forms.)
  r.SetHeader("Referrer-Policy", "same-origin");
  return r;
}

std::string CommonPasswordsFile(const config::Config& config) {
  return config.site.web_dir + "/generated/common-passwords.txt";
}

// The site's Subscriptions, over the mail settings, for commands and serving.
Result<std::unique_ptr<Subscriptions>> Open(module::Platform& p, mail::Queue& queue) {
  STEWARD_ASSIGN_OR_RETURN(auto settings, ReadSettings(*p.config.document, p.reg));
  if (!settings) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     p.config.path +
                         ": there is no [subscriptions]: declare the topics people may subscribe to "
                         "(docs/subscriptions.md)");
  }
  STEWARD_ASSIGN_OR_RETURN(auto mail, mail::ReadSettings(*p.config.document, p.reg));
  if (!mail) return MakeError(ErrorCode::kFailedPrecondition, p.config.path + ": [subscriptions] needs a [mail]");
  auto subs = std::make_unique<Subscriptions>(p.store, p.key, p.clock, std::move(*settings), queue, std::move(*mail),
                                              p.base_url, p.config.site.name);
  if (auto policy = staff::PasswordPolicy::Load(CommonPasswordsFile(p.config)); policy.ok()) {
    subs->SetCommonPasswords(std::move(policy->common));
  }
  subs->HonourRestrictions(&p.restrictions);
  return subs;
}

// The topics as the forms show them, with those in `chosen` ticked.
html::List TopicItems(const Settings& settings, const std::vector<std::string>& chosen) {
  html::List items;
  for (size_t i = 0; i < settings.topics.size(); ++i) {
    const Topic& t = settings.topics[i];
    std::string offered;
    for (Frequency f : t.frequencies) offered += (offered.empty() ? "" : ", ") + std::string(FrequencyName(f));
    items.push_back(html::Object{{"id", t.id},
                                 {"title", t.title},
                                 {"description", t.description},
                                 {"first", i == 0},
                                 {"offered", offered},
                                 {"checked", std::find(chosen.begin(), chosen.end(), t.id) != chosen.end()}});
  }
  return items;
}

html::List FrequencyItems(Frequency chosen) {
  html::List items;
  for (Frequency f : {Frequency::kImmediately, Frequency::kDaily, Frequency::kWeekly}) {
    items.push_back(html::Object{{"value", std::string(FrequencyName(f))},
                                 {"text", std::string(FrequencyText(f))},
                                 {"first", f == Frequency::kImmediately},
                                 {"checked", f == chosen}});
  }
  return items;
}

class SubscriptionsServing : public module::Serving {
 public:
  SubscriptionsServing(module::Platform& p, std::unique_ptr<Subscriptions> subs)
      : platform_(p),
        subs_(std::move(subs)),
        keys_(p.services.Find<analytics::ApiKeys>()),
        throttle_(p.clock, p.key, "subthrot"),
        subjects_(p.SubjectDeps(kSubscriptions), p.key, p.clock, Subscriptions::SealedTables()) {
    if (p.metrics != nullptr) {
      events_ =
          &p.metrics->AddCounter("steward_subscriptions_total",
                                 "Subscriptions by event: signed_up (a sign-up or change asked for), "
                                 "confirmed, unsubscribed (from every topic on the page, or by a link's one click).",
                                 {"event"});
    }
  }

  subject::SubjectData* Subjects() override { return &subjects_; }

  void AddRoutes(http::Router& router) override {
    http::RouteOptions form{
        .max_body_bytes = kMaxBody, .blocking = true, .anonymous_write = http::RouteOptions::Anonymous::kForm};
    router.Get("/subscriptions", [this](Request& req) { return SignUpPage(req, {}, {}, Frequency::kImmediately, ""); },
               {.blocking = false});
    router.Post(
        "/subscriptions", [this](Request& req) { return PostSignUp(req); }, form);
    router.Get(
        "/subscriptions/confirm/{token}", [this](Request& req) { return ConfirmPage(req); }, form);
    router.Get("/subscriptions/manage/{token}", [this](Request& req) { return ManageGet(req); }, {.blocking = true});
    router.Post(
        "/subscriptions/manage/{token}", [this](Request& req) { return ManagePost(req); }, form);
    router.Get("/subscriptions/unsubscribe/{token}", [this](Request& req) { return UnsubscribeGet(req); },
               {.blocking = true});
    router.Post(
        "/subscriptions/unsubscribe/{token}", [this](Request& req) { return UnsubscribePost(req); }, form);
    if (subs_->settings().accounts) {
      router.Get("/subscriptions/sign-in", [this](Request& req) { return SignInPage(req, "", {}, 200); },
                 {.blocking = false});
      router.Post(
          "/subscriptions/sign-in", [this](Request& req) { return PostSignIn(req); }, form);
    }
    router.Post(
        "/api/subscriptions", [this](Request& req) { return ApiSignUp(req); }, form);
    router.Add(Method::kOptions, "/api/subscriptions", [this](Request& req) {
      return http::Preflight(req.Header("Origin"), platform_.config.site.script_origins, "POST");
    });
    if (keys_ != nullptr) {
      router.Post("/api/topics/{id}/messages", [this](Request& req) { return ApiPublish(req); },
                  {.max_body_bytes = int64_t{64} * 1024, .blocking = true});
    }
  }

  std::vector<module::StaffPage> StaffPages() override { return SubscriptionsPages(platform_, *subs_); }

  std::vector<module::Task> Tasks() override {
    return {{.name = "subscriptions.send",
             .first = std::chrono::seconds(1),
             .every = std::chrono::seconds(1),
             .run = [this]() -> Status {
               STEWARD_RETURN_IF_ERROR(subs_->RunSends(1000));
               return Ok();
             }},
            {.name = "subscriptions.digests",
             .first = std::chrono::seconds(5),
             .every = std::chrono::minutes(1),
             .run = [this]() -> Status {
               STEWARD_RETURN_IF_ERROR(subs_->StartDigests());
               return Ok();
             }},
            {.name = "subscriptions.unconfirmed",
             .first = std::chrono::minutes(1),
             .every = std::chrono::hours(1),
             .run = [this]() -> Status {
               STEWARD_ASSIGN_OR_RETURN(int64_t purged, subs_->PurgeUnconfirmed());
               if (purged > 0) log::Info("subscriptions.unconfirmed_deleted", {{"count", purged}});
               return Ok();
             }}};
  }

 private:
  // ---- Signing up --------------------------------------------------------------------------------

  html::Object Common() const {
    html::Object data{{"accounts", subs_->settings().accounts}};
    for (const auto& d : platform_.reg.datasets) {
      if (d.module != "subscriptions") continue;
      data["kept_for"] = d.retention.text;
    }
    return data;
  }

  Response SignUpPage(Request& req, const std::vector<std::pair<std::string, std::string>>& errors,
                      const std::vector<std::string>& chosen, Frequency frequency, const std::string& email) {
    html::Object data = Common();
    data["topics"] = TopicItems(subs_->settings(), chosen);
    data["frequencies"] = FrequencyItems(frequency);
    data["topics_legend"] = "What do you want emails about?";
    data["topics_hint"] = "Select all that apply.";
    data["frequency_legend"] = "How often do you want emails?";
    data["email"] = email;
    if (!errors.empty()) {
      data["errors"] = module::ErrorSummary(errors);
      for (const auto& [field, message] : errors) data[field + "_error"] = message;
    }
    return NoStore(platform_.pages->Page(req, "subscriptions",
                                         errors.empty() ? "Get emails from us" : "Error: Get emails from us",
                                         std::move(data), errors.empty() ? 200 : 400));
  }

  bool FromThisSite(const Request& req) const {
    return http::SameOriginOrAllowed(req, platform_.config.server.public_base_url,
                                     platform_.config.site.script_origins);
  }

  Response PostSignUp(Request& req) {
    if (!FromThisSite(req)) return platform_.pages->ErrorPage(403, &req);
    auto form = req.Form();
    if (!form.ok()) return platform_.pages->ErrorPage(400, &req);
    std::string email(Trim(module::Field(*form, "email")));
    std::vector<std::string> topics = module::AllFields(*form, "topics");
    auto frequency = ParseFrequency(module::Field(*form, "frequency"));
    // The honeypot: people never see it.
    if (!module::Field(*form, "giraffe").empty()) return CheckEmailPage(req);
    std::vector<std::pair<std::string, std::string>> errors;
    if (email.empty()) errors.emplace_back("email", "Enter your email address");
    if (topics.empty()) errors.emplace_back("topics", "Choose at least one topic");
    if (!frequency) errors.emplace_back("frequency", "Choose how often you want emails");
    if (errors.empty()) {
      Status s = subs_->SignUp(email, topics, *frequency);
      if (s.ok()) Count("signed_up");
      if (!s.ok() && s.error().code == ErrorCode::kInvalidArgument) {
        errors.push_back(FieldError(s.error(), "email"));
      } else if (!s.ok()) {
        log::Warn("subscriptions.signup_failed", {{"error", s.error().message}, {"request_id", req.request_id}});
        return platform_.pages->ErrorFor(s.error(), req);
      }
    }
    if (!errors.empty()) {
      return SignUpPage(req, errors, topics, frequency.value_or(Frequency::kImmediately), email);
    }
    return CheckEmailPage(req);
  }

  Response CheckEmailPage(Request& req) {
    html::Object data = Common();
    data["days"] = Subscriptions::kConfirmDays;
    return NoStore(platform_.pages->Page(req, "subscriptions_check_email", "Check your email", std::move(data)));
  }

  Response ConfirmPage(Request& req) {
    auto s = subs_->Confirm(req.PathParam("token"));
    if (!s.ok()) return LinkProblem(req, s.error());
    Count("confirmed");
    return Manage(req, *s, subs_->links().Make({.purpose = Links::Purpose::kManage, .subscriber = s->id}, s->secret),
                  "You have subscribed", {}, 200);
  }

  Response LinkProblem(Request& req, const Error& e) {
    if (e.code != ErrorCode::kNotFound) return platform_.pages->ErrorFor(e, req);
    html::Object data = Common();
    return NoStore(platform_.pages->Page(req, "subscriptions_link", "This link has expired or is not right",
                                         std::move(data), 404));
  }

  // ---- Managing ----------------------------------------------------------------------------------

  Response Manage(Request& req, const Subscriber& s, const std::string& token, const std::string& notice,
                  const std::vector<std::pair<std::string, std::string>>& errors, int status) {
    html::Object data = Common();
    data["token"] = token;
    data["topics"] = TopicItems(subs_->settings(), s.topics);
    data["frequencies"] = FrequencyItems(s.frequency);
    data["topics_legend"] = "What you get emails about";
    data["topics_hint"] = "Untick a topic to stop its emails. Untick them all to unsubscribe.";
    data["frequency_legend"] = "How often";
    data["username"] = s.username;
    data["has_username"] = !s.username.empty();
    if (!notice.empty()) data["notice"] = notice;
    if (!errors.empty()) {
      data["errors"] = module::ErrorSummary(errors);
      for (const auto& [field, message] : errors) data[field + "_error"] = message;
    }
    return NoStore(platform_.pages->Page(
        req, "subscriptions_manage", errors.empty() ? "Manage your subscriptions" : "Error: Manage your subscriptions",
        std::move(data), status));
  }

  Result<Subscriber> FromManageLink(Request& req) {
    return subs_->FromLink(req.PathParam("token"), {Links::Purpose::kManage, Links::Purpose::kSession});
  }

  Response ManageGet(Request& req) {
    auto s = FromManageLink(req);
    if (!s.ok()) return LinkProblem(req, s.error());
    return Manage(req, *s, std::string(req.PathParam("token")), "", {}, 200);
  }

  Response ManagePost(Request& req) {
    if (!FromThisSite(req)) return platform_.pages->ErrorPage(403, &req);
    auto s = FromManageLink(req);
    if (!s.ok()) return LinkProblem(req, s.error());
    auto form = req.Form();
    if (!form.ok()) return platform_.pages->ErrorPage(400, &req);
    std::string token(req.PathParam("token"));
    std::string action = module::Field(*form, "action");
    if (action == "unsubscribe-all") {
      auto left = subs_->Unsubscribe(s->id, "all");
      if (!left.ok()) return platform_.pages->ErrorFor(left.error(), req);
      Count("unsubscribed");
      return Unsubscribed(req);
    }
    if (action == "credentials") {
      Status set = subs_->SetCredentials(s->id, module::Field(*form, "username"), module::Field(*form, "password"));
      if (!set.ok() &&
          (set.error().code == ErrorCode::kInvalidArgument || set.error().code == ErrorCode::kAlreadyExists)) {
        return Manage(req, *s, token, "", {FieldError(set.error(), "username")}, 400);
      }
      if (!set.ok()) return platform_.pages->ErrorFor(set.error(), req);
      auto now = subs_->FromLink(token, {Links::Purpose::kManage, Links::Purpose::kSession});
      if (!now.ok()) return LinkProblem(req, now.error());
      return Manage(req, *now, token, "Your username and password are set", {}, 200);
    }
    auto frequency = ParseFrequency(module::Field(*form, "frequency"));
    if (!frequency) return Manage(req, *s, token, "", {{"frequency", "Choose how often you want emails"}}, 400);
    auto kept = subs_->Update(s->id, module::AllFields(*form, "topics"), *frequency);
    if (!kept.ok() && kept.error().code == ErrorCode::kInvalidArgument) {
      return Manage(req, *s, token, "", {FieldError(kept.error(), "topics")}, 400);
    }
    if (!kept.ok()) return platform_.pages->ErrorFor(kept.error(), req);
    if (!*kept) {
      Count("unsubscribed");
      return Unsubscribed(req);
    }
    auto now = subs_->FromLink(token, {Links::Purpose::kManage, Links::Purpose::kSession});
    if (!now.ok()) return LinkProblem(req, now.error());
    return Manage(req, *now, token, "Your subscriptions are updated", {}, 200);
  }

  Response Unsubscribed(Request& req) {
    html::Object data = Common();
    return NoStore(platform_.pages->Page(req, "subscriptions_unsubscribed", "You have unsubscribed", std::move(data)));
  }

  // ---- Unsubscribing (RFC 8058) ------------------------------------------------------------------

  Response UnsubscribeGet(Request& req) {
    // A GET never unsubscribes: mail scanners open every link in a message.
    auto s = subs_->FromLink(req.PathParam("token"), {Links::Purpose::kUnsubscribe});
    if (!s.ok()) return LinkProblem(req, s.error());
    auto link = Links::Read(req.PathParam("token"));
    html::Object data = Common();
    data["token"] = std::string(req.PathParam("token"));
    if (link->topic != "all") {
      if (const Topic* t = subs_->settings().Find(link->topic)) data["topic"] = t->title;
    }
    return NoStore(platform_.pages->Page(req, "subscriptions_unsubscribe", "Unsubscribe", std::move(data)));
  }

  Response UnsubscribePost(Request& req) {
    // The one-click POST comes from the mail provider, not a page of this site: the signed link is
    // what authorises it (RFC 8058 section 3).
    auto form = req.Form();
    if (!form.ok()) return platform_.pages->ErrorPage(400, &req);
    if (module::Field(*form, "List-Unsubscribe") != "One-Click") return platform_.pages->ErrorPage(400, &req);
    auto changed = subs_->UnsubscribeByLink(req.PathParam("token"));
    if (!changed.ok()) return LinkProblem(req, changed.error());
    if (*changed) Count("unsubscribed");
    return Unsubscribed(req);
  }

  // ---- Signing in --------------------------------------------------------------------------------

  Response SignInPage(Request& req, const std::string& username,
                      const std::vector<std::pair<std::string, std::string>>& errors, int status) {
    html::Object data = Common();
    data["username"] = username;
    if (!errors.empty()) {
      data["errors"] = module::ErrorSummary(errors);
      for (const auto& [field, message] : errors) data[field + "_error"] = message;
    }
    return NoStore(platform_.pages->Page(
        req, "subscriptions_sign_in",
        errors.empty() ? "Sign in to manage your subscriptions" : "Error: Sign in to manage your subscriptions",
        std::move(data), status));
  }

  Response PostSignIn(Request& req) {
    if (!FromThisSite(req)) return platform_.pages->ErrorPage(403, &req);
    auto form = req.Form();
    if (!form.ok()) return platform_.pages->ErrorPage(400, &req);
    std::string username(Trim(module::Field(*form, "username")));
    std::string password = module::Field(*form, "password");
    if (username.empty() || password.empty() || username.size() > 64 || password.size() > 256) {
      return SignInPage(req, username, {{"username", "Enter your username and password"}}, 400);
    }
    auto attempt = throttle_.Begin(ToLower(username), req.client_ip ? req.client_ip->ToString() : "unknown");
    if (attempt.wait.count() > 0) {
      Response r = SignInPage(req, username,
                              {{"username", "Too many attempts to sign in: wait a few minutes and try again"}}, 429);
      r.SetHeader("Retry-After", attempt.RetryAfter());
      return r;
    }
    auto s = subs_->SignIn(username, password);
    if (!s.ok()) {
      throttle_.Failed(attempt);
      if (s.error().code != ErrorCode::kPermissionDenied) return platform_.pages->ErrorFor(s.error(), req);
      return SignInPage(req, username, {{"username", "The username or password is not right"}}, 400);
    }
    throttle_.Succeeded(attempt);
    return NoStore(Response::Redirect(subs_->SessionLink(*s)));
  }

  // ---- The APIs ----------------------------------------------------------------------------------

  static Response Json(int status, const nlohmann::json& j) {
    Response r = Response::Json(JsonText(j), status);
    r.SetHeader("Cache-Control", "no-store");
    return r;
  }

  Response ApiSignUp(Request& req) {
    std::string origin(req.Header("Origin"));
    auto answer = [&](Response r) {
      http::AllowOrigin(origin, platform_.config.site.script_origins, r);
      return r;
    };
    if (!FromThisSite(req))
      return answer(Json(403, {{"error", "sign-ups come from the site's own pages and the origins it names"}}));
    auto body = http::ParseJsonBody(req, {.max_depth = 3, .max_bytes = kMaxBody});
    if (!body.ok()) return answer(Json(400, {{"error", body.error().message}}));
    if (!body->is_object()) return answer(Json(400, {{"error", "the body is a JSON object"}}));
    auto email = body->find("email");
    auto topics = body->find("topics");
    auto frequency = body->find("frequency");
    if (email == body->end() || !email->is_string()) return answer(Json(400, {{"error", "'email' is a string"}}));
    if (topics == body->end() || !topics->is_array() || topics->size() > Subscriptions::kMaxTopicsPerSignUp) {
      return answer(Json(400, {{"error", "'topics' is a list of topic ids"}}));
    }
    std::vector<std::string> ids;
    for (const auto& t : *topics) {
      if (!t.is_string()) return answer(Json(400, {{"error", "'topics' is a list of topic ids"}}));
      ids.push_back(t.get<std::string>());
    }
    std::string how = "immediately";
    if (frequency != body->end()) {
      if (!frequency->is_string()) return answer(Json(400, {{"error", "'frequency' is immediately, daily or weekly"}}));
      how = frequency->get<std::string>();
    }
    auto f = ParseFrequency(how);
    if (!f) return answer(Json(400, {{"error", "'frequency' is immediately, daily or weekly"}}));
    Status s = subs_->SignUp(Trim(email->get<std::string>()), ids, *f);
    if (s.ok()) Count("signed_up");
    if (!s.ok() && s.error().code == ErrorCode::kInvalidArgument) {
      auto [field, message] = FieldError(s.error(), "email");
      return answer(Json(400, {{"error", "some fields need correcting"}, {"errors", {{field, message}}}}));
    }
    if (!s.ok()) {
      Response r = Json(http::StatusForError(s.error().code), {{"error", "the sign-up could not be kept; try again"}});
      if (r.status == 503) r.SetHeader("Retry-After", "1");
      return answer(std::move(r));
    }
    return answer(Json(202, {{"status", "check your email to confirm"}}));
  }

  Response ApiPublish(Request& req) {
    std::string_view auth = req.Header("Authorization");
    std::optional<int64_t> key;
    if (auth.starts_with("Bearer ")) key = keys_->Verify(Trim(auth.substr(7)), "topics");
    if (!key) {
      Response r = Json(401, {{"error",
                               "send a key made with steward apikey create --scope topics: "
                               "Authorization: Bearer stw_..."}});
      r.SetHeader("WWW-Authenticate", "Bearer");
      return r;
    }
    auto body = http::ParseJsonBody(req, {.max_depth = 3, .max_bytes = size_t{64} * 1024});
    if (!body.ok()) return Json(400, {{"error", body.error().message}});
    if (!body->is_object()) return Json(400, {{"error", "the body is a JSON object with 'subject' and 'body'"}});
    auto subject = body->find("subject");
    auto text = body->find("body");
    if (subject == body->end() || !subject->is_string() || text == body->end() || !text->is_string()) {
      return Json(400, {{"error", "'subject' and 'body' are strings"}});
    }
    std::string topic(req.PathParam("id"));
    if (subs_->settings().Find(topic) == nullptr) return Json(404, {{"error", "no topic '" + topic + "'"}});
    auto send = subs_->Publish(topic, subject->get<std::string>(), text->get<std::string>(), platform_.trail,
                               "api-key:" + std::to_string(*key), req.request_id);
    if (!send.ok() && send.error().code == ErrorCode::kInvalidArgument) {
      auto [field, message] = FieldError(send.error(), "body");
      return Json(400, {{"error", "some fields need correcting"}, {"errors", {{field, message}}}});
    }
    if (!send.ok()) return Json(http::StatusForError(send.error().code), {{"error", "the message could not be kept"}});
    return Json(202, {{"send", *send}, {"status", "queued for the topic's subscribers"}});
  }

  void Count(const char* event) {
    if (events_ != nullptr) events_->Inc({event});
  }

  module::Platform& platform_;
  metrics::Counter* events_ = nullptr;
  std::unique_ptr<Subscriptions> subs_;
  analytics::ApiKeys* keys_;
  staff::SignInThrottle throttle_;
  subjects::SealedData subjects_;
};

// ---- Commands ------------------------------------------------------------------------------------

// `steward mail send --topic T --subject S --body-file F`: a message to a topic's subscribers,
// queued for serve to send (those who chose a digest get it in their next one).
int SendCommand(module::CommandContext& ctx) {
  module::Platform& p = *ctx.platform;
  mail::Queue queue(p.store, p.key, p.clock);
  auto subs = Open(p, queue);
  if (!subs.ok()) return module::Fail(subs.error(), 2);
  std::ifstream in(ctx.args.Text("--body-file"), std::ios::binary);
  if (!in) {
    return module::Fail(MakeError(ErrorCode::kNotFound, ctx.args.Text("--body-file") + ": cannot be read"), 2);
  }
  std::string body;
  char buffer[65536];
  while (body.size() < (1u << 20) && in.read(buffer, sizeof buffer).gcount() > 0) body.append(buffer, in.gcount());
  auto send = (*subs)->Publish(ctx.args.Text("--topic"), ctx.args.Text("--subject"), body, p.trail, "cli");
  if (!send.ok()) return module::Fail(send.error(), send.error().code == ErrorCode::kInvalidArgument ? 2 : 1);
  // Queue the first emails now; serve's task goes on with the rest.
  auto queued = (*subs)->RunSends(100000000);
  if (!queued.ok()) return module::Fail(queued.error());
  std::printf("send %lld: %lld emails queued; serve sends them through the relay\n", static_cast<long long>(*send),
              static_cast<long long>(*queued));
  return 0;
}

// `steward subscriptions count`: confirmed, unconfirmed and suppressed per topic. No addresses.
int CountCommand(module::CommandContext& ctx) {
  module::Platform& p = *ctx.platform;
  mail::Queue queue(p.store, p.key, p.clock);
  auto subs = Open(p, queue);
  if (!subs.ok()) return module::Fail(subs.error(), 2);
  auto counts = (*subs)->Counts();
  if (!counts.ok()) return module::Fail(counts.error());
  if (ctx.args.Text("--format") == "json") {
    nlohmann::json topics = nlohmann::json::array();
    for (const auto& c : *counts) {
      topics.push_back({{"topic", c.topic},
                        {"confirmed", c.confirmed},
                        {"unconfirmed", c.unconfirmed},
                        {"suppressed", c.suppressed}});
    }
    std::printf("%s\n", JsonText(nlohmann::json{{"topics", topics}}).c_str());
    return 0;
  }
  std::printf("%-30s %10s %12s %11s\n", "topic", "confirmed", "unconfirmed", "suppressed");
  for (const auto& c : *counts) {
    std::printf("%-30s %10lld %12lld %11lld\n", c.topic.c_str(), static_cast<long long>(c.confirmed),
                static_cast<long long>(c.unconfirmed), static_cast<long long>(c.suppressed));
  }
  return 0;
}

// `steward subscriptions import FILE`: subscribers from the site's previous mailing-list system,
// who confirmed there: a CSV with the header "email,topics,frequency" (topics separated by spaces).
// Prints how many were imported and how many lines were skipped, with line numbers and reasons
// (never an address). Audited with the counts.
int ImportCommand(module::CommandContext& ctx) {
  module::Platform& p = *ctx.platform;
  mail::Queue queue(p.store, p.key, p.clock);
  auto subs = Open(p, queue);
  if (!subs.ok()) return module::Fail(subs.error(), 2);
  std::string path = ctx.args.Text("file");
  std::ifstream in(path);
  if (!in) return module::Fail(MakeError(ErrorCode::kNotFound, path + ": cannot be read"), 2);
  struct Line {
    int64_t number;
    std::string email, frequency;
    std::vector<std::string> topics;
  };
  std::vector<Line> lines;
  std::vector<std::pair<int64_t, std::string>> skipped;  // samples: the first few of each pass
  int64_t skipped_count = 0;
  auto skip = [&](int64_t number, const std::string& why) {
    ++skipped_count;
    if (skipped.size() < 10) skipped.emplace_back(number, why);
  };
  std::string text;
  for (int64_t number = 1; std::getline(in, text); ++number) {
    if (!text.empty() && text.back() == '\r') text.pop_back();
    if (number == 1) {
      if (ToLower(Trim(text)) != "email,topics,frequency") {
        return module::Fail(
            MakeError(ErrorCode::kInvalidArgument, path + ":1: the first line is the header email,topics,frequency"),
            2);
      }
      continue;
    }
    if (Trim(text).empty()) continue;
    auto cells = Split(text, ',');
    if (cells.size() != 3) {
      skip(number, "not three fields (email,topics,frequency)");
      continue;
    }
    Line line{number, std::string(Trim(cells[0])), std::string(Trim(cells[2])), {}};
    for (auto t : Split(cells[1], ' ')) {
      if (!Trim(t).empty()) line.topics.emplace_back(Trim(t));
    }
    lines.push_back(std::move(line));
  }
  int64_t imported = 0, already = 0;
  for (size_t at = 0; at < lines.size(); at += 1000) {
    Status s = p.store.Write([&](store::Connection& c) -> Status {
      for (size_t i = at; i < std::min(lines.size(), at + 1000); ++i) {
        const Line& line = lines[i];
        auto f = ParseFrequency(line.frequency);
        if (!f) {
          skip(line.number, "the frequency is immediately, daily or weekly");
          continue;
        }
        // Privacy: subscriptions, brought from the previous system.
        auto added = (*subs)->Import(c, line.email, line.topics, *f);
        if (!added.ok() && added.error().code == ErrorCode::kInvalidArgument) {
          skip(line.number, FieldError(added.error(), "email").second);
          continue;
        }
        if (!added.ok()) return added.error();
        if (*added) {
          ++imported;
        } else {
          ++already;
        }
      }
      return Ok();
    });
    if (!s.ok()) return module::Fail(s.error());
  }
  Status audited = p.trail.Append({.actor = "cli",
                                   .action = "subscriptions.imported",
                                   .details = {{"imported", std::to_string(imported)},
                                               {"already", std::to_string(already)},
                                               {"skipped", std::to_string(skipped_count)}}});
  if (!audited.ok()) return module::Fail(audited.error());
  std::printf("imported %lld; already subscribed or suppressed %lld; skipped %lld\n", static_cast<long long>(imported),
              static_cast<long long>(already), static_cast<long long>(skipped_count));
  std::sort(skipped.begin(), skipped.end());
  for (const auto& [number, why] : skipped)
    std::printf("  line %lld: %s\n", static_cast<long long>(number), why.c_str());
  return 0;
}

// `steward subscriptions unsubscribe`: an email to unsubscribe+TOKEN@… on standard input, as the
// mail server pipes it (the mailto of List-Unsubscribe). Prints what it did; never an address.
int MailtoCommand(module::CommandContext& ctx) {
  module::Platform& p = *ctx.platform;
  mail::Queue queue(p.store, p.key, p.clock);
  auto subs = Open(p, queue);
  if (!subs.ok()) return module::Fail(subs.error(), 2);
  std::string message;
  char buffer[65536];
  size_t n;
  while (message.size() < (1u << 20) && (n = std::fread(buffer, 1, sizeof buffer, stdin)) > 0)
    message.append(buffer, n);
  size_t at = ToLower(message).find("unsubscribe+");
  if (at == std::string::npos) {
    std::printf("no unsubscribe address in the message: nothing done\n");
    return 0;
  }
  size_t start = at + 12, end = message.find('@', start);
  std::string token = end == std::string::npos ? "" : message.substr(start, end - start);
  auto changed = (*subs)->UnsubscribeByLink(ToLower(token));
  if (!changed.ok() && changed.error().code != ErrorCode::kNotFound) return module::Fail(changed.error());
  std::printf(changed.ok() && *changed ? "unsubscribed\n" : "the link names no subscription now: nothing done\n");
  // The mail server gets success either way: a message it cannot deliver must not bounce again.
  return 0;
}

}  // namespace

module::Descriptor Module() {
  return {
      .id = kSubscriptions,
      .migrations = [] { return Subscriptions::Migrations(); },
      .storage =
          [](const config::Config& config) {
            auto storage = Subscriptions::Storage();
            auto accounts = [&] {
              config::Problems problems(config.path);
              auto table = config.document->Root(problems).Child("subscriptions");
              bool on = false;
              if (table) table->Bool("accounts", on);
              return on;
            }();
            if (accounts) {
              storage.stores.emplace_back("user.account.username");
              storage.stores.emplace_back("user.account.password");
            }
            return std::vector<retention::ModuleStorage>{storage};
          },
      .config_tables = {"subscriptions"},
      .check = [](const config::Config& config, const processing::Register& reg) -> Status {
        STEWARD_RETURN_IF_ERROR(ReadSettings(*config.document, reg));
        return Ok();
      },
      .command_groups = {{"subscriptions", "Email subscriptions to the site's topics."}},
      .commands =
          [] {
            using module::Option;
            return std::vector<module::Command>{
                {.path = {"mail", "send"},
                 .help = "Queue a message to a topic's confirmed subscribers (digest subscribers get it in their next "
                         "digest); serve sends it through the relay. Audited.",
                 .options = {{.name = "--topic", .help = "The topic's id.", .required = true},
                             {.name = "--subject", .help = "The email's subject, one line.", .required = true},
                             {.name = "--body-file",
                              .help = "A file holding the message, plain text.",
                              .required = true}},
                 .run = SendCommand},
                {.path = {"subscriptions", "count"},
                 .help = "Print confirmed, unconfirmed and suppressed subscribers per topic (never an address).",
                 .options = {{.name = "--format",
                              .help = "text or json; default text.",
                              .default_value = "text",
                              .choices = {"text", "json"}}},
                 .run = CountCommand},
                {.path = {"subscriptions", "import"},
                 .help = "Bring subscribers who confirmed in the site's previous mailing-list system: a CSV with the "
                         "header email,topics,frequency (topics separated by spaces). Prints counts and the lines "
                         "skipped, never an address. Audited.",
                 .options =
                     {{.name = "file", .help = "The CSV file.", .kind = Option::Kind::kPositional, .required = true}},
                 .run = ImportCommand},
                {.path = {"subscriptions", "unsubscribe"},
                 .help = "Read an email sent to the List-Unsubscribe mailto (unsubscribe+TOKEN@...) on standard "
                         "input, as the mail server pipes it, and unsubscribe its sender's subscription.",
                 .run = MailtoCommand},
            };
          },
      .subjects = [](module::Platform& p) -> Result<std::unique_ptr<subject::SubjectData>> {
        return std::unique_ptr<subject::SubjectData>(std::make_unique<subjects::SealedData>(
            p.SubjectDeps(kSubscriptions), p.key, p.clock, Subscriptions::SealedTables()));
      },
      .start = [](module::Platform& p) -> Result<std::unique_ptr<module::Serving>> {
        STEWARD_ASSIGN_OR_RETURN(auto settings, ReadSettings(*p.config.document, p.reg));
        if (!settings) return std::unique_ptr<module::Serving>(std::make_unique<module::Serving>());
        STEWARD_CHECK(p.pages != nullptr, "subscriptions serves pages");
        auto* queue = p.services.Find<mail::Queue>();
        if (queue == nullptr) return MakeError(ErrorCode::kFailedPrecondition, "[subscriptions] needs [mail]");
        STEWARD_ASSIGN_OR_RETURN(auto subs, Open(p, *queue));
        // Confirmed subscribers are told when the privacy notice changes in a way that affects them.
        if (auto* audience = p.services.Find<module::NoticeAudience>()) {
          audience->Add("email subscribers", [s = subs.get()](const std::function<void(const std::string&)>& each) {
            return s->ForEachConfirmedAddress(each);
          });
        }
        return std::unique_ptr<module::Serving>(std::make_unique<SubscriptionsServing>(p, std::move(subs)));
      },
  };
}

}  // namespace steward::subscriptions
