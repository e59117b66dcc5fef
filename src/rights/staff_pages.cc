#include "rights/staff_pages.h"

#include <algorithm>
#include <map>
#include <set>
#include <variant>

#include "core/days.h"
#include "core/strings.h"
#include "rights/actions.h"
#include "rights/letter_pages.h"
#include "rights/letters.h"
#include "rights/reminders.h"
#include "notice/notice.h"
#include "staff/accounts.h"

namespace steward::rights {
namespace {

using http::Method;
using http::Request;
using http::Response;
using module::Field;
using module::FieldError;
using Errors = std::vector<std::pair<std::string, std::string>>;

constexpr const char* kPath = "/admin/rights";

std::string RightsText(const std::vector<Right>& rights) {
  std::string out;
  for (Right r : rights) out += (out.empty() ? "" : ", ") + std::string(RightShort(r));
  return out;
}

const std::map<std::string, std::string>& ChannelTitles() {
  static const std::map<std::string, std::string> kTitles = {
      {"web", "On the website"},     {"email", "By email"},      {"letter", "By letter"},
      {"telephone", "By telephone"}, {"in-person", "In person"}, {"social-media", "On social media"}};
  return kTitles;
}

const std::map<std::string, std::string>& ClosingTitles() {
  static const std::map<std::string, std::string> kTitles = {{"answered", "Answered"},
                                                             {"refused", "Refused"},
                                                             {"withdrawn", "Withdrawn by the person"},
                                                             {"closed", "Closed: the clarification never came"}};
  return kTitles;
}

// The kinds of identifier a caseworker can add, with their fields on the form.
struct IdentifierField {
  const char* field;
  subject::KeyKind kind;
  const char* label;
  const char* hint;
};
const std::vector<IdentifierField>& IdentifierFields() {
  static const std::vector<IdentifierField> kFields = {
      {"telephone", subject::KeyKind::kTelephone, "Telephone number", ""},
      {"ip", subject::KeyKind::kIpAddress, "IP address or range",
       "For example 203.0.113.7, or 203.0.113.0/24 for the addresses of a network"},
      {"consent_id", subject::KeyKind::kConsentId, "Cookie consent reference",
       "32 letters and digits, from the cookies page of the person's browser"},
      {"visitor_id", subject::KeyKind::kVisitorId, "Visitor cookie", "32 letters and digits"},
      {"handle", subject::KeyKind::kHandle, "Social media or webchat name",
       "The channel and the name, for example x:@someone"},
  };
  return kFields;
}

class Pages : public std::enable_shared_from_this<Pages> {
 public:
  Pages(module::Platform& p, Cases& cases, Delivery delivery) : p_(p), cases_(cases), delivery_(delivery) {}

  std::vector<module::StaffPage> All() {
    auto self = shared_from_this();
    auto page = [&](Method method, std::string pattern, module::StaffHandler handler) {
      return module::StaffPage{.method = method,
                               .pattern = std::move(pattern),
                               .permission = staff::Permission::kRightsRequests,
                               .handler = std::move(handler)};
    };
    auto home = page(Method::kGet, kPath, module::Bind(self, &Pages::Queue));
    home.nav_title = "Rights requests";
    home.nav_text = "Requests to see, correct, delete or restrict personal data, by the day each is due.";
    home.nav_order = 30;
    std::string one = std::string(kPath) + "/{id}";
    return {home,
            page(Method::kGet, std::string(kPath) + "/new", module::Bind(self, &Pages::NewPage)),
            page(Method::kPost, std::string(kPath) + "/new", module::Bind(self, &Pages::Create)),
            page(Method::kGet, one, module::Bind(self, &Pages::CasePage)),
            page(Method::kPost, one + "/assign", module::Bind(self, &Pages::Assign)),
            page(Method::kPost, one + "/note", module::Bind(self, &Pages::Note)),
            page(Method::kPost, one + "/proof", module::Bind(self, &Pages::Proof)),
            page(Method::kPost, one + "/clock", module::Bind(self, &Pages::Clock)),
            page(Method::kPost, one + "/extend", module::Bind(self, &Pages::Extend)),
            page(Method::kPost, one + "/search", module::Bind(self, &Pages::Search)),
            page(Method::kPost, one + "/export", module::Bind(self, &Pages::Export)),
            page(Method::kPost, one + "/erase", module::Bind(self, &Pages::Erase)),
            page(Method::kPost, one + "/restrict", module::Bind(self, &Pages::Restrict)),
            page(Method::kPost, one + "/rectify", module::Bind(self, &Pages::Rectify)),
            page(Method::kPost, one + "/object", module::Bind(self, &Pages::Object)),
            page(Method::kPost, one + "/close", module::Bind(self, &Pages::Close))};
  }

