#include "feedback/inbox_pages.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <memory>

#include "core/json_text.h"
#include "core/strings.h"
#include "feedback/messages.h"
#include "mail/mail.h"
#include "site/pages.h"
#include "staff/accounts.h"

namespace steward::feedback {
namespace {

using http::Method;
using http::Request;
using http::Response;

// The items as CSV: the plain columns, and the personal ones where they were opened.
std::string ItemsCsv(const std::vector<Item>& items, bool personal) {
  std::string out = "id,received_at,kind,page,rating,status,assignee,redacted,duplicate,share";
  if (personal) out += ",doing,wrong,message,name,email";
  out += "\r\n";
  for (const auto& it : items) {
    out += std::to_string(it.id) + "," + CsvField(it.received_at) + "," + CsvField(it.kind) + "," + CsvField(it.page) +
           "," + (it.rating > 0 ? std::to_string(it.rating) : "") + "," + CsvField(it.status) + "," +
           CsvField(it.assignee) + "," + CsvField(it.redacted) + "," + (it.duplicate ? "yes" : "no") + "," +
           (it.share ? "yes" : "no");
    if (personal) {
      for (const std::string* v : {&it.doing, &it.wrong, &it.message, &it.name, &it.email}) {
        out += "," + CsvField(it.opened ? *v : "");
      }
    }
    out += "\r\n";
  }
  return out;
}

nlohmann::json ItemJson(const Item& it) {
  nlohmann::json j{
      {"id", it.id},         {"received_at", it.received_at}, {"kind", it.kind},         {"page", it.page},
      {"status", it.status}, {"assignee", it.assignee},       {"redacted", it.redacted}, {"duplicate", it.duplicate},
      {"share", it.share}};
  if (it.rating > 0) j["rating"] = it.rating;
  if (it.opened) {
    for (auto [k, v] : {std::pair{"doing", &it.doing}, std::pair{"wrong", &it.wrong}, std::pair{"message", &it.message},
                        std::pair{"name", &it.name}, std::pair{"email", &it.email}}) {
      if (!v->empty()) j[k] = *v;
    }
  }
  return j;
}

// A filter from the inbox's query (or the command's options); bad values are dropped.
Filter FilterFrom(const http::Params& q) {
  Filter f;
  std::string kind = module::Field(q, "kind");
  if (ParseKind(kind)) f.kind = kind;
  std::string status = module::Field(q, "status");
  if (ValidStatus(status)) f.status = status;
  f.page = std::string(CutUtf8(module::Field(q, "page"), 512));
  auto day = [](const std::string& d) { return d.size() == 10 && module::TimeFilter(d) == d ? d : std::string(); };
  f.from = day(module::Field(q, "from"));
  f.to = day(module::Field(q, "to"));
  f.redacted_only = module::Field(q, "redacted") == "yes";
  std::string offset = module::Field(q, "offset");
  if (!offset.empty() && offset.size() < 9 && std::all_of(offset.begin(), offset.end(), ::isdigit)) {
    f.offset = std::min<int64_t>(std::stoll(offset), kCountLimit);  // pages go as deep as the count
  }
  return f;
}

// One row of the inbox: a feedback item or a message, newest first.
struct Row {
  std::string at;  // when it was received (a message: when it was sent)
  int64_t id = 0;
  const Item* item = nullptr;  // one of these
  const messages::Kept* kept = nullptr;
};

// The caseworker's inbox (/admin/feedback): every item with filters (feedback, and the messages
// brought in from social media where the register declares them), one item with what the person
// wrote, triage, assignment, notes, the usefulness report and the CSV export. Every view of
// personal fields and every export is audited.
class FeedbackPages : public std::enable_shared_from_this<FeedbackPages> {
 public:
  FeedbackPages(module::Platform& p, Inbox& inbox, const messages::Inbox* messages)
      : p_(p), inbox_(inbox), messages_(messages), queue_(p.services.Find<mail::Queue>()) {
    if (queue_ != nullptr) {
      auto settings = mail::ReadSettings(*p.config.document, p.reg);
      if (settings.ok() && settings->has_value()) mail_ = std::move(**settings);
    }
  }

