#include "subscriptions/staff_pages.h"

#include "core/strings.h"

namespace steward::subscriptions {
namespace {

using http::Method;
using http::Request;
using http::Response;
using module::Field;

constexpr const char* kPath = "/admin/subscriptions";

class Pages : public std::enable_shared_from_this<Pages> {
 public:
  Pages(module::Platform& p, Subscriptions& subs) : p_(p), subs_(subs) {}

  std::vector<module::StaffPage> All() {
    auto self = shared_from_this();
    auto page = [&](Method method, std::string pattern, module::StaffHandler handler) {
      return module::StaffPage{.method = method,
                               .pattern = std::move(pattern),
                               .permission = staff::Permission::kCommunications,
                               .handler = std::move(handler)};
    };
    auto home = page(Method::kGet, kPath, module::Bind(self, &Pages::Home));
    home.nav_title = "Subscriptions";
    home.nav_text = "Write to a topic's subscribers, and see what each send came to.";
    home.nav_order = 45;
    return {home, page(Method::kPost, std::string(kPath) + "/preview", module::Bind(self, &Pages::Preview)),
            page(Method::kPost, std::string(kPath) + "/test", module::Bind(self, &Pages::Test)),
            page(Method::kPost, std::string(kPath) + "/send", module::Bind(self, &Pages::Send))};
  }

 private:
  struct Draft {
    std::string topic, subject, body;
  };

  static Draft FromForm(const http::Params& form) {
    return {Field(form, "topic"), std::string(Trim(Field(form, "subject"))), Field(form, "body")};
  }

  html::List Topics(const std::string& chosen) const {
    html::List items;
    for (const auto& t : subs_.settings().topics) {
      items.push_back(html::Object{{"id", t.id}, {"title", t.title}, {"selected", t.id == chosen}});
    }
    return items;
  }

  // The page: counts, the form (with `draft`), the sends. `notice` and `errors` above it.
  Response View(Request& req, module::StaffContext& ctx, const Draft& draft, const std::string& notice,
                const std::vector<std::pair<std::string, std::string>>& errors, int status) {
    html::Object data{{"subject", draft.subject}, {"body", draft.body}, {"topic_options", Topics(draft.topic)}};
    if (!notice.empty()) data["notice"] = notice;
    if (!errors.empty()) {
      for (const auto& [field, message] : errors) data[field + "_error"] = message;
      data["errors"] = module::ErrorSummary(errors);
    }
    auto counts = subs_.Counts();
    if (!counts.ok()) return ctx.layout->ErrorFor(counts.error(), req);
    html::List rows;
    for (const auto& c : *counts) {
      const Topic* t = subs_.settings().Find(c.topic);
      rows.push_back(html::Object{{"title", t ? t->title : c.topic},
                                  {"id", c.topic},
                                  {"confirmed", module::Thousands(c.confirmed)},
                                  {"unconfirmed", module::Thousands(c.unconfirmed)},
                                  {"suppressed", module::Thousands(c.suppressed)}});
    }
    data["counts"] = rows;
    auto sends = subs_.Sends(50);
    if (!sends.ok()) return ctx.layout->ErrorFor(sends.error(), req);
    html::List list;
    for (const auto& s : *sends) {
      const Topic* t = subs_.settings().Find(s.topic);
      std::string what = s.kind == "message" ? (t ? t->title : s.topic) + ": " + s.subject
                                             : (s.kind == "daily" ? "Daily digest" : "Weekly digest");
      list.push_back(html::Object{{"what", what},
                                  {"at", s.created_at.substr(0, 16) + "Z"},
                                  {"by", s.created_by},
                                  {"done", !s.done_at.empty()},
                                  {"queued", module::Thousands(s.queued)},
                                  {"sent", module::Thousands(s.sent)},
                                  {"failed", module::Thousands(s.failed)},
                                  {"bounced", module::Thousands(s.bounced)},
                                  {"unsubscribed", s.kind == "message" ? module::Thousands(s.unsubscribed) : "-"}});
    }
    data["sends"] = list;
    data["any_sends"] = !list.empty();
    return ctx.layout->Page(req, ctx, "admin_subscriptions", "Subscriptions", std::move(data), kPath, status);
  }

  Response Home(Request& req, module::StaffContext& ctx) { return View(req, ctx, {}, "", {}, 200); }

  // The draft's problems, if any.
  std::vector<std::pair<std::string, std::string>> Check(const Draft& d) const {
    std::vector<std::pair<std::string, std::string>> errors;
    if (subs_.settings().Find(d.topic) == nullptr) errors.emplace_back("topic", "Choose a topic");
    if (d.subject.empty() || d.subject.size() > 200)
      errors.emplace_back("subject", "Enter a subject of up to 200 characters");
    if (Trim(d.body).empty() || d.body.size() > 20000)
      errors.emplace_back("body", "Enter a message of up to 20,000 characters");
    return errors;
  }

  Response Preview(Request& req, module::StaffContext& ctx) {
    Draft d = FromForm(ctx.form);
    auto errors = Check(d);
    if (!errors.empty()) return View(req, ctx, d, "", errors, 400);
    const Topic* t = subs_.settings().Find(d.topic);
    int64_t recipients = 0;
    if (auto counts = subs_.Counts(); counts.ok()) {
      for (const auto& c : *counts) {
        if (c.topic == d.topic) recipients = c.confirmed;
      }
    }
    std::string text = subs_.MessageText(*t, d.body, "(a link to unsubscribe from this topic)",
                                         "(a link to the subscriber's own page)");
    html::List paragraphs;
    for (auto part : Split(text, '\n')) paragraphs.push_back(html::Object{{"line", std::string(part)}});
    html::Object data{{"topic", d.topic},  {"topic_title", t->title}, {"subject", d.subject},
                      {"body", d.body},    {"lines", paragraphs},     {"recipients", module::Thousands(recipients)},
                      {"me", ctx.me.email}};
    return ctx.layout->Page(req, ctx, "admin_subscriptions_preview", "Check your message", std::move(data), kPath);
  }

  Response Test(Request& req, module::StaffContext& ctx) {
    Draft d = FromForm(ctx.form);
    auto errors = Check(d);
    if (!errors.empty()) return View(req, ctx, d, "", errors, 400);
    // Privacy: staff-accounts, the staff member's own address, for a test they asked for.
    auto id = subs_.SendTest(ctx.me.email, d.topic, d.subject, d.body);
    if (!id.ok())
      return View(req, ctx, d, "", {{"subject", "The test could not be queued: " + id.error().message}}, 400);
    return View(req, ctx, d, "A test is on its way to your email address", {}, 200);
  }

  Response Send(Request& req, module::StaffContext& ctx) {
    Draft d = FromForm(ctx.form);
    auto errors = Check(d);
    if (!errors.empty()) return View(req, ctx, d, "", errors, 400);
    auto send = subs_.Publish(d.topic, d.subject, d.body, p_.trail, ctx.actor.id, req.request_id);
    if (!send.ok()) return ctx.layout->ErrorFor(send.error(), req);
    return View(req, ctx, {}, "Your message is being sent", {}, 200);
  }

  module::Platform& p_;
  Subscriptions& subs_;
};

}  // namespace

std::vector<module::StaffPage> SubscriptionsPages(module::Platform& p, Subscriptions& subs) {
  return std::make_shared<Pages>(p, subs)->All();
}

}  // namespace steward::subscriptions