 private:
  Actor Staff(const Request& req, const module::StaffContext& ctx) const {
    return Actor{.id = ctx.actor.id, .request_id = req.request_id};
  }

  int64_t Today() const { return UkDay(p_.clock.Now()); }

  Response Render(Request& req, module::StaffContext& ctx, std::string_view tmpl, std::string title, html::Object data,
                  const Errors& errors, int status) {
    return RenderStaff(req, ctx, tmpl, std::move(title), std::move(data), errors, status);
  }

  // Staff who handle rights requests: "staff:3" -> email.
  std::map<std::string, std::string> Handlers() const { return Caseworkers(p_.services.Find<staff::Accounts>()); }

  static std::string NameOf(const std::map<std::string, std::string>& names, const std::string& actor) {
    auto it = names.find(actor);
    if (it != names.end()) return it->second;
    if (actor == "self") return "the person";
    if (actor == "cli") return "the command line";
    return actor;
  }

  // "Due in 3 days", "Due today", "3 days overdue", for an open case.
  std::string DueTag(const Summary& s) const {
    int64_t left = s.due.day - Today();
    if (s.status != "open") return "";
    if (left < 0) return std::to_string(-left) + (left == -1 ? " day overdue" : " days overdue");
    if (left == 0) return "Due today";
    return "Due in " + std::to_string(left) + (left == 1 ? " day" : " days");
  }

  html::Object Row(const Summary& s, const std::map<std::string, std::string>& names) const {
    int64_t left = s.due.day - Today();
    std::string assignee = s.assignee ? "staff:" + std::to_string(*s.assignee) : "";
    return html::Object{{"id", s.id},
                        {"reference", s.reference},
                        {"rights", RightsText(s.rights)},
                        {"received", module::LongDay(s.received)},
                        {"due", module::LongDay(s.due.day)},
                        {"tag", DueTag(s)},
                        {"overdue", s.status == "open" && left < 0},
                        {"soon", s.status == "open" && left >= 0 && left <= 7},
                        {"clock", s.ClockText()},
                        {"status", ClosingTitles().count(s.status) ? ClosingTitles().at(s.status) : s.status},
                        {"closed", s.closed ? module::LongDay(*s.closed) : ""},
                        {"on_time", s.on_time},
                        {"assignee", assignee.empty() ? "Nobody" : NameOf(names, assignee)}};
  }

  // The case a page about {id} acts on and the site's directory of every module's subject data, or
  // the page to answer with when there is no such case (404) or no directory (503).
  struct Targeted {
    std::optional<int64_t> id;
    std::optional<Case> c;
    subject::Directory* dir = nullptr;
  };
  std::variant<Targeted, Response> Target(Request& req, module::StaffContext& ctx) {
    Targeted t{.id = module::IdParam(req)};
    if (!t.id) return ctx.layout->Error(404, req);
    auto c = cases_.Get(*t.id);
    if (!c.ok()) return ctx.layout->ErrorFor(c.error(), req);
    t.c = std::move(*c);
    t.dir = p_.directory ? p_.directory() : nullptr;
    if (t.dir == nullptr) return ctx.layout->Error(503, req);
    return t;
  }

  // Those the data went to, to tell of an erasure or a correction (Article 19).
  static html::List Recipients(const std::vector<std::string>& names) {
    html::List out;
    for (const auto& r : names) out.push_back(html::Object{{"name", r}});
    return out;
  }

  // ---- The queue and the figures -----------------------------------------------------------------