  std::vector<module::StaffPage> Pages() {
    auto self = shared_from_this();
    using P = staff::Permission;
    std::vector<module::StaffPage> pages = {
        {.method = Method::kGet,
         .pattern = "/admin/feedback",
         .permission = P::kHandleCases,
         .handler = module::Bind(self, &FeedbackPages::List),
         .nav_title = "Feedback",
         .nav_text = "What members of the public told you, and how useful each page is.",
         .nav_order = 55},
        {.method = Method::kGet,
         .pattern = "/admin/feedback.csv",
         .permission = P::kHandleCases,
         .handler = module::Bind(self, &FeedbackPages::Csv)},
        {.method = Method::kGet,
         .pattern = "/admin/feedback/usefulness",
         .permission = P::kHandleCases,
         .handler = module::Bind(self, &FeedbackPages::Useful)},
        {.method = Method::kGet,
         .pattern = "/admin/feedback/{id}",
         .permission = P::kHandleCases,
         .handler = module::Bind(self, &FeedbackPages::Show)},
        {.method = Method::kPost,
         .pattern = "/admin/feedback/{id}",
         .permission = P::kHandleCases,
         .handler = module::Bind(self, &FeedbackPages::Update)}};
    if (mail_) {
      pages.push_back({.method = Method::kPost,
                       .pattern = "/admin/feedback/{id}/reply",
                       .permission = P::kHandleCases,
                       .handler = module::Bind(self, &FeedbackPages::Reply)});
    }
    if (messages_ != nullptr) {
      pages.push_back({.method = Method::kGet,
                       .pattern = "/admin/feedback/messages/{id}",
                       .permission = P::kHandleCases,
                       .handler = module::Bind(self, &FeedbackPages::ShowMessage)});
      pages.push_back({.method = Method::kPost,
                       .pattern = "/admin/feedback/messages/{id}",
                       .permission = P::kHandleCases,
                       .handler = module::Bind(self, &FeedbackPages::UpdateMessage)});
    }
    return pages;
  }

 private:
  // The staff who may handle cases, by actor id ("staff:12") with their email address, for
  // assigning an item and for naming who has one.
  std::vector<std::pair<std::string, std::string>> Caseworkers() const {
    std::vector<std::pair<std::string, std::string>> out;
    auto* accounts = p_.services.Find<staff::Accounts>();
    if (accounts == nullptr) return out;
    auto staff = accounts->List();
    if (!staff.ok()) return out;
    for (const auto& m : *staff) {
      if (!m.disabled && staff::AnyGrants(m.roles, staff::Permission::kHandleCases)) {
        out.emplace_back("staff:" + std::to_string(m.id), m.email);
      }
    }
    return out;
  }

  static std::string NameOf(const std::vector<std::pair<std::string, std::string>>& caseworkers,
                            const std::string& actor) {
    for (const auto& [id, email] : caseworkers) {
      if (id == actor) return email;
    }
    return actor;
  }

