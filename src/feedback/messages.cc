#include "feedback/messages.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>

#include "analytics/api_keys.h"
#include "core/json_text.h"
#include "core/strings.h"
#include "http/json_body.h"
#include "subject/subject.h"

namespace steward::messages {
namespace {

constexpr module::Id kMessages("messages");
constexpr const char* kTable = "messages_items";
const char* const kColumns[] = {"channel", "handle", "text", "time", "thread", "link"};

Error Bad(std::string why) { return MakeError(ErrorCode::kInvalidArgument, std::move(why)); }

// One CSV record from `in` (quoted fields may hold commas, quotes and line ends). False at the end.
bool CsvRecord(std::istream& in, std::vector<std::string>& fields, int64_t& line) {
  fields.clear();
  std::string field;
  bool quoted = false, any = false;
  char c;
  while (in.get(c)) {
    any = true;
    if (quoted) {
      if (c == '"') {
        if (in.peek() == '"') {
          in.get(c);
          field += '"';
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.push_back(std::move(field));
      field.clear();
    } else if (c == '\n') {
      ++line;
      if (!field.empty() && field.back() == '\r') field.pop_back();
      fields.push_back(std::move(field));
      return true;
    } else {
      field += c;
    }
  }
  if (!any) return false;
  if (!field.empty() && field.back() == '\r') field.pop_back();
  fields.push_back(std::move(field));
  ++line;
  return true;
}

}  // namespace

Status Check(const Message& m) {
  if (m.channel.empty() || m.channel.size() > 32 || !std::all_of(m.channel.begin(), m.channel.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
      })) {
    return Bad("'channel' is lower-case letters, digits and dashes, such as \"x\" or \"webchat\"");
  }
  if (!subject::Key::Make(subject::KeyKind::kHandle, m.channel + ":" + m.handle).ok()) {
    return Bad("'handle' is the sender's name on the channel, without spaces");
  }
  if (Trim(m.text).empty()) return Bad("'text' is empty");
  if (Utf8Length(m.text) > kMaxText) return Bad("'text' is over 10,000 characters");
  if (!ParseRfc3339(m.sent_at)) return Bad("'time' is a date and time such as 2026-11-30T14:05:00Z");
  if (m.thread.size() > 200) return Bad("'thread' is over 200 characters");
  if (m.link.size() > 2048 || (!m.link.empty() && !m.link.starts_with("https://"))) {
    return Bad("'link' is an https:// address of up to 2,048 characters");
  }
  return Ok();
}

namespace {

// A message from a JSON object; errors name the field, never its value.
Result<Message> FromJson(const nlohmann::json& j) {
  if (!j.is_object()) return Bad("a message is a JSON object");
  Message m;
  std::string* fields[] = {&m.channel, &m.handle, &m.text, &m.sent_at, &m.thread, &m.link};
  for (size_t i = 0; i < 6; ++i) {
    auto it = j.find(kColumns[i]);
    if (it == j.end() || it->is_null()) continue;
    if (!it->is_string()) return Bad(std::string("'") + kColumns[i] + "' is a string");
    *fields[i] = ValidUtf8(it->get<std::string>());
  }
  STEWARD_RETURN_IF_ERROR(Check(m));
  return m;
}

}  // namespace

Parsed ParseJsonLines(std::istream& in) {
  Parsed out;
  std::string line;
  while (std::getline(in, line)) {
    ++out.lines;
    if (Trim(line).empty()) continue;
    auto j = http::ParseJson(line, {.max_depth = 4, .max_bytes = size_t{64} * 1024});
    if (!j.ok()) {
      out.skipped.emplace_back(out.lines, j.error().message);
      continue;
    }
    auto m = FromJson(*j);
    if (!m.ok()) {
      out.skipped.emplace_back(out.lines, m.error().message);
      continue;
    }
    out.messages.push_back(std::move(*m));
  }
  return out;
}

Parsed ParseCsv(std::istream& in) {
  Parsed out;
  int64_t line = 0;
  std::vector<std::string> header, record;
  if (!CsvRecord(in, header, line)) return out;
  std::map<std::string, size_t> at;
  for (size_t i = 0; i < header.size(); ++i) at[ToLower(Trim(header[i]))] = i;
  for (const char* required : {"channel", "handle", "text", "time"}) {
    if (!at.count(required)) {
      out.skipped.emplace_back(1, std::string("the header names no '") + required + "' column");
      return out;
    }
  }
  while (true) {
    int64_t first = line + 1;
    if (!CsvRecord(in, record, line)) break;
    ++out.lines;
    if (record.size() == 1 && Trim(record[0]).empty()) continue;
    Message m;
    std::string* fields[] = {&m.channel, &m.handle, &m.text, &m.sent_at, &m.thread, &m.link};
    for (size_t i = 0; i < 6; ++i) {
      auto it = at.find(kColumns[i]);
      if (it != at.end() && it->second < record.size()) *fields[i] = ValidUtf8(record[it->second]);
    }
    if (Status s = Check(m); !s.ok()) {
      out.skipped.emplace_back(first, s.error().message);
      continue;
    }
    out.messages.push_back(std::move(m));
  }
  return out;
}

Inbox::Inbox(store::Store& store, const crypto::SecretKey& key, const Clock& clock)
    : store_(store), clock_(clock), subjects_(key, clock) {}

std::vector<store::Migration> Inbox::Migrations() {
  return {{"messages", 1, R"sql(
    -- Privacy: messages. One message someone sent on social media or webchat. The sender's handle
    -- and the text are sealed under their subject key; the rest is plain.
    CREATE TABLE messages_items (
      id INTEGER PRIMARY KEY,
      received_at TEXT NOT NULL,
      sent_at TEXT NOT NULL,
      channel TEXT NOT NULL,
      thread TEXT NOT NULL DEFAULT '',
      link TEXT NOT NULL DEFAULT '',
      status TEXT NOT NULL DEFAULT 'new',
      subject_id TEXT NOT NULL,
      handle BLOB NOT NULL,
      text BLOB NOT NULL
    );
    CREATE INDEX messages_items_sent ON messages_items (sent_at);
    CREATE INDEX messages_items_subject ON messages_items (subject_id);
  )sql"},
          {"messages", 2, R"sql(
    -- Privacy: messages. Who handles a message, and the caseworkers' notes on it, sealed with it
    -- under the sender's key.
    ALTER TABLE messages_items ADD COLUMN assignee TEXT NOT NULL DEFAULT '';
    ALTER TABLE messages_items ADD COLUMN notes BLOB;
  )sql"}};
}

retention::ModuleStorage Inbox::Storage() {
  return {.module = "messages",
          .personal_tables = {kTable},
          .purge = [](store::Connection& c, const processing::Dataset&, const std::string& cutoff, const std::string&,
                      bool dry_run, int64_t limit) -> Result<int64_t> {
            if (dry_run) {
              STEWARD_ASSIGN_OR_RETURN(auto rows,
                                       c.Query("SELECT COUNT(*) FROM messages_items WHERE sent_at < ?", {cutoff}));
              return rows.front().Int(0);
            }
            // Privacy: messages past their retention, counted from when they were sent; the senders'
            // keys go with the daily sweep once nothing names them.
            return retention::DeleteAtMost(c, "messages_items", "id", "sent_at < ?", {cutoff}, limit);
          },
          .in_use =
              [](const processing::Register& reg) {
                return std::any_of(reg.datasets.begin(), reg.datasets.end(),
                                   [](const processing::Dataset& d) { return d.module == "messages"; });
              },
          // The message, and how to answer its sender (an email address, a telephone number or a handle).
          .stores = {"user.contact", "user.content.messages"},
          .batched = true};
}

std::vector<subjects::SealedTable> Inbox::SealedTables() {
  return {{.table = kTable,
           .time_column = "sent_at",
           .columns = {{"channel", "user.content.messages", "Where you sent it", false},
                       {"handle", "user.contact.name", "Your name on that channel", true},
                       {"text", "user.content.messages", "Your message", true},
                       {"link", "user.content.messages", "Link to the message", false},
                       {"notes", "user.content.messages", "Notes our staff made on it", true}}}};
}

Result<int64_t> Inbox::Keep(const std::vector<Message>& messages, audit::Trail& trail, audit::Entry entry) {
  entry.details.insert(entry.details.begin(), {"messages", std::to_string(messages.size())});
  std::string now = FormatRfc3339(clock_.Now());
  // Privacy: messages. Each sealed under its sender's key, found again by their handle.
  STEWARD_RETURN_IF_ERROR(store_.Write([&](store::Connection& c) -> Status {
    for (const auto& m : messages) {
      STEWARD_RETURN_IF_ERROR(Check(m));
      STEWARD_ASSIGN_OR_RETURN(auto key, subject::Key::Make(subject::KeyKind::kHandle, m.channel + ":" + m.handle));
      STEWARD_ASSIGN_OR_RETURN(std::string id, subjects_.ForIdentifier(c, key));
      STEWARD_ASSIGN_OR_RETURN(auto keys, subjects_.Keys(c, id));
      if (!keys) return MakeError(ErrorCode::kInternal, "a subject found in this write has no key");
      STEWARD_RETURN_IF_ERROR(
          c.Exec("INSERT INTO messages_items (received_at, sent_at, channel, thread, link, subject_id, handle, text) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                 {now, FormatRfc3339(*ParseRfc3339(m.sent_at)), m.channel, m.thread, m.link, id,
                  store::Blob{keys->Seal("messages_items.handle", m.handle)},
                  store::Blob{keys->Seal("messages_items.text", m.text)}}));
    }
    return trail.AppendIn(c, entry);
  }));
  return static_cast<int64_t>(messages.size());
}

namespace {

constexpr const char* kKeptColumns =
    "id, sent_at, received_at, channel, thread, link, status, assignee, subject_id, handle, text, notes";

Kept KeptOf(const store::Row& r) {
  Kept k;
  k.id = r.Int(0);
  k.sent_at = r.Text(1);
  k.received_at = r.Text(2);
  k.channel = r.Text(3);
  k.thread = r.Text(4);
  k.link = r.Text(5);
  k.status = r.Text(6);
  k.assignee = r.Text(7);
  return k;
}

// Opens the handle, text and notes of a row read with kKeptColumns.
Status OpenKept(store::Connection& c, const subjects::SubjectStore& subjects, const store::Row& r, Kept& k) {
  k.opened = true;
  STEWARD_ASSIGN_OR_RETURN(auto keys, subjects.Keys(c, r.Text(8)));
  auto open = [&](const char* column, size_t at) -> std::optional<std::string> {
    if (r.IsNull(at)) return std::string();
    return keys ? keys->Open(std::string(kTable) + "." + column, r.Text(at)) : std::nullopt;
  };
  k.handle = open("handle", 9).value_or("(erased)");
  k.text = open("text", 10).value_or("(erased)");
  if (auto notes = open("notes", 11); notes && !notes->empty()) k.notes = feedback::NotesFromJson(*notes);
  return Ok();
}

}  // namespace

Result<std::pair<std::vector<Kept>, int64_t>> Inbox::List(const feedback::Filter& f) const {
  std::pair<std::vector<Kept>, int64_t> out;
  if ((!f.kind.empty() && f.kind != "message") || !f.page.empty() || f.redacted_only) return out;
  feedback::InboxQuery q(f, "sent_at");
  // Privacy: messages, read for the caseworker's inbox; handles and texts opened only for kAll
  // (the callers audit it).
  STEWARD_RETURN_IF_ERROR(store_.Read([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(out.second, q.Count(c, kTable));
    std::vector<store::Value> page_params = q.Page(f);
    Status inner = Ok();
    STEWARD_RETURN_IF_ERROR(c.ForEach(std::string("SELECT ") + kKeptColumns + " FROM messages_items" + q.where +
                                          " ORDER BY sent_at DESC, id DESC LIMIT ? OFFSET ?",
                                      page_params, [&](const store::Row& r) {
                                        Kept k = KeptOf(r);
                                        if (f.personal == feedback::Filter::Personal::kAll) {
                                          inner = OpenKept(c, subjects_, r, k);
                                        }
                                        out.first.push_back(std::move(k));
                                        return inner.ok();
                                      }));
    return inner;
  }));
  return out;
}

Result<std::optional<Kept>> Inbox::Get(int64_t id) const {
  std::optional<Kept> out;
  // Privacy: messages, one opened for the caseworker (the page audits it).
  STEWARD_RETURN_IF_ERROR(store_.Read([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(
        auto rows, c.Query(std::string("SELECT ") + kKeptColumns + " FROM messages_items WHERE id = ?", {id}));
    if (rows.empty()) return Ok();
    Kept k = KeptOf(rows.front());
    STEWARD_RETURN_IF_ERROR(OpenKept(c, subjects_, rows.front(), k));
    out = std::move(k);
    return Ok();
  }));
  return out;
}

Result<bool> Inbox::Triage(store::Connection& c, int64_t id, const std::string& status,
                           const std::optional<std::string>& assignee) const {
  return feedback::TriageRow(c, kTable, id, status, assignee);
}

Result<bool> Inbox::AddNote(store::Connection& c, int64_t id, const feedback::Note& note) const {
  return feedback::AppendNote(c, subjects_, kTable, id, note);
}

namespace {

constexpr size_t kMaxPerRequest = 500;

// While serving: POST /api/messages for the tools that receive messages, with a key of scope
// "messages"; and the subject data, so rights requests reach the messages.
class MessagesServing : public module::Serving {
 public:
  explicit MessagesServing(module::Platform& p)
      : in_use_(Inbox::Storage().in_use(p.reg)),
        keys_(p.services.Find<analytics::ApiKeys>()),
        inbox_(p.store, p.key, p.clock),
        trail_(p.trail),
        subjects_(p.SubjectDeps(kMessages), p.key, p.clock, Inbox::SealedTables()) {}