  Response Queue(Request& req, module::StaffContext& ctx) {
    auto query = req.Query();
    if (!query.ok()) return ctx.layout->Error(400, req);
    bool closed = Field(*query, "show") == "closed";
    bool mine = Field(*query, "show") == "mine";
    QueueFilter filter{.open = !closed};
    if (mine) filter.assignee = ctx.me.id;
    auto queue = cases_.Queue(filter);
    if (!queue.ok()) return ctx.layout->ErrorFor(queue.error(), req);
    auto names = Handlers();
    html::List rows;
    int64_t overdue = 0, soon = 0;
    for (const auto& s : *queue) {
      int64_t left = s.due.day - Today();
      overdue += left < 0 ? 1 : 0;
      soon += left >= 0 && left <= 7 ? 1 : 0;
      rows.push_back(Row(s, names));
    }
    // The DPO's figures: requests received in the last twelve months.
    int64_t today = Today();
    int64_t from = AddMonths(today, -12) + 1;
    auto figures = cases_.Count(from, today + 1);
    if (!figures.ok()) return ctx.layout->ErrorFor(figures.error(), req);
    html::List by_right;
    for (const auto& [right, n] : figures->by_right) {
      by_right.push_back(html::Object{{"right", std::string(RightShort(right))}, {"count", n}});
    }
    html::Object data{{"rows", rows},
                      {"any", !rows.empty()},
                      {"closed", closed},
                      {"mine", mine},
                      {"open", !closed && !mine},
                      {"overdue", overdue},
                      {"soon", soon},
                      {"any_overdue", overdue > 0},
                      {"any_soon", soon > 0},
                      {"from", module::LongDay(from)},
                      {"received", figures->received},
                      {"answered", figures->answered},
                      {"answered_on_time", figures->answered_on_time},
                      {"answered_late", figures->answered - figures->answered_on_time},
                      {"refused", figures->refused},
                      {"withdrawn", figures->withdrawn},
                      {"extended", figures->extended},
                      {"still_open", figures->open},
                      {"still_overdue", figures->overdue},
                      {"by_right", by_right},
                      {"nation", std::string(NationTitle(cases_.settings().nation))}};
    return Render(req, ctx, "admin_rights", "Rights requests", std::move(data), {}, 200);
  }

  // ---- A request entered by a caseworker -----------------------------------------------------------

  Response NewPage(Request& req, module::StaffContext& ctx) { return New(req, ctx, {}, {}, 200); }

  Response New(Request& req, module::StaffContext& ctx, const http::Params& form, const Errors& errors, int status) {
    std::set<std::string> chosen;
    for (const auto& r : module::AllFields(form, "rights")) chosen.insert(r);
    html::List rights;
    int n = 0;
    for (Right r : AllRights()) {
      std::string name(RightName(r));
      rights.push_back(html::Object{{"value", name},
                                    {"text", std::string(RightTitle(r))},
                                    {"id", n++ == 0 ? std::string("rights") : "rights-" + name},
                                    {"checked", chosen.count(name) > 0}});
    }
    std::string channel = Field(form, "channel");
    html::List channels;
    n = 0;
    for (const auto& c : Channels()) {
      if (c == "web") continue;  // the website's own form opens those
      channels.push_back(html::Object{{"value", c},
                                      {"text", ChannelTitles().at(c)},
                                      {"id", n++ == 0 ? std::string("channel") : "channel-" + c},
                                      {"checked", channel == c}});
    }
    std::map<std::string, std::string> by_field(errors.begin(), errors.end());
    html::List identifiers;
    for (const auto& f : IdentifierFields()) {
      html::Object item{{"field", std::string(f.field)},
                        {"label", std::string(f.label)},
                        {"hint", std::string(f.hint)},
                        {"value", Field(form, f.field)}};
      // An identifier's error is shown at its own field.
      if (by_field.count(f.field)) item["error"] = by_field.at(f.field);
      identifiers.push_back(std::move(item));
    }
    std::string identity = Field(form, "identity");
    html::Object data{{"rights", rights},
                      {"legend", "What did the person ask for?"},
                      {"channels", channels},
                      {"identifiers", identifiers},
                      {"name", Field(form, "name")},
                      {"email", Field(form, "email")},
                      {"postal_address", Field(form, "postal_address")},
                      {"details", Field(form, "details")},
                      {"identity_known", identity != "ask"},
                      {"identity_ask", identity == "ask"}};
    data["received_date"] = module::DateInput("received", form, Today(), module::HasError(errors, "received"));
    return Render(req, ctx, "admin_rights_new", "Record a rights request", std::move(data), errors, status);
  }

  Response Create(Request& req, module::StaffContext& ctx) {
    const http::Params& form = ctx.form;
    NewCase c;
    Errors errors;
    for (const auto& r : module::AllFields(form, "rights")) {
      if (auto right = ParseRight(r)) c.rights.push_back(*right);
    }
    if (c.rights.empty()) errors.emplace_back("rights", "Choose what the person asked for");
    c.channel = Field(form, "channel");
    if (c.channel.empty()) errors.emplace_back("channel", "Choose how the request came in");
    auto received = module::DateField(form, "received");
    if (!received) errors.emplace_back("received", "Enter the day the request arrived, such as 27 3 2026");
    c.received = received.value_or(0);
    c.name = Field(form, "name");
    c.email = std::string(Trim(Field(form, "email")));
    c.postal_address = Field(form, "postal_address");
    c.details = Field(form, "details");
    c.identity_known = Field(form, "identity") != "ask";
    for (const auto& f : IdentifierFields()) {
      std::string value(Trim(Field(form, f.field)));
      if (value.empty()) continue;
      auto key = subject::Key::Make(f.kind, value);
      if (!key.ok()) {
        errors.emplace_back(f.field, std::string("Enter the ") + ToLower(f.label) + " in the right format");
        continue;
      }
      c.identifiers.push_back(*key);
    }
    if (errors.empty()) {
      auto id = cases_.Open(c, Staff(req, ctx));
      if (id.ok()) return Response::Redirect(std::string(kPath) + "/" + std::to_string(*id));
      if (id.error().code != ErrorCode::kInvalidArgument) return ctx.layout->ErrorFor(id.error(), req);
      errors.push_back(FieldError(id.error(), "details"));
    }
    return New(req, ctx, form, errors, 400);
  }