  http::Response List(Request& req, module::StaffContext& ctx) {
    auto query = req.Query();
    if (!query.ok()) return ctx.layout->Error(400, req);
    Filter f = FilterFrom(*query);
    bool only_messages = module::Field(*query, "kind") == "message" && messages_ != nullptr;
    if (only_messages) f.kind = "message";
    auto names = Caseworkers();
    // One source pages itself; with two, each gives its newest offset + limit, and the page is cut
    // from them merged by time.
    bool both = messages_ != nullptr && !only_messages && f.kind.empty() && f.page.empty() && !f.redacted_only;
    Filter each = f;
    if (both) {
      each.offset = 0;
      each.limit = f.offset + f.limit;
    }
    std::vector<Item> items_listed;
    std::vector<messages::Kept> kept_listed;
    int64_t total = 0;
    if (!only_messages) {
      auto listed = inbox_.List(each);
      if (!listed.ok()) return ctx.layout->ErrorFor(listed.error(), req);
      total += listed->second;
      items_listed = std::move(listed->first);
    }
    if (messages_ != nullptr && (both || only_messages)) {
      auto listed = messages_->List(each);
      if (!listed.ok()) return ctx.layout->ErrorFor(listed.error(), req);
      total += listed->second;
      kept_listed = std::move(listed->first);
    }
    std::vector<Row> rows;
    rows.reserve(items_listed.size() + kept_listed.size());
    for (const auto& it : items_listed) rows.push_back({it.received_at, it.id, &it, nullptr});
    for (const auto& m : kept_listed) rows.push_back({m.sent_at, m.id, nullptr, &m});
    size_t first = 0;
    if (both) {
      std::stable_sort(rows.begin(), rows.end(),
                       [](const Row& a, const Row& b) { return a.at != b.at ? a.at > b.at : a.id > b.id; });
      first = static_cast<size_t>(f.offset);
    }
    html::List items;
    for (size_t i = first; i < rows.size() && i < first + static_cast<size_t>(f.limit); ++i) {
      if (const Item* it = rows[i].item) {
        items.push_back(html::Object{{"href", "/admin/feedback/" + std::to_string(it->id)},
                                     {"id", it->id},
                                     {"received", it->received_at.substr(0, 16).replace(10, 1, " ")},
                                     {"kind", it->kind},
                                     {"page", it->page.empty() ? "(the whole site)" : it->page},
                                     {"rating", it->rating > 0 ? std::to_string(it->rating) : ""},
                                     {"status", it->status},
                                     {"assignee", it->assignee.empty() ? "" : NameOf(names, it->assignee)},
                                     {"redacted", !it->redacted.empty()},
                                     {"duplicate", it->duplicate},
                                     {"contact", it->has_contact}});
      } else {
        const messages::Kept& m = *rows[i].kept;
        items.push_back(html::Object{{"href", "/admin/feedback/messages/" + std::to_string(m.id)},
                                     {"id", m.id},
                                     {"received", m.sent_at.substr(0, 16).replace(10, 1, " ")},
                                     {"kind", "message (" + m.channel + ")"},
                                     {"page", ""},
                                     {"rating", ""},
                                     {"status", m.status},
                                     {"assignee", m.assignee.empty() ? "" : NameOf(names, m.assignee)}});
      }
    }
    std::string kind = only_messages ? "message" : f.kind;
    std::string filter_query = "kind=" + http::PercentEncode(kind) + "&status=" + http::PercentEncode(f.status) +
                               "&page=" + http::PercentEncode(f.page) + "&from=" + f.from + "&to=" + f.to +
                               (f.redacted_only ? "&redacted=yes" : "");
    bool over = total > kCountLimit;
    html::Object data{{"items", items},
                      {"any", !items.empty()},
                      {"total", over ? "over " + module::Thousands(kCountLimit) : module::Thousands(total)},
                      {"kind", kind},
                      {"status", f.status},
                      {"page_filter", f.page},
                      {"from", f.from},
                      {"to", f.to},
                      {"redacted", f.redacted_only},
                      {"messages", messages_ != nullptr},
                      {"filter_query", filter_query}};
    for (const char* k : {"useful", "problem", "contact", "rating", "message"})
      data["kind_" + std::string(k)] = kind == k;
    for (const char* s : {"new", "in-progress", "done", "spam"}) data["status_" + std::string(s)] = f.status == s;
    // Pages go as deep as the count does; past it, a narrower filter finds older items.
    if (f.offset + f.limit < std::min(total, kCountLimit)) {
      data["next"] = filter_query + "&offset=" + std::to_string(f.offset + f.limit);
    }
    if (f.offset > 0) {
      data["previous"] = filter_query + "&offset=" + std::to_string(std::max<int64_t>(0, f.offset - f.limit));
    }
    return ctx.layout->Page(req, ctx, "admin_feedback", "Feedback", std::move(data), "/admin/feedback");
  }

