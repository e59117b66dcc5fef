#include "rights/letter_pages.h"

#include <algorithm>
#include <map>

#include "core/strings.h"
#include "mail/mail.h"
#include "rights/actions.h"
#include "rights/copies.h"
#include "rights/letters.h"
#include "staff/accounts.h"

namespace steward::rights {
namespace {

using http::Method;
using http::Request;
using http::Response;
using module::Field;
using Errors = std::vector<std::pair<std::string, std::string>>;

constexpr const char* kPath = "/admin/rights";

class Letters : public std::enable_shared_from_this<Letters> {
 public:
  Letters(module::Platform& p, Cases& cases, Delivery delivery) : p_(p), cases_(cases), delivery_(delivery) {}

  std::vector<module::StaffPage> All() {
    auto self = shared_from_this();
    std::string write = std::string(kPath) + "/{id}/write";
    return {{.method = Method::kGet,
             .pattern = write,
             .permission = staff::Permission::kRightsRequests,
             .handler = module::Bind(self, &Letters::WritePage)},
            {.method = Method::kPost,
             .pattern = write,
             .permission = staff::Permission::kRightsRequests,
             .handler = module::Bind(self, &Letters::Send)}};
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

  LetterContext Context() const {
    std::string contact;
    if (!p_.reg.dpo.email.empty()) contact = p_.reg.dpo.email;
    return LetterContext{.site_name = p_.config.site.name,
                         .today = Today(),
                         .copy_days = cases_.settings().copy_days,
                         .contact = contact};
  }

  bool ByEmail(const Case& c) const { return WritesEmail(delivery_, c); }

  // The datasets whose records hold free text (a message, a note, what a request is about): it may
  // name other people, so the caseworker reads the copy before it is released.
  static html::List FreeText(const std::vector<subject::Record>& records) {
    std::map<std::string, int64_t> by_dataset;
    for (const auto& r : records) {
      bool free = std::any_of(r.fields.begin(), r.fields.end(),
                              [](const subject::Field& f) { return f.category.rfind("user.content", 0) == 0; });
      if (free) ++by_dataset[r.dataset];
    }
    html::List out;
    for (const auto& [dataset, n] : by_dataset) out.push_back(html::Object{{"dataset", dataset}, {"count", n}});
    return out;
  }

  // Whether `text` still holds one of the drafts' [words to replace] (several words on one line,
  // at most 200 characters).
  static bool Unfilled(std::string_view text) {
    for (size_t open = text.find('['); open != std::string_view::npos; open = text.find('[', open + 1)) {
      size_t close = text.find_first_of("]\n", open + 1);
      if (close != std::string_view::npos && text[close] == ']' && close - open <= 200 &&
          text.substr(open, close - open).find(' ') != std::string_view::npos) {
        return true;
      }
    }
    return false;
  }

  Response WritePage(Request& req, module::StaffContext& ctx) {
    auto query = req.Query();
    if (!query.ok()) return ctx.layout->Error(400, req);
    auto letter = ParseLetter(Field(*query, "letter"));
    if (!letter) letter = Letter::kAnswer;
    return Write(req, ctx, *letter, std::nullopt, {}, 200);
  }

  // The draft of `letter`, or what the caseworker typed (`typed`) when it is shown again.
  Response Write(Request& req, module::StaffContext& ctx, Letter letter, std::optional<Written> typed,
                 const Errors& errors, int status) {
    auto id = module::IdParam(req);
    if (!id) return ctx.layout->Error(404, req);
    auto c = cases_.Get(*id);
    if (!c.ok()) return ctx.layout->ErrorFor(c.error(), req);
    Written w = typed ? *typed : Draft(letter, *c, Context());
    html::List letters;
    for (Letter l : AllLetters()) {
      if (l == letter) continue;
      letters.push_back(html::Object{{"value", std::string(LetterName(l))}, {"text", std::string(LetterTitle(l))}});
    }
    html::Object data{{"base", std::string(kPath) + "/" + std::to_string(*id)},
                      {"reference", c->reference},
                      {"letter", std::string(LetterName(letter))},
                      {"title", std::string(LetterTitle(letter))},
                      {"letters", letters},
                      {"subject", w.subject},
                      {"text", w.text},
                      {"email", c->email},
                      {"postal_address", c->postal_address},
                      {"by_email", ByEmail(*c)},
                      {"by_post", !c->postal_address.empty() || !ByEmail(*c)},
                      {"is_copy", letter == Letter::kCopy},
                      {"placeholder", std::string(kLinkPlaceholder)},
                      {"copy_days", int64_t{cases_.settings().copy_days}}};
    if (letter == Letter::kCopy) {
      subject::Directory* dir = p_.directory ? p_.directory() : nullptr;
      if (dir == nullptr) return ctx.layout->Error(503, req);
      auto records = Collect(*dir, *c);
      if (!records.ok()) return ctx.layout->ErrorFor(records.error(), req);
      html::List free = FreeText(*records);
      data["records"] =
          module::Thousands(static_cast<int64_t>(records->size())) + (records->size() == 1 ? " record" : " records");
      data["free_text"] = free;
      data["any_free_text"] = !free.empty();
      data["copy_by_link"] = ByEmail(*c);
    }
    return Render(req, ctx, "admin_rights_write", std::string(LetterTitle(letter)) + ": " + c->reference,
                  std::move(data), errors, status);
  }

  Response Send(Request& req, module::StaffContext& ctx) {
    auto id = module::IdParam(req);
    if (!id) return ctx.layout->Error(404, req);
    const http::Params& form = ctx.form;
    auto letter = ParseLetter(Field(form, "letter"));
    if (!letter) return ctx.layout->Error(400, req);
    auto c = cases_.Get(*id);
    if (!c.ok()) return ctx.layout->ErrorFor(c.error(), req);
    Written w{.subject = std::string(Trim(Field(form, "subject"))), .text = Field(form, "text")};
    bool post = Field(form, "by") == "post";
    Errors errors;
    if (w.subject.empty()) errors.emplace_back("subject", "Enter a subject");
    if (w.subject.size() > 200) errors.emplace_back("subject", "Enter a subject of 200 characters or fewer");
    if (w.subject.find_first_of("\r\n") != std::string::npos)
      errors.emplace_back("subject", "Enter a subject on one line");
    if (Trim(w.text).empty()) errors.emplace_back("text", "Enter what to say");
    if (w.text.size() > 20000) errors.emplace_back("text", "Enter a message of 20,000 characters or fewer");
    if (Unfilled(w.text)) {
      errors.emplace_back("text", "Replace the words in [square brackets] with what the person should be told");
    }
    if (!post && !ByEmail(*c)) errors.emplace_back("by", "The person gave no email address: send it by post");
    bool copy = *letter == Letter::kCopy && !post;
    if (copy) {
      if (w.text.find(kLinkPlaceholder) == std::string::npos) {
        errors.emplace_back("text", "Keep " + std::string(kLinkPlaceholder) + " where the link to the copy goes");
      }
      if (Field(form, "reviewed") != "yes") {
        errors.emplace_back("reviewed",
                            "Confirm that you have read the copy and it holds nothing that must be withheld");
      }
    }
    if (!errors.empty()) return Write(req, ctx, *letter, w, errors, 400);
    std::string how = post ? "by post" : "by email";
    if (post) {
      Status recorded =
          cases_.Record(*id, "wrote", std::string(LetterTitle(*letter)) + " (" + how + ")", Staff(req, ctx));
      if (!recorded.ok()) return ctx.layout->ErrorFor(recorded.error(), req);
      html::Object data{{"base", std::string(kPath) + "/" + std::to_string(*id)},
                        {"reference", c->reference},
                        {"name", c->name},
                        {"postal_address", c->postal_address},
                        {"date", module::LongDay(Today())},
                        {"subject", w.subject},
                        {"text", w.text}};
      return Render(req, ctx, "admin_rights_letter", "Letter: " + c->reference, std::move(data), {}, 200);
    }
    std::string zip;
    if (copy) {
      subject::Directory* dir = p_.directory ? p_.directory() : nullptr;
      if (dir == nullptr) return ctx.layout->Error(503, req);
      auto made = ExportCase(*dir, cases_, p_.reg, p_.config.site.name, *c, Today(), Staff(req, ctx));
      if (!made.ok()) return ctx.layout->ErrorFor(made.error(), req);
      zip = std::move(*made);
    }
    Status sent = p_.store.Write([&](store::Connection& conn) -> Status {
      std::string text = w.text;
      if (copy) {
        STEWARD_ASSIGN_OR_RETURN(auto kept, delivery_.copies->KeepIn(conn, *c, zip, cases_.settings().copy_days));
        text.replace(text.find(kLinkPlaceholder), kLinkPlaceholder.size(),
                     p_.base_url() + "/your-data/copy/" + kept.token);
      }
      // Privacy: rights requests: sealed under the case's key, as everything sent about it.
      mail::Email email{.to = c->email,
                        .subject = w.subject,
                        .text = text,
                        .batch = "rights:" + std::string(LetterName(*letter)),
                        .subject_id = c->subject_id};
      STEWARD_RETURN_IF_ERROR(delivery_.queue->Enqueue(conn, email, *delivery_.mail));
      return cases_.Record(conn, *id, "wrote", std::string(LetterTitle(*letter)) + " (" + how + ")", Staff(req, ctx));
    });
    if (!sent.ok() && sent.error().code == ErrorCode::kFailedPrecondition) {
      return Write(req, ctx, *letter, w, {{"by", "The mail queue will not send to this address: send it by post"}},
                   400);
    }
    if (!sent.ok()) return ctx.layout->ErrorFor(sent.error(), req);
    return Response::Redirect(std::string(kPath) + "/" + std::to_string(*id) +
                              "?sent=" + std::string(LetterName(*letter)));
  }

  module::Platform& p_;
  Cases& cases_;
  Delivery delivery_;
};

}  // namespace

bool WritesEmail(const Delivery& delivery, const Case& c) { return delivery.queue != nullptr && !c.email.empty(); }

Response RenderStaff(Request& req, module::StaffContext& ctx, std::string_view tmpl, std::string title,
                     html::Object data, const Errors& errors, int status) {
  return module::FormPage(req, ctx, tmpl, std::move(title), std::move(data), errors, kPath, status);
}

std::vector<module::StaffPage> LetterPages(module::Platform& p, Cases& cases, Delivery delivery) {
  return std::make_shared<Letters>(p, cases, delivery)->All();
}

}  // namespace steward::rights