  // ---- One case ------------------------------------------------------------------------------------

  Response CasePage(Request& req, module::StaffContext& ctx) { return Show(req, ctx, {}, {}, 200); }

  Response Show(Request& req, module::StaffContext& ctx, html::Object extra, const Errors& errors, int status) {
    auto id = module::IdParam(req);
    if (!id) return ctx.layout->Error(404, req);
    auto c = cases_.Get(*id);
    if (!c.ok()) return ctx.layout->ErrorFor(c.error(), req);
    // Privacy: rights requests: the requester's details, shown to the caseworker (audited).
    Status audited = p_.trail.Append({.actor = ctx.actor.id,
                                      .action = "rights.viewed",
                                      .target = "rights:" + std::to_string(*id),
                                      .request_id = req.request_id});
    if (!audited.ok()) return ctx.layout->ErrorFor(audited.error(), req);
    auto names = Handlers();
    html::Object data = Row(*c, names);
    for (auto& kv : extra) data[kv.first] = std::move(kv.second);
    data["base"] = std::string(kPath) + "/" + std::to_string(*id);
    data["is_open"] = c->status == "open";
    data["channel"] = ChannelTitles().count(c->channel) ? ChannelTitles().at(c->channel) : c->channel;
    data["moved_because"] = c->due.moved_because;
    data["calendar"] = module::LongDay(c->due.calendar);
    data["paused_days"] = c->due.paused_days;
    data["any_paused"] = c->due.paused_days > 0;
    data["beyond_holidays"] = c->due.beyond_holidays;
    data["extended"] = c->extended;
    data["name"] = c->name;
    data["email"] = c->email;
    data["postal_address"] = c->postal_address;
    data["details"] = c->details;
    data["outcome"] = c->outcome;
    html::List ids;
    for (const auto& k : c->identifiers) {
      ids.push_back(html::Object{{"kind", std::string(subject::KindName(k.kind()))}, {"value", k.value()}});
    }
    data["identifiers"] = ids;
    data["any_identifiers"] = !ids.empty();
    // What can be done next, by the clock's state.
    bool open = c->status == "open";
    bool awaiting = c->identity == Identity::kAwaitingProof;
    bool clarifying = !awaiting && c->due.waiting;
    data["awaiting_proof"] = open && awaiting;
    data["can_ask_proof"] = open && !awaiting && !c->proof_received && c->pauses.empty();
    data["clarifying"] = open && clarifying;
    data["can_pause"] = open && !awaiting && !clarifying;
    data["can_extend"] = open && !awaiting && !c->extended && Today() <= c->due.day;
    data["can_export"] = std::any_of(c->rights.begin(), c->rights.end(),
                                     [](Right r) { return r == Right::kAccess || r == Right::kPortability; });
    data["can_erase"] =
        open && !awaiting && std::find(c->rights.begin(), c->rights.end(), Right::kErasure) != c->rights.end();
    data["can_rectify"] =
        open && !awaiting && std::find(c->rights.begin(), c->rights.end(), Right::kRectification) != c->rights.end();
    html::List categories;
    std::string chosen = data.count("rectify_category") && data["rectify_category"].AsString() != nullptr
                             ? *data["rectify_category"].AsString()
                             : "";
    for (const auto& [category, label] : CorrectableCategories(p_.reg)) {
      categories.push_back(html::Object{{"value", category}, {"text", label}, {"selected", category == chosen}});
    }
    data["categories"] = categories;
    data["can_object"] =
        open && !awaiting && std::find(c->rights.begin(), c->rights.end(), Right::kObjection) != c->rights.end();
    html::List objectable;
    for (const auto& o : ObjectablePurposes(p_.reg)) {
      std::string modules;
      for (const auto& m : o.modules) modules += (modules.empty() ? "" : ", ") + m;
      objectable.push_back(
          html::Object{{"value", o.purpose->id},
                       {"id", objectable.empty() ? std::string("purposes") : "purposes-" + o.purpose->id},
                       {"text", o.purpose->description.empty() ? o.purpose->id : o.purpose->description},
                       {"basis", std::string(notice::BasisLabel(o.purpose->basis))},
                       {"modules", modules}});
    }
    data["objectable"] = objectable;
    data["any_objectable"] = !objectable.empty();
    data["restricted"] = Restricted(*c);
    data["can_restrict"] = open && !awaiting && std::any_of(c->rights.begin(), c->rights.end(), [](Right r) {
                             return r == Right::kRestriction || r == Right::kRectification;
                           });
    if (c->extended && c->extension_told) data["extension_told"] = module::LongDay(*c->extension_told);
    if (open && !c->extended && !awaiting) data["extend_by"] = module::LongDay(c->due.day);
    // A day refused comes back as it was typed (the form posted is the page's on an error).
    for (const char* form : {"proof", "clock"})
      data[std::string(form) + "_date"] = module::DateInput(form, ctx.form, Today(), module::HasError(errors, form));
    // Assignment.
    html::List options;
    std::string assignee = c->assignee ? "staff:" + std::to_string(*c->assignee) : "";
    options.push_back(html::Object{{"value", ""}, {"text", "Nobody"}, {"selected", assignee.empty()}});
    bool listed = assignee.empty();
    for (const auto& [actor, email] : names) {
      listed = listed || actor == assignee;
      options.push_back(html::Object{{"value", actor.substr(6)},
                                     {"text", email + (actor == ctx.actor.id ? " (you)" : "")},
                                     {"selected", actor == assignee}});
    }
    if (!listed) {
      options.push_back(
          html::Object{{"value", assignee.substr(6)}, {"text", NameOf(names, assignee)}, {"selected", true}});
    }
    data["assignees"] = options;
    html::List closings;
    int n = 0;
    for (const char* s : {"answered", "refused", "withdrawn", "closed"}) {
      closings.push_back(
          html::Object{{"value", std::string(s)},
                       {"text", ClosingTitles().at(s)},
                       {"id", n++ == 0 ? std::string("status") : "status-" + std::string(s)},
                       {"checked", data.count("close_status") && data["close_status"].AsString() != nullptr &&
                                       *data["close_status"].AsString() == s}});
    }
    data["closings"] = closings;
    html::List timeline;
    for (const auto& e : c->timeline) {
      timeline.push_back(html::Object{{"at", e.at.substr(0, 16).replace(10, 1, " ")},
                                      {"by", NameOf(names, e.actor)},
                                      {"what", EventText(e.kind)},
                                      {"text", e.text}});
    }
    data["timeline"] = timeline;
    html::List letters;
    for (Letter l : AllLetters()) {
      if (l == Letter::kCopy && !*data["can_export"].AsBool()) continue;
      letters.push_back(html::Object{{"value", std::string(LetterName(l))}, {"text", std::string(LetterTitle(l))}});
    }
    data["letters"] = letters;
    data["writes_email"] = WritesEmail(delivery_, *c);
    if (auto query = req.Query(); query.ok()) {
      if (auto sent = ParseLetter(Field(*query, "sent"))) data["sent"] = std::string(LetterTitle(*sent));
    }
    return Render(req, ctx, "admin_rights_case", c->reference, std::move(data), errors, status);
  }