  // "Is this page useful?" per page: yes, no and the share of yes over a period (30 days unless
  // the caseworker says), most answered first, 100 pages a page.
  http::Response Useful(Request& req, module::StaffContext& ctx) {
    auto query = req.Query();
    if (!query.ok()) return ctx.layout->Error(400, req);
    Filter f = FilterFrom(*query);
    UsefulnessQuery q{.from = f.from, .to = f.to, .page = f.page, .limit = 100, .offset = f.offset};
    if (q.to.empty()) q.to = FormatRfc3339(p_.clock.Now()).substr(0, 10);
    if (q.from.empty()) q.from = FormatRfc3339(p_.clock.Now() - std::chrono::hours(24 * 30)).substr(0, 10);
    auto useful = inbox_.UsefulnessReport(q);
    if (!useful.ok()) return ctx.layout->ErrorFor(useful.error(), req);
    html::List pages;
    for (const auto& u : useful->first) {
      int64_t answers = u.yes + u.no;
      int64_t rate = answers > 0 ? (u.yes * 100 + answers / 2) / answers : 0;
      pages.push_back(html::Object{{"page", u.page},
                                   {"yes", module::Thousands(u.yes)},
                                   {"no", module::Thousands(u.no)},
                                   {"rate", answers > 0 ? std::to_string(rate) + "%" : "-"},
                                   {"yes_width", rate},
                                   {"no_width", 100 - rate}});
    }
    std::string filter_query = "page=" + http::PercentEncode(q.page) + "&from=" + q.from + "&to=" + q.to;
    html::Object data{
        {"useful", pages}, {"any", !pages.empty()}, {"total", module::Thousands(useful->second)}, {"from", q.from},
        {"to", q.to},      {"page_filter", q.page}};
    if (q.offset + q.limit < useful->second) {
      data["next"] = filter_query + "&offset=" + std::to_string(q.offset + q.limit);
    }
    if (q.offset > 0) {
      data["previous"] = filter_query + "&offset=" + std::to_string(std::max<int64_t>(0, q.offset - q.limit));
    }
    return ctx.layout->Page(req, ctx, "admin_feedback_usefulness", "Is this page useful?", std::move(data),
                            "/admin/feedback");
  }

  http::Response Csv(Request& req, module::StaffContext& ctx) {
    auto query = req.Query();
    if (!query.ok()) return ctx.layout->Error(400, req);
    Filter f = FilterFrom(*query);
    f.limit = 100000;
    f.offset = 0;
    if (module::Field(*query, "kind") == "message") f.kind = "message";  // messages are not exported here
    bool personal = module::Field(*query, "personal") == "shared";
    f.personal = personal ? Filter::Personal::kShared : Filter::Personal::kNone;
    auto listed = inbox_.List(f);
    if (!listed.ok()) return ctx.layout->ErrorFor(listed.error(), req);
    // Privacy: feedback leaves Steward here; the export is on the record before it is sent.
    Status audited = p_.trail.Append({.actor = ctx.actor.id,
                                      .action = "feedback.exported",
                                      .request_id = req.request_id,
                                      .details = {{"items", std::to_string(listed->first.size())},
                                                  {"personal", personal ? "shared only" : "none"}}});
    if (!audited.ok()) return ctx.layout->ErrorFor(audited.error(), req);
    return module::CsvDownload(ItemsCsv(listed->first, personal), "feedback.csv");
  }

  // What the item page shows of any item: its status, who has it, its notes, and the form that
  // changes them.
  html::Object Common(const module::StaffContext& ctx, const std::string& status, const std::string& assignee,
                      const std::vector<Note>& notes) const {
    auto names = Caseworkers();
    html::List notes_list, options;
    for (const auto& n : notes) {
      notes_list.push_back(
          html::Object{{"at", n.at.substr(0, 16).replace(10, 1, " ")}, {"by", NameOf(names, n.by)}, {"text", n.text}});
    }
    options.push_back(html::Object{{"value", ""}, {"text", "Nobody"}, {"selected", assignee.empty()}});
    bool listed = assignee.empty();
    for (const auto& [id, email] : names) {
      listed = listed || id == assignee;
      options.push_back(html::Object{
          {"value", id}, {"text", email + (id == ctx.actor.id ? " (you)" : "")}, {"selected", id == assignee}});
    }
    // Someone who no longer handles cases still has what they had, until it is given to another.
    if (!listed)
      options.push_back(html::Object{{"value", assignee}, {"text", NameOf(names, assignee)}, {"selected", true}});
    html::Object data{{"status", status},
                      {"assignee", assignee.empty() ? "" : NameOf(names, assignee)},
                      {"assignee_was", assignee},
                      {"mine", assignee == ctx.actor.id},
                      {"assignees", options},
                      {"notes", notes_list},
                      {"any_notes", !notes_list.empty()}};
    for (const char* s : {"new", "in-progress", "done", "spam"}) data["status_" + std::string(s)] = status == s;
    return data;
  }

  http::Response Show(Request& req, module::StaffContext& ctx) { return ShowItem(req, ctx, {}, 200); }