  void AddRoutes(http::Router& router) override {
    if (!in_use_ || keys_ == nullptr) return;
    router.Post("/api/messages", [this](http::Request& req) { return Post(req); },
                {.max_body_bytes = 4 << 20, .blocking = true});
  }

  // Only where the register declares messages: a site that keeps none answers for none.
  subject::SubjectData* Subjects() override { return in_use_ ? &subjects_ : nullptr; }

 private:
  static http::Response Answer(int status, const nlohmann::json& j) {
    http::Response r = http::Response::Json(JsonText(j), status);
    r.SetHeader("Cache-Control", "no-store");
    return r;
  }

  http::Response Post(http::Request& req) {
    std::string_view auth = req.Header("Authorization");
    if (!auth.starts_with("Bearer ") || !keys_->Verify(Trim(auth.substr(7)), "messages")) {
      http::Response r = Answer(
          401,
          {{"error", "send a key made with steward apikey create --scope messages: Authorization: Bearer stw_..."}});
      r.SetHeader("WWW-Authenticate", "Bearer");
      return r;
    }
    auto body = http::ParseJsonBody(req, {.max_depth = 5, .max_bytes = 4 << 20});
    if (!body.ok()) return Answer(400, {{"error", body.error().message}});
    // One message, or {"messages": [...]}: all are kept, or none.
    std::vector<const nlohmann::json*> items;
    if (body->is_object() && body->contains("messages")) {
      const auto& list = (*body)["messages"];
      if (!list.is_array() || list.empty() || list.size() > kMaxPerRequest) {
        return Answer(400, {{"error", "'messages' is a list of 1 to 500 messages"}});
      }
      for (const auto& m : list) items.push_back(&m);
    } else {
      items.push_back(&*body);
    }
    std::vector<Message> messages;
    nlohmann::json errors = nlohmann::json::array();
    for (size_t i = 0; i < items.size(); ++i) {
      auto m = FromJson(*items[i]);
      if (m.ok()) {
        messages.push_back(std::move(*m));
      } else {
        errors.push_back({{"index", i}, {"error", m.error().message}});
      }
    }
    if (!errors.empty()) return Answer(400, {{"error", "no message was kept: correct these"}, {"errors", errors}});
    auto kept =
        inbox_.Keep(messages, trail_, {.actor = "api", .action = "messages.received", .request_id = req.request_id});
    if (!kept.ok()) {
      http::Response r =
          Answer(http::StatusForError(kept.error().code), {{"error", "the messages could not be kept; try again"}});
      if (r.status == 503) r.SetHeader("Retry-After", "1");
      return r;
    }
    return Answer(202, {{"stored", *kept}});
  }