  static std::string EventText(const std::string& kind) {
    static const std::map<std::string, std::string> kText = {
        {"opened", "Request recorded"},
        {"assigned", "Assigned"},
        {"note", "Note"},
        {"proof_asked", "Proof of identity asked for: the clock waits"},
        {"proof_received", "Proof of identity arrived: the month starts"},
        {"paused", "Clarification asked for: the clock stopped"},
        {"resumed", "Clarification arrived: the clock runs again"},
        {"extended", "Extended by two months"},
        {"searched", "Searched what we hold"},
        {"exported", "Copy of the data made"},
        {"erased", "Data erased"},
        {"restricted", "Data restricted: kept, not used"},
        {"restriction_lifted", "Restriction lifted"},
        {"acknowledged", "Acknowledgement emailed, with the reference and the due date"},
        {"wrote", "Written to the person"},
        {"rectified", "Data corrected"},
        {"objection_upheld", "Objection upheld: the data is kept, not used"},
        {"objection_refused", "Objection not upheld"},
        {"downloaded", "Copy downloaded by the person"},
        {"reminded", "Caseworkers reminded"},
        {"answered", "Answered"},
        {"refused", "Refused"},
        {"withdrawn", "Withdrawn by the person"},
        {"closed", "Closed without an answer"}};
    auto it = kText.find(kind);
    return it == kText.end() ? kind : it->second;
  }