  http::Response ShowItem(Request& req, module::StaffContext& ctx, html::Object typed, int status) {
    auto id = module::IdParam(req);
    if (!id) return ctx.layout->Error(404, req);
    auto item = inbox_.Get(*id);
    if (!item.ok()) return ctx.layout->ErrorFor(item.error(), req);
    if (!*item) return ctx.layout->Error(404, req);
    // Privacy: feedback. A caseworker reads what one person wrote: on the record first.
    Status audited = p_.trail.Append({.actor = ctx.actor.id,
                                      .action = "feedback.viewed",
                                      .target = "feedback:" + std::to_string(*id),
                                      .request_id = req.request_id});
    if (!audited.ok()) return ctx.layout->ErrorFor(audited.error(), req);
    const Item& it = **item;
    html::Object data = Common(ctx, it.status, it.assignee, it.notes);
    for (auto& kv :
         html::Object{{"id", it.id},
                      {"action", "/admin/feedback/" + std::to_string(it.id)},
                      {"received", it.received_at},
                      {"kind", it.kind},
                      {"page", it.page.empty() ? "(the whole site)" : it.page},
                      {"rating", it.rating > 0 ? std::string(RatingText(it.rating)) : ""},
                      {"spam_reason", it.spam_reason},
                      {"redacted", it.redacted},
                      {"duplicate", it.duplicate},
                      {"share", it.share},
                      {"share_with", inbox_.settings().share_with.empty() ? "" : "others named in the notice"},
                      {"doing", it.doing},
                      {"wrong", it.wrong},
                      {"message", it.message},
                      {"name", it.name},
                      {"email", it.email},
                      {"can_reply", mail_.has_value() && !it.email.empty()},
                      {"reply_action", "/admin/feedback/" + std::to_string(it.id) + "/reply"},
                      {"max_reply", module::Thousands(kMaxReply)}}) {
      data[kv.first] = std::move(kv.second);
    }
    for (auto& kv : typed) data[kv.first] = std::move(kv.second);
    return ctx.layout->Page(req, ctx, "admin_feedback_item", "Feedback " + std::to_string(it.id), std::move(data),
                            "/admin/feedback", status);
  }

  http::Response ShowMessage(Request& req, module::StaffContext& ctx) { return ShowKept(req, ctx, {}, 200); }

  http::Response ShowKept(Request& req, module::StaffContext& ctx, html::Object typed, int status) {
    auto id = module::IdParam(req);
    if (!id) return ctx.layout->Error(404, req);
    auto kept = messages_->Get(*id);
    if (!kept.ok()) return ctx.layout->ErrorFor(kept.error(), req);
    if (!*kept) return ctx.layout->Error(404, req);
    // Privacy: messages. A caseworker reads one message and who sent it: on the record first.
    Status audited = p_.trail.Append({.actor = ctx.actor.id,
                                      .action = "messages.viewed",
                                      .target = "message:" + std::to_string(*id),
                                      .request_id = req.request_id});
    if (!audited.ok()) return ctx.layout->ErrorFor(audited.error(), req);
    const messages::Kept& m = **kept;
    html::Object data = Common(ctx, m.status, m.assignee, m.notes);
    for (auto& kv : html::Object{{"id", m.id},
                                 {"is_message", true},
                                 {"action", "/admin/feedback/messages/" + std::to_string(m.id)},
                                 {"received", m.sent_at},
                                 {"channel", m.channel},
                                 {"handle", m.handle},
                                 {"message", m.text},
                                 {"thread", m.thread},
                                 {"link", m.link}}) {
      data[kv.first] = std::move(kv.second);
    }
    for (auto& kv : typed) data[kv.first] = std::move(kv.second);
    return ctx.layout->Page(req, ctx, "admin_feedback_item", "Message " + std::to_string(m.id), std::move(data),
                            "/admin/feedback", status);
  }

  http::Response Update(Request& req, module::StaffContext& ctx) {
    return Change(
        req, ctx, "feedback",
        [this](store::Connection& c, int64_t id, const std::string& status, const std::optional<std::string>& assignee,
               const Note* note) { return Apply(c, id, status, assignee, note, inbox_); });
  }

  http::Response UpdateMessage(Request& req, module::StaffContext& ctx) {
    return Change(
        req, ctx, "message",
        [this](store::Connection& c, int64_t id, const std::string& status, const std::optional<std::string>& assignee,
               const Note* note) { return Apply(c, id, status, assignee, note, *messages_); });
  }