  bool in_use_;
  analytics::ApiKeys* keys_;
  Inbox inbox_;
  audit::Trail& trail_;
  subjects::SealedData subjects_;
};

int ImportCommand(module::CommandContext& ctx) {
  module::Platform& p = *ctx.platform;
  bool declared = std::any_of(p.reg.datasets.begin(), p.reg.datasets.end(),
                              [](const processing::Dataset& d) { return d.module == "messages"; });
  if (!declared) {
    return module::Fail(MakeError(ErrorCode::kFailedPrecondition,
                                  "the register declares no dataset of module \"messages\" to say what is kept, why "
                                  "and for how long: declare it before importing"),
                        2);
  }
  std::string file = ctx.args.Text("file");
  std::ifstream f;
  std::istream* in = &std::cin;
  if (file != "-") {
    f.open(file, std::ios::binary);
    if (!f) return module::Fail(MakeError(ErrorCode::kNotFound, "cannot read " + file));
    in = &f;
  }
  Parsed parsed = ctx.args.Text("--format") == "csv" ? ParseCsv(*in) : ParseJsonLines(*in);
  Inbox inbox(p.store, p.key, p.clock);
  auto kept = inbox.Keep(
      parsed.messages, p.trail,
      {.actor = "cli", .action = "messages.imported", .details = {{"skipped", std::to_string(parsed.skipped.size())}}});
  if (!kept.ok()) return module::Fail(kept.error());
  std::printf("imported %lld messages, skipped %zu lines\n", static_cast<long long>(*kept), parsed.skipped.size());
  // The reasons, never the lines: they hold what people wrote.
  for (size_t i = 0; i < parsed.skipped.size() && i < 10; ++i) {
    std::printf("  line %lld: %s\n", static_cast<long long>(parsed.skipped[i].first), parsed.skipped[i].second.c_str());
  }
  return parsed.skipped.empty() ? 0 : 1;
}

}  // namespace

module::Descriptor Module() {
  return {
      .id = kMessages,
      .migrations = [] { return Inbox::Migrations(); },
      .storage = [](const config::Config&) { return std::vector<retention::ModuleStorage>{Inbox::Storage()}; },
      .command_groups = {{"messages", "Messages people sent on social media or webchat, brought in from those tools."}},
      .commands =
          [] {
            using module::Option;
            return std::vector<module::Command>{
                {.path = {"messages", "import"},
                 .help = "Import messages as JSON lines or CSV (channel, handle, text, time, thread, link); "
                         "prints the lines skipped and why.",
                 .options = {{.name = "--format",
                              .help = "jsonl or csv; default jsonl.",
                              .default_value = "jsonl",
                              .choices = {"jsonl", "csv"}},
                             {.name = "file",
                              .help = "The file; - reads standard input.",
                              .kind = Option::Kind::kPositional,
                              .required = true}},
                 .run = ImportCommand},
            };
          },
      .subjects = [](module::Platform& p) -> Result<std::unique_ptr<subject::SubjectData>> {
        return std::unique_ptr<subject::SubjectData>(
            std::make_unique<subjects::SealedData>(p.SubjectDeps(kMessages), p.key, p.clock, Inbox::SealedTables()));
      },
      .start = [](module::Platform& p) -> Result<std::unique_ptr<module::Serving>> {
        return std::unique_ptr<module::Serving>(std::make_unique<MessagesServing>(p));
      },
  };
}

}  // namespace steward::messages