  // Back to the case once a step is done, or on to the letter that tells the person of it.
  Response Done(Request& req, module::StaffContext& ctx, const Status& s, const std::string& field,
                std::optional<Letter> tell = std::nullopt) {
    auto id = module::IdParam(req);
    if (!id) return ctx.layout->Error(404, req);
    std::string base = std::string(kPath) + "/" + std::to_string(*id);
    if (s.ok() && tell) return Response::Redirect(base + "/write?letter=" + std::string(LetterName(*tell)));
    if (s.ok()) return Response::Redirect(base);
    if (s.error().code == ErrorCode::kInvalidArgument || s.error().code == ErrorCode::kFailedPrecondition) {
      auto [f, message] = FieldError(s.error(), field);
      // The case calls a step's date "day"; on the page it is the form's date input.
      if (f == "day") f = field;
      // A precondition's message is a sentence about the case: show it at the form's field.
      if (s.error().code == ErrorCode::kFailedPrecondition) {
        f = field;
        message = s.error().message;
        if (!message.empty()) message[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(message[0])));
      }
      return Show(req, ctx, {}, {{f, message}}, 400);
    }
    return ctx.layout->ErrorFor(s.error(), req);
  }

  Response Assign(Request& req, module::StaffContext& ctx) {
    auto id = module::IdParam(req);
    if (!id) return ctx.layout->Error(404, req);
    std::string to(Trim(Field(ctx.form, "assignee")));
    std::optional<int64_t> staff_id;
    if (!to.empty()) {
      auto n = ParseUint(to);
      if (!n || !Handlers().count("staff:" + to)) return Done(req, ctx, Invalid("assignee"), "assignee");
      staff_id = static_cast<int64_t>(*n);
    }
    return Done(req, ctx, cases_.Assign(*id, staff_id, Staff(req, ctx)), "assignee");
  }

  static Status Invalid(const std::string& field) {
    return MakeError(ErrorCode::kInvalidArgument, field + ": Choose someone who handles rights requests");
  }

  Response Note(Request& req, module::StaffContext& ctx) {
    auto id = module::IdParam(req);
    if (!id) return ctx.layout->Error(404, req);
    return Done(req, ctx, cases_.AddNote(*id, Field(ctx.form, "note"), Staff(req, ctx)), "note");
  }

  Response Proof(Request& req, module::StaffContext& ctx) {
    auto id = module::IdParam(req);
    if (!id) return ctx.layout->Error(404, req);
    if (Field(ctx.form, "action") == "ask") {
      return Done(req, ctx, cases_.AskProof(*id, Staff(req, ctx)), "proof", Letter::kIdentity);
    }
    auto day = module::DateField(ctx.form, "proof");
    if (!day)
      return Done(req, ctx, MakeError(ErrorCode::kInvalidArgument, "proof: Enter the day proof arrived"), "proof");
    return Done(req, ctx, cases_.ProofReceived(*id, *day, Staff(req, ctx)), "proof");
  }

  Response Clock(Request& req, module::StaffContext& ctx) {
    auto id = module::IdParam(req);
    if (!id) return ctx.layout->Error(404, req);
    bool stop = Field(ctx.form, "action") == "stop";
    auto day = module::DateField(ctx.form, "clock");
    if (!day) {
      return Done(req, ctx,
                  MakeError(ErrorCode::kInvalidArgument, stop ? "clock: Enter the day the clarification was asked for"
                                                              : "clock: Enter the day the clarification arrived"),
                  "clock");
    }
    if (stop) return Done(req, ctx, cases_.Pause(*id, *day, Staff(req, ctx)), "clock", Letter::kClarification);
    return Done(req, ctx, cases_.Resume(*id, *day, Staff(req, ctx)), "clock");
  }

  Response Extend(Request& req, module::StaffContext& ctx) {
    auto id = module::IdParam(req);
    if (!id) return ctx.layout->Error(404, req);
    return Done(req, ctx, cases_.Extend(*id, Field(ctx.form, "reason"), Staff(req, ctx)), "reason", Letter::kExtension);
  }