  // Triage and a note, in one write; whether the item exists.
  template <typename Source>
  static Result<bool> Apply(store::Connection& c, int64_t id, const std::string& status,
                            const std::optional<std::string>& assignee, const Note* note, const Source& source) {
    STEWARD_ASSIGN_OR_RETURN(bool found, source.Triage(c, id, status, assignee));
    if (!found || note == nullptr) return found;
    return source.AddNote(c, id, *note);
  }

  using Changer = std::function<Result<bool>(store::Connection&, int64_t, const std::string&,
                                             const std::optional<std::string>&, const Note*)>;

  // The item page's form: status, assignee, a note. Only the plain columns change for triage;
  // a note is sealed with the item.
  http::Response Change(Request& req, module::StaffContext& ctx, const std::string& what, const Changer& change) {
    auto id = module::IdParam(req);
    if (!id) return ctx.layout->Error(404, req);
    std::string status = module::Field(ctx.form, "status");
    std::string to = module::Field(ctx.form, "assignee");
    if (!ValidStatus(status)) return ctx.layout->Error(400, req);
    std::optional<std::string> assignee;
    auto names = Caseworkers();
    bool caseworker = std::any_of(names.begin(), names.end(), [&](const auto& n) { return n.first == to; });
    if (to.empty() || caseworker) {
      assignee = to;
    } else if (to != module::Field(ctx.form, "assignee_was")) {
      return ctx.layout->Error(400, req);
    }
    std::string text = module::Field(ctx.form, "note");
    Note note{FormatRfc3339(p_.clock.Now()), ctx.actor.id, text};
    bool noted = !Trim(text).empty();
    if (Utf8Length(text) > kMaxNote) {
      html::Object typed{{"typed_note", text},
                         {"note_error", "A note must be 2,000 characters or less"},
                         {"errors", html::List{html::Object{{"field", "note"},
                                                            {"message", "A note must be 2,000 characters or less"},
                                                            {"first", true},
                                                            {"last", true}}}}};
      return what == "message" ? ShowKept(req, ctx, std::move(typed), 400) : ShowItem(req, ctx, std::move(typed), 400);
    }
    std::string target = (what == "message" ? "message:" : "feedback:") + std::to_string(*id);
    Status s = p_.store.Write([&](store::Connection& c) -> Status {
      STEWARD_ASSIGN_OR_RETURN(bool found, change(c, *id, status, assignee, noted ? &note : nullptr));
      if (!found) return MakeError(ErrorCode::kNotFound, "no such item");
      // The note's text stays sealed with the item; the trail says only that one was written.
      return p_.trail.AppendIn(
          c, {.actor = ctx.actor.id,
              .action = what == "message" ? "messages.triaged" : "feedback.triaged",
              .target = target,
              .request_id = req.request_id,
              .details = {{"status", status},
                          {"assignee", assignee ? (assignee->empty() ? "nobody" : *assignee) : "unchanged"},
                          {"note", noted ? "added" : "none"}}});
    });
    if (!s.ok()) return ctx.layout->ErrorFor(s.error(), req);
    return Response::Redirect(what == "message" ? "/admin/feedback/messages/" + std::to_string(*id)
                                                : "/admin/feedback/" + std::to_string(*id));
  }