  Response Close(Request& req, module::StaffContext& ctx) {
    auto id = module::IdParam(req);
    if (!id) return ctx.layout->Error(404, req);
    std::string status = Field(ctx.form, "status");
    Status closed = cases_.Close(*id, status, Field(ctx.form, "outcome"), Staff(req, ctx));
    if (!closed.ok() && closed.error().code == ErrorCode::kInvalidArgument) {
      return Show(req, ctx, html::Object{{"close_status", status}, {"typed_outcome", Field(ctx.form, "outcome")}},
                  {FieldError(closed.error(), "outcome")}, 400);
    }
    return Done(req, ctx, closed, "status",
                status == "refused" ? std::optional<Letter>(Letter::kRefusal) : std::nullopt);
  }

  // What every module holds about the case's identifiers, as counts: shown before anything is done.
  Response Search(Request& req, module::StaffContext& ctx) {
    auto target = Target(req, ctx);
    if (auto* answer = std::get_if<Response>(&target)) return std::move(*answer);
    auto& [id, c, dir] = std::get<Targeted>(target);
    auto survey = SurveyKeys(*dir, c->identifiers);
    if (!survey.ok()) return ctx.layout->ErrorFor(survey.error(), req);
    html::List rows;
    for (const auto& h : survey->held) {
      const processing::Dataset* d = p_.reg.FindDataset(h.dataset);
      rows.push_back(html::Object{{"dataset", h.dataset},
                                  {"description", d != nullptr ? d->description : ""},
                                  {"count", module::Thousands(h.count)},
                                  {"note", h.restricted ? std::string("restricted") : h.note}});
    }
    const auto& followed = survey->followed;
    int64_t total = survey->total;
    Status recorded = cases_.Record(*id, "searched", "", Staff(req, ctx));
    if (!recorded.ok()) return ctx.layout->ErrorFor(recorded.error(), req);
    (void)p_.trail.Append({.actor = ctx.actor.id,
                           .action = "rights.found",
                           .target = "rights:" + std::to_string(*id),
                           .request_id = req.request_id,
                           .details = {{"identifiers", std::to_string(c->identifiers.size())},
                                       {"followed", std::to_string(followed.size())},
                                       {"records", std::to_string(total)}}});
    return Show(req, ctx,
                html::Object{{"searched", true},
                             {"held", rows},
                             {"nothing_held", rows.empty()},
                             {"held_total", module::Thousands(total)},
                             {"followed", static_cast<int64_t>(followed.size())}},
                {}, 200);
  }

  // The bundle, for the caseworker to read before it is released: data about other people in
  // free text (a message, a note) must be taken out first.
  Response Export(Request& req, module::StaffContext& ctx) {
    auto target = Target(req, ctx);
    if (auto* answer = std::get_if<Response>(&target)) return std::move(*answer);
    auto& [id, c, dir] = std::get<Targeted>(target);
    auto zip = ExportCase(*dir, cases_, p_.reg, p_.config.site.name, *c, Today(), Staff(req, ctx));
    if (!zip.ok()) return ctx.layout->ErrorFor(zip.error(), req);
    Response r;
    r.status = 200;
    r.body = std::move(*zip);
    r.SetHeader("Content-Type", "application/zip");
    r.SetHeader("Content-Disposition", "attachment; filename=\"" + c->reference + ".zip\"");
    r.SetHeader("Cache-Control", "no-store");
    return r;
  }

  Response Erase(Request& req, module::StaffContext& ctx) {
    auto target = Target(req, ctx);
    if (auto* answer = std::get_if<Response>(&target)) return std::move(*answer);
    auto& [id, c, dir] = std::get<Targeted>(target);
    if (Field(ctx.form, "confirm") != "yes") {
      return Show(req, ctx, {}, {{"confirm", "Confirm that the search shows what the person asked to have deleted"}},
                  400);
    }
    auto erased = EraseCase(*dir, cases_, p_.reg, *c, Staff(req, ctx));
    if (!erased.ok() && erased.error().code == ErrorCode::kFailedPrecondition) {
      return Done(req, ctx, erased.error(), "confirm");
    }
    if (!erased.ok()) return ctx.layout->ErrorFor(erased.error(), req);
    html::List rows, kept;
    for (const auto& e : erased->erasures) {
      if (!e.exemption.empty()) {
        kept.push_back(html::Object{{"dataset", e.dataset}, {"why", e.exemption}});
      } else if (e.erased + e.anonymised > 0) {
        rows.push_back(html::Object{{"dataset", e.dataset},
                                    {"erased", module::Thousands(e.erased)},
                                    {"anonymised", module::Thousands(e.anonymised)}});
      }
    }
    html::List tell = Recipients(erased->recipients);
    return Show(req, ctx,
                html::Object{{"erased_done", true},
                             {"erased_rows", rows},
                             {"erased_total", module::Thousands(erased->Total())},
                             {"kept", kept},
                             {"any_kept", !kept.empty()},
                             {"tell", tell},
                             {"any_tell", !tell.empty()}},
                {}, 200);
  }

  // A correction in every module that holds the person's data, and whom to tell of it (Article 19).
  Response Rectify(Request& req, module::StaffContext& ctx) {
    auto target = Target(req, ctx);
    if (auto* answer = std::get_if<Response>(&target)) return std::move(*answer);
    auto& [id, c, dir] = std::get<Targeted>(target);
    std::string category = Field(ctx.form, "category"), value = Field(ctx.form, "value");
    auto fixed = RectifyCase(*dir, cases_, p_.reg, *c, category, value, Staff(req, ctx));
    if (!fixed.ok() && fixed.error().code == ErrorCode::kInvalidArgument) {
      return Show(req, ctx, html::Object{{"rectify_category", category}, {"rectify_value", value}},
                  {FieldError(fixed.error(), "value")}, 400);
    }
    if (!fixed.ok()) return Done(req, ctx, fixed.error(), "category");
    html::List rows, cannot;
    for (const auto& m : fixed->corrections) {
      if (m.changed > 0) {
        rows.push_back(html::Object{{"module", m.module}, {"changed", module::Thousands(m.changed)}});
      } else if (!m.cannot.empty()) {
        cannot.push_back(html::Object{{"module", m.module}, {"why", m.cannot}});
      }
    }
    html::List tell = Recipients(fixed->recipients);
    return Show(req, ctx,
                html::Object{{"rectified_done", true},
                             {"rectified_rows", rows},
                             {"any_rectified", !rows.empty()},
                             {"rectified_total", module::Thousands(fixed->Total())},
                             {"cannot", cannot},
                             {"any_cannot", !cannot.empty()},
                             {"rectify_tell", tell},
                             {"any_rectify_tell", !tell.empty()}},
                {}, 200);
  }

  // The decision on an objection (Article 21): upheld, what serves the purposes is kept, not used;
  // not upheld, the compelling grounds the person is told.
  Response Object(Request& req, module::StaffContext& ctx) {
    auto target = Target(req, ctx);
    if (auto* answer = std::get_if<Response>(&target)) return std::move(*answer);
    auto& [id, c, dir] = std::get<Targeted>(target);
    std::string decision = Field(ctx.form, "decision");
    if (decision != "upheld" && decision != "refused") {
      return Show(req, ctx, {}, {{"decision", "Choose whether the objection is upheld"}}, 400);
    }
    auto objected = ObjectCase(*dir, cases_, p_.reg, *c, decision == "upheld", module::AllFields(ctx.form, "purposes"),
                               Field(ctx.form, "objection_reason"), Staff(req, ctx));
    if (!objected.ok() && objected.error().code == ErrorCode::kInvalidArgument) {
      auto [field, message] = FieldError(objected.error(), "purposes");
      if (field == "reason") field = "objection_reason";
      return Show(req, ctx, html::Object{{"typed_objection_reason", Field(ctx.form, "objection_reason")}},
                  {{field, message}}, 400);
    }
    if (!objected.ok()) return Done(req, ctx, objected.error(), "decision");
    return Done(req, ctx, Ok(), "decision");
  }

  // Restriction on or off: the person must be told before it is lifted (Article 18(3)).
  Response Restrict(Request& req, module::StaffContext& ctx) {
    auto target = Target(req, ctx);
    if (auto* answer = std::get_if<Response>(&target)) return std::move(*answer);
    auto& [id, c, dir] = std::get<Targeted>(target);
    bool on = Field(ctx.form, "action") == "on";
    if (!on && Field(ctx.form, "told") != "yes") {
      return Show(req, ctx, {}, {{"told", "Confirm that the person has been told before the restriction is lifted"}},
                  400);
    }
    auto changed = RestrictCase(*dir, cases_, *c, on, Staff(req, ctx));
    if (!changed.ok()) return Done(req, ctx, changed.error(), on ? "restrict" : "told");
    return Done(req, ctx, Ok(), "restrict");
  }

  module::Platform& p_;
  Cases& cases_;
  Delivery delivery_;
};

}  // namespace

std::vector<module::StaffPage> CasePages(module::Platform& p, Cases& cases, Delivery delivery) {
  auto pages = std::make_shared<Pages>(p, cases, delivery)->All();
  for (auto& page : LetterPages(p, cases, delivery)) pages.push_back(std::move(page));
  return pages;
}

}  // namespace steward::rights