  // A reply by email to the address the person gave, through the mail queue: sealed there under
  // their key, kept as a note on the item (theirs to see, gone with the item), audited without its
  // text.
  static constexpr size_t kMaxReply = 1900;
  http::Response Reply(Request& req, module::StaffContext& ctx) {
    auto id = module::IdParam(req);
    if (!id) return ctx.layout->Error(404, req);
    std::string text = module::Field(ctx.form, "reply");
    std::string problem = Trim(text).empty() ? "Enter your reply"
                          : Utf8Length(text) > kMaxReply
                              ? "A reply must be " + module::Thousands(kMaxReply) + " characters or less"
                              : "";
    auto refuse = [&](const std::string& message) {
      return ShowItem(req, ctx,
                      {{"typed_reply", text},
                       {"reply_error", message},
                       {"errors", html::List{html::Object{
                                      {"field", "reply"}, {"message", message}, {"first", true}, {"last", true}}}}},
                      400);
    };
    if (!problem.empty()) return refuse(problem);
    auto item = inbox_.Get(*id);
    if (!item.ok()) return ctx.layout->ErrorFor(item.error(), req);
    if (!*item) return ctx.layout->Error(404, req);
    // Privacy: feedback. The address the person gave for a reply, opened to send one.
    const Item& it = **item;
    if (it.email.empty()) return refuse("This person gave no email address to reply to");
    std::string site = p_.config.site.name;
    mail::Email email{.to = it.email,
                      .subject = "Your message to " + site,
                      .text = text + "\n\n---\n\nThis is our answer to the message you sent " + site + " on " +
                              it.received_at.substr(0, 10) +
                              ". Replies to this email are not read: to write to us again, use " + p_.base_url() +
                              "/feedback",
                      .batch = "feedback:reply"};
    Status s = p_.store.Write([&](store::Connection& c) -> Status {
      auto queued = queue_->Enqueue(c, email, *mail_);
      if (!queued.ok()) return queued.error();
      STEWARD_ASSIGN_OR_RETURN(
          bool found,
          inbox_.AddNote(c, *id, Note{FormatRfc3339(p_.clock.Now()), ctx.actor.id, "Replied by email:\n\n" + text}));
      if (!found) return MakeError(ErrorCode::kNotFound, "no such item");
      return p_.trail.AppendIn(c, {.actor = ctx.actor.id,
                                   .action = "feedback.replied",
                                   .target = "feedback:" + std::to_string(*id),
                                   .request_id = req.request_id,
                                   .details = {{"characters", std::to_string(Utf8Length(text))}}});
    });
    if (!s.ok() && s.error().code == ErrorCode::kFailedPrecondition) {
      return refuse("This address bounced for good or its owner complained: Steward will not email it again");
    }
    if (!s.ok()) return ctx.layout->ErrorFor(s.error(), req);
    return Response::Redirect("/admin/feedback/" + std::to_string(*id));
  }

  module::Platform& p_;
  Inbox& inbox_;
  const messages::Inbox* messages_;
  mail::Queue* queue_;
  std::optional<mail::Settings> mail_;
};

}  // namespace

std::vector<module::StaffPage> InboxPages(module::Platform& p, Inbox& inbox, const messages::Inbox* messages) {
  return std::make_shared<FeedbackPages>(p, inbox, messages)->Pages();
}

int ExportCommand(module::CommandContext& ctx) {
  module::Platform& p = *ctx.platform;
  auto settings = ReadSettings(*p.config.document, p.reg);
  if (!settings.ok()) return module::Fail(settings.error(), 2);
  Inbox inbox(p.store, p.key, p.clock, settings->value_or(Settings{}));
  http::Params q;
  for (const char* k : {"from", "to"}) q.push_back({k, ctx.args.Text(std::string("--") + k)});
  Filter f = FilterFrom(q);
  for (const char* k : {"--from", "--to"}) {
    if (!ctx.args.Text(k).empty() && (std::string(k) == "--from" ? f.from : f.to).empty()) {
      return module::Fail(MakeError(ErrorCode::kInvalidArgument, std::string(k) + " is a day: YYYY-MM-DD"), 2);
    }
  }
  f.status = "";
  f.limit = INT64_MAX / 2;
  bool all = ctx.args.Flag("--all-personal");
  bool personal = all || ctx.args.Flag("--with-personal");
  f.personal = all ? Filter::Personal::kAll : personal ? Filter::Personal::kShared : Filter::Personal::kNone;
  auto listed = inbox.List(f);
  if (!listed.ok()) return module::Fail(listed.error());
  // Privacy: feedback leaves Steward here; the export is on the record first.
  Status audited = p.trail.Append({.actor = "cli",
                                   .action = "feedback.exported",
                                   .details = {{"items", std::to_string(listed->first.size())},
                                               {"personal", all        ? "all"
                                                            : personal ? "shared only"
                                                                       : "none"}}});
  if (!audited.ok()) return module::Fail(audited.error());
  if (ctx.args.Text("--format") == "csv") {
    std::fputs(ItemsCsv(listed->first, personal).c_str(), stdout);
  } else {
    for (const auto& it : listed->first) std::printf("%s\n", JsonText(ItemJson(it)).c_str());
  }
  return 0;
}

}  // namespace steward::feedback
