#include "feedback/feedback.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "core/json_text.h"
#include "core/strings.h"
#include "http/json_body.h"
#include "feedback/redact.h"
#include "subject/subject.h"

namespace steward::feedback {
namespace {

constexpr const char* kTable = "feedback_items";
// Spam received before a cut-off: what the partial index feedback_items_spam holds, by its key.
constexpr const char* kOldSpam = "status = 'spam' AND received_at < ?";

std::string Field(std::string_view column) { return std::string(kTable) + "." + std::string(column); }

}  // namespace

std::string_view KindName(Kind kind) {
  switch (kind) {
    case Kind::kUseful:
      return "useful";
    case Kind::kProblem:
      return "problem";
    case Kind::kContact:
      return "contact";
    case Kind::kRating:
      return "rating";
  }
  return "contact";
}

std::string_view RatingText(int64_t rating) {
  static constexpr std::string_view kRatings[] = {"Very dissatisfied", "Dissatisfied",
                                                  "Neither satisfied or dissatisfied", "Satisfied", "Very satisfied"};
  return rating >= 1 && rating <= 5 ? kRatings[rating - 1] : std::string_view();
}

std::optional<Kind> ParseKind(std::string_view name) {
  for (Kind k : {Kind::kUseful, Kind::kProblem, Kind::kContact, Kind::kRating}) {
    if (KindName(k) == name) return k;
  }
  return std::nullopt;
}

Result<std::optional<Settings>> ReadSettings(const config::Document& document, const processing::Register& reg) {
  config::Problems problems(document.path());
  config::Table root = document.Root(problems);
  auto table = root.Child("feedback");
  if (!table) return std::optional<Settings>();
  Settings s;
  table->Bool("useful", s.useful);
  table->Int("min_seconds", s.min_seconds, 0, 60);
  auto dataset = std::find_if(reg.datasets.begin(), reg.datasets.end(),
                              [](const processing::Dataset& d) { return d.module == "feedback"; });
  if (dataset == reg.datasets.end()) {
    problems.Add(table->where(),
                 "[feedback] keeps what people send, but the register declares no dataset of module \"feedback\" to "
                 "say what is kept, why and for how long");
  } else {
    s.dataset = dataset->id;
    for (const auto& rid : dataset->recipients) {
      for (const auto& r : reg.recipients) {
        if (r.id == rid && r.basis == "consent") s.share_with.push_back(r.name);
      }
    }
  }
  table->Finish();
  if (!problems.empty()) return MakeError(ErrorCode::kInvalidArgument, problems.Joined());
  return std::optional<Settings>(std::move(s));
}

FieldErrors Check(const Submission& s) {
  FieldErrors errors;
  auto too_long = [&](const std::string& field, const std::string& text, const char* what) {
    if (Utf8Length(text) > kMaxText)
      errors.emplace_back(field, std::string(what) + " must be 1,250 characters or less");
  };
  if (s.page.size() > 2048) errors.emplace_back("page", "The page address must be 2,048 characters or less");
  switch (s.kind) {
    case Kind::kUseful:
      if (!s.useful.has_value()) errors.emplace_back("useful", "Select yes if this page is useful");
      break;
    case Kind::kProblem:
      if (Trim(s.doing).empty() && Trim(s.wrong).empty()) {
        errors.emplace_back("wrong", "Enter what you were doing or what went wrong");
      }
      too_long("doing", s.doing, "What you were doing");
      too_long("wrong", s.wrong, "What went wrong");
      break;
    case Kind::kContact:
      if (Trim(s.message).empty()) errors.emplace_back("message", "Enter your message");
      too_long("message", s.message, "Your message");
      break;
    case Kind::kRating:
      if (s.rating < 1 || s.rating > 5) errors.emplace_back("rating", "Select how satisfied you are with this service");
      too_long("message", s.message, "Your comments");
      break;
  }
  bool has_name = !Trim(s.name).empty(), has_email = !Trim(s.email).empty();
  if (s.kind == Kind::kUseful && (has_name || has_email)) {
    errors.emplace_back("email", "A yes or no answer takes no name or email address");
  } else if (has_name && !has_email) {
    errors.emplace_back("email", "Enter your email address, or remove your name if you do not want a reply");
  } else if (has_email && !has_name) {
    errors.emplace_back("name", "Enter your name, or remove your email address if you do not want a reply");
  } else if (has_email && !subject::Key::Make(subject::KeyKind::kEmail, s.email).ok()) {
    errors.emplace_back("email", "Enter an email address in the correct format, like name@example.com");
  }
  if (Utf8Length(s.name) > 200) errors.emplace_back("name", "Your name must be 200 characters or less");
  return errors;
}

Inbox::Inbox(store::Store& store, const crypto::SecretKey& key, const Clock& clock, Settings settings)
    : store_(store), clock_(clock), settings_(std::move(settings)), subjects_(key, clock) {
  auto k = key.DeriveKey("feedfing");
  fingerprint_key_.assign(reinterpret_cast<const char*>(k.data()), k.size());
}

std::vector<store::Migration> Inbox::Migrations() {
  return {{"feedback", 1, R"sql(
    -- Privacy: feedback. One item a person sent. What they typed (doing, wrong, message, name,
    -- email) is redacted, then sealed under their subject key; the rest is plain. The fingerprint
    -- is a keyed hash of the content, to mark a duplicate without comparing the text.
    CREATE TABLE feedback_items (
      id INTEGER PRIMARY KEY,
      received_at TEXT NOT NULL,
      kind TEXT NOT NULL,
      page TEXT NOT NULL DEFAULT '',
      rating INTEGER,
      status TEXT NOT NULL DEFAULT 'new',
      spam_reason TEXT NOT NULL DEFAULT '',
      duplicate INTEGER NOT NULL DEFAULT 0,
      redacted TEXT NOT NULL DEFAULT '',
      share INTEGER NOT NULL DEFAULT 0,
      javascript INTEGER NOT NULL DEFAULT 0,
      assignee TEXT NOT NULL DEFAULT '',
      fingerprint BLOB NOT NULL,
      subject_id TEXT,
      doing BLOB,
      wrong BLOB,
      message BLOB,
      name BLOB,
      email BLOB
    );
    CREATE INDEX feedback_items_received ON feedback_items (received_at);
    CREATE INDEX feedback_items_subject ON feedback_items (subject_id);
    CREATE INDEX feedback_items_fingerprint ON feedback_items (fingerprint);
    -- "Is this page useful?": counted per page and day, never kept one by one.
    CREATE TABLE feedback_usefulness (
      page TEXT NOT NULL,
      day TEXT NOT NULL,
      yes INTEGER NOT NULL DEFAULT 0,
      no INTEGER NOT NULL DEFAULT 0,
      PRIMARY KEY (page, day)
    );
  )sql"},
          {"feedback", 2, R"sql(
    -- Privacy: feedback. The caseworkers' notes on an item, sealed with it under the person's key.
    ALTER TABLE feedback_items ADD COLUMN notes BLOB;
  )sql"},
          {"feedback", 3, R"sql(
    -- The inbox's filters (status, kind, page) answered from the index of when items came, newest
    -- first, without reading the items themselves: a count over a million items stays quick.
    DROP INDEX feedback_items_received;
    CREATE INDEX feedback_items_received ON feedback_items (received_at, id, status, kind, page);
    -- The duplicate check seeks the same content within 5 minutes, however often it was sent before.
    DROP INDEX feedback_items_fingerprint;
    CREATE INDEX feedback_items_fingerprint ON feedback_items (fingerprint, received_at);
  )sql"},
          {"feedback", 4, R"sql(
    -- The inbox filtered by part of a page's address: the pages items name, to find those that
    -- match, and each one's items newest first, so that a page whose items are old or few is found
    -- without reading everything that came since (Inbox::ListByPage). Page addresses only, scrubbed
    -- as the usefulness counts keep them; pruned with the items.
    CREATE TABLE feedback_pages (page TEXT PRIMARY KEY);
    INSERT INTO feedback_pages (page) SELECT DISTINCT page FROM feedback_items;
    CREATE INDEX feedback_items_page ON feedback_items (page, received_at, id, status, kind);
    -- Every page an item names is known, however the item came or changed (a form, a rectified
    -- page, a copy of the site).
    CREATE TRIGGER feedback_pages_on_insert AFTER INSERT ON feedback_items
      BEGIN INSERT OR IGNORE INTO feedback_pages (page) VALUES (NEW.page); END;
    CREATE TRIGGER feedback_pages_on_update AFTER UPDATE OF page ON feedback_items
      BEGIN INSERT OR IGNORE INTO feedback_pages (page) VALUES (NEW.page); END;
  )sql",
           R"sql(
    CREATE TABLE feedback_pages (page TEXT PRIMARY KEY);
    INSERT INTO feedback_pages (page) SELECT DISTINCT page FROM feedback_items;
    CREATE INDEX feedback_items_page ON feedback_items (page, received_at, id, status, kind);
    -- As on SQLite: every page an item names is known.
    CREATE FUNCTION feedback_page_known() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO feedback_pages (page) VALUES (NEW.page) ON CONFLICT DO NOTHING;
      RETURN NULL;
    END $$;
    CREATE TRIGGER feedback_pages_on_insert AFTER INSERT ON feedback_items
      FOR EACH ROW EXECUTE FUNCTION feedback_page_known();
    CREATE TRIGGER feedback_pages_on_update AFTER UPDATE OF page ON feedback_items
      FOR EACH ROW EXECUTE FUNCTION feedback_page_known();
  )sql"},
          {"feedback", 5, R"sql(
    -- Spam alone, by when it came: its purge, a batch at a time, seeks the oldest spam
    -- left rather than reading past every item kept since (kOldSpam).
    CREATE INDEX feedback_items_spam ON feedback_items (status, received_at) WHERE status = 'spam';
  )sql"}};
}

retention::ModuleStorage Inbox::Storage() {
  return {
      .module = "feedback",
      .personal_tables = {kTable},
      .other_tables = {"feedback_usefulness", "feedback_pages"},
      .purge = [](store::Connection& c, const processing::Dataset&, const std::string& cutoff, const std::string& now,
                  bool dry_run, int64_t limit) -> Result<int64_t> {
        auto at = ParseRfc3339(now);
        std::string spam_cutoff = at ? FormatRfc3339(*at - kSpamKept) : cutoff;
        if (dry_run) {
          STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT COUNT(*) FROM feedback_items WHERE received_at < ? OR (" +
                                                          std::string(kOldSpam) + ")",
                                                      {cutoff, spam_cutoff}));
          return rows.front().Int(0);
        }
        // Privacy: feedback past its retention, and spam past a week, deleted; their subject keys
        // go with the daily sweep once nothing names them. Each by an index that holds only what
        // may go next, so that a batch never reads again the items the one before kept.
        STEWARD_ASSIGN_OR_RETURN(
            int64_t deleted, retention::DeleteAtMost(c, "feedback_items", "id", "received_at < ?", {cutoff}, limit));
        if (limit == 0 || deleted < limit) {
          STEWARD_ASSIGN_OR_RETURN(int64_t spam,
                                   retention::DeleteAtMost(c, "feedback_items", "id", kOldSpam, {spam_cutoff},
                                                           limit == 0 ? 0 : limit - deleted));
          deleted += spam;
        }
        // The pages no item names any more (an erasure's too), one seek of the page index each: once
        // a run, with its last batch, for a site's pages are many.
        if (limit == 0 || deleted < limit) {
          STEWARD_RETURN_IF_ERROR(
              c.Exec("DELETE FROM feedback_pages WHERE NOT EXISTS "
                     "(SELECT 1 FROM feedback_items WHERE feedback_items.page = feedback_pages.page)"));
        }
        return deleted;
      },
      .in_use =
          [](const processing::Register& reg) {
            return std::any_of(reg.datasets.begin(), reg.datasets.end(),
                               [](const processing::Dataset& d) { return d.module == "feedback"; });
          },
      // What people write, and the name and email address of those who want an answer.
      .stores = {"user.content.feedback", "user.contact.name", "user.contact.email"},
      .batched = true};
}

std::vector<subjects::SealedTable> Inbox::SealedTables() {
  return {{.table = kTable,
           .time_column = "received_at",
           .columns = {{"kind", "user.content.feedback", "Kind of feedback", false},
                       {"page", "user.behavior.browsing", "Page", false},
                       {"rating", "user.content.feedback", "Rating (1 very dissatisfied to 5 very satisfied)", false},
                       {"doing", "user.content.feedback", "What you were doing", true},
                       {"wrong", "user.content.feedback", "What went wrong", true},
                       {"message", "user.content.feedback", "Your message", true},
                       {"name", "user.contact.name", "Your name", true},
                       {"email", "user.contact.email", "Your email address", true},
                       {"share", "user.preferences.consent", "You let us share it (1 yes, 0 no)", false},
                       {"notes", "user.content.feedback", "Notes our staff made on it", true}}}};
}

std::string Inbox::SpamReason(const Submission& s) const {
  if (!s.honeypot.empty()) return "honeypot";
  if (s.seconds_open && *s.seconds_open < settings_.min_seconds) return "too fast";
  for (const std::string* t : {&s.doing, &s.wrong, &s.message}) {
    if (t->find("WCRTESTINP") != std::string::npos) return "scanner";
  }
  if (s.kind == Kind::kProblem && !Trim(s.doing).empty() && s.doing == s.wrong) return "same text twice";
  return "";
}

InboxQuery::InboxQuery(const Filter& f, std::string_view time_column) {
  if (f.status.empty()) {
    where += " AND status <> 'spam'";
  } else {
    where += " AND status = ?", params.emplace_back(f.status);
  }
  const std::string column(time_column);
  if (!f.from.empty()) where += " AND " + column + " >= ?", params.emplace_back(f.from);
  if (!f.to.empty()) where += " AND " + column + " < ?", params.emplace_back(f.to + "T99");
}

Result<int64_t> InboxQuery::Count(store::Connection& c, std::string_view table, std::string_view order) const {
  // Counted up to a limit, so a million items cost no more to page than a thousand.
  std::vector<store::Value> count_params = params;
  count_params.emplace_back(kCountLimit + 1);
  const std::string ordered = order.empty() ? std::string() : " ORDER BY " + std::string(order);
  STEWARD_ASSIGN_OR_RETURN(auto total, c.Query("SELECT COUNT(*) FROM (SELECT 1 FROM " + std::string(table) + where +
                                                   ordered + " LIMIT ?) AS counted",
                                               count_params));
  return total.front().Int(0);
}

std::vector<store::Value> InboxQuery::Page(const Filter& f) const {
  std::vector<store::Value> page_params = params;
  page_params.emplace_back(f.limit);
  page_params.emplace_back(f.offset);
  return page_params;
}

std::string LikeText(std::string_view text) {
  // Matched as text, never as a pattern: LIKE's wildcards in it are escaped.
  std::string escaped;
  for (char ch : text) {
    if (ch == '\\' || ch == '%' || ch == '_') escaped += '\\';
    escaped += ch;
  }
  return escaped;
}

bool ValidStatus(std::string_view status) {
  return status == "new" || status == "in-progress" || status == "done" || status == "spam";
}

namespace {

// The plain columns, then (kItemColumns only) the sealed ones: a list that opens nothing reads none.
constexpr const char* kPlainColumns =
    "id, received_at, kind, page, COALESCE(rating, 0), status, spam_reason, redacted, assignee, duplicate, share, "
    "CASE WHEN email IS NULL THEN 0 ELSE 1 END, COALESCE(subject_id, '')";
constexpr const char* kItemColumns =
    "id, received_at, kind, page, COALESCE(rating, 0), status, spam_reason, redacted, assignee, duplicate, share, "
    "CASE WHEN email IS NULL THEN 0 ELSE 1 END, COALESCE(subject_id, ''), doing, wrong, message, name, email, notes";

Item ItemOf(const store::Row& r) {
  Item it;
  it.id = r.Int(0);
  it.received_at = r.Text(1);
  it.kind = r.Text(2);
  it.page = r.Text(3);
  it.rating = r.Int(4);
  it.status = r.Text(5);
  it.spam_reason = r.Text(6);
  it.redacted = r.Text(7);
  it.assignee = r.Text(8);
  it.duplicate = r.Int(9) != 0;
  it.share = r.Int(10) != 0;
  it.has_contact = r.Int(11) != 0;
  return it;
}

}  // namespace

Status Inbox::Open(store::Connection& c, const std::string& subject_id, const store::Row& r, size_t first,
                   Item& item) const {
  item.opened = true;
  if (subject_id.empty()) return Ok();
  STEWARD_ASSIGN_OR_RETURN(auto keys, subjects_.Keys(c, subject_id));
  std::string* fields[] = {&item.doing, &item.wrong, &item.message, &item.name, &item.email};
  const char* columns[] = {"doing", "wrong", "message", "name", "email"};
  for (size_t i = 0; i < 5; ++i) {
    if (r.IsNull(first + i)) continue;
    auto opened = keys ? keys->Open(Field(columns[i]), r.Text(first + i)) : std::nullopt;
    *fields[i] = opened ? *opened : "(erased)";
  }
  if (!r.IsNull(first + 5) && keys) {
    auto opened = keys->Open(Field("notes"), r.Text(first + 5));
    if (opened) item.notes = NotesFromJson(*opened);
  }
  return Ok();
}

std::vector<Note> NotesFromJson(std::string_view text) {
  std::vector<Note> out;
  auto j = http::ParseJson(text, {.max_depth = 3, .max_bytes = 16 << 20});
  if (!j.ok() || !j->is_array()) return out;
  for (const auto& n : *j) {
    if (!n.is_object()) continue;
    out.push_back({n.value("at", ""), n.value("by", ""), n.value("text", "")});
  }
  return out;
}

std::string NotesToJson(const std::vector<Note>& notes) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& n : notes) j.push_back({{"at", n.at}, {"by", n.by}, {"text", n.text}});
  return JsonText(j);
}

Result<bool> AppendNote(store::Connection& c, const subjects::SubjectStore& subjects, std::string_view table,
                        int64_t id, const Note& note) {
  if (Trim(note.text).empty()) return MakeError(ErrorCode::kInvalidArgument, "Enter a note");
  if (Utf8Length(note.text) > kMaxNote) {
    return MakeError(ErrorCode::kInvalidArgument, "A note must be 2,000 characters or less");
  }
  const std::string t(table);
  // Privacy: the item's dataset. Its notes opened, one added and sealed again under the same key.
  STEWARD_ASSIGN_OR_RETURN(auto rows,
                           c.Query("SELECT COALESCE(subject_id, ''), notes FROM " + t + " WHERE id = ?", {id}));
  if (rows.empty()) return false;
  std::string subject_id = rows.front().Text(0);
  if (subject_id.empty()) {
    STEWARD_ASSIGN_OR_RETURN(subject_id, subjects.Create(c));
  }
  STEWARD_ASSIGN_OR_RETURN(auto keys, subjects.Keys(c, subject_id));
  if (!keys) return MakeError(ErrorCode::kFailedPrecondition, "the person this item is about has been erased");
  std::vector<Note> notes;
  if (!rows.front().IsNull(1)) {
    auto opened = keys->Open(t + ".notes", rows.front().Text(1));
    if (opened) notes = NotesFromJson(*opened);
  }
  notes.push_back({note.at, note.by, ValidUtf8(std::string(Trim(note.text)))});
  STEWARD_RETURN_IF_ERROR(c.Exec("UPDATE " + t + " SET subject_id = ?, notes = ? WHERE id = ?",
                                 {subject_id, store::Blob{keys->Seal(t + ".notes", NotesToJson(notes))}, id}));
  return true;
}

Result<Item> Inbox::ItemFor(store::Connection& c, const store::Row& r, const Filter& f) const {
  Item it = ItemOf(r);
  bool open = f.personal == Filter::Personal::kAll || (f.personal == Filter::Personal::kShared && it.share);
  if (open) STEWARD_RETURN_IF_ERROR(Open(c, r.Text(12), r, 13, it));
  return it;
}

namespace {
// The deepest a list may reach (offset and limit) for ListByPage to merge it.
constexpr int64_t kMergedDepth = 1000;

// The items the filter selects by all but their page, which each list reads in its own way.
InboxQuery ItemsQuery(const Filter& f) {
  InboxQuery q(f, "received_at");
  if (!f.kind.empty()) q.where += " AND kind = ?", q.params.emplace_back(f.kind);
  if (f.redacted_only) q.where += " AND redacted <> ''";
  return q;
}
}  // namespace

Result<std::optional<std::pair<std::vector<Item>, int64_t>>> Inbox::ListByPage(store::Connection& c,
                                                                               const Filter& f) const {
  // Privacy: feedback, read for the caseworker's inbox as List says; the page addresses alone
  // first (feedback_pages), then the items' times and ids, then the listed items themselves.
  // The pages that match: a pass over the distinct pages, a few thousand on most sites.
  std::vector<std::string> pages;
  STEWARD_RETURN_IF_ERROR(c.ForEach("SELECT page FROM feedback_pages WHERE page LIKE ? ESCAPE '\\' LIMIT ?",
                                    {"%" + LikeText(f.page) + "%", kMergedPages + 1}, [&](const store::Row& r) {
                                      pages.push_back(r.Text(0));
                                      return true;
                                    }));
  // Many pages: their items are many too, and the index of when items came finds them soonest.
  if (static_cast<int64_t>(pages.size()) > kMergedPages) return std::optional<std::pair<std::vector<Item>, int64_t>>();
  const int64_t depth = f.offset + f.limit;
  const InboxQuery q = ItemsQuery(f);
  auto with = [&](std::initializer_list<store::Value> more) {
    std::vector<store::Value> params = q.params;
    params.insert(params.end(), more);
    return params;
  };

  // The count: each page's items that pass the rest of the filter, page after page until the
  // count's limit (a section's first few pages, on a large site).
  const std::string count_sql =
      "SELECT COUNT(*) FROM (SELECT 1 FROM feedback_items" + q.where + " AND page = ? LIMIT ?) AS counted";
  int64_t total = 0;
  for (const std::string& page : pages) {
    if (total > kCountLimit) break;
    STEWARD_ASSIGN_OR_RETURN(auto counted, c.Query(count_sql, with({page, kCountLimit + 1 - total})));
    total += counted.front().Int(0);
  }

  // The list: the `depth` newest items of all the pages, merged. Once that many are found, a page
  // is asked only for items no older than the oldest of them, and read until one is older, so
  // most pages of a section cost one seek, whatever came since on other pages.
  struct Key {
    std::string received_at;
    int64_t id;
  };
  auto newer = [](const Key& a, const Key& b) {
    return a.received_at != b.received_at ? a.received_at > b.received_at : a.id > b.id;
  };
  std::vector<Key> keys;  // a heap whose front is the oldest of the newest found so far
  keys.reserve(static_cast<size_t>(std::max<int64_t>(depth, 0)));
  const std::string order = " ORDER BY received_at DESC, id DESC LIMIT ?";
  const std::string newest_sql = "SELECT received_at, id FROM feedback_items" + q.where + " AND page = ?" + order;
  const std::string since_sql =
      "SELECT received_at, id FROM feedback_items" + q.where + " AND page = ? AND received_at >= ?" + order;
  for (const std::string& page : pages) {
    if (depth <= 0) break;
    const bool full = static_cast<int64_t>(keys.size()) == depth;
    auto params = full ? with({page, keys.front().received_at, depth}) : with({page, depth});
    STEWARD_RETURN_IF_ERROR(c.ForEach(full ? since_sql : newest_sql, params, [&](const store::Row& r) {
      Key k{r.Text(0), r.Int(1)};
      if (static_cast<int64_t>(keys.size()) < depth) {
        keys.push_back(std::move(k));
        std::push_heap(keys.begin(), keys.end(), newer);
        return true;
      }
      if (!newer(k, keys.front())) return false;  // this page's next are older still
      std::pop_heap(keys.begin(), keys.end(), newer);
      keys.back() = std::move(k);
      std::push_heap(keys.begin(), keys.end(), newer);
      return true;
    }));
  }
  std::sort(keys.begin(), keys.end(), newer);
  const auto offset = static_cast<size_t>(std::min<int64_t>(f.offset, static_cast<int64_t>(keys.size())));
  const auto end = static_cast<size_t>(std::min<int64_t>(depth, static_cast<int64_t>(keys.size())));

  std::pair<std::vector<Item>, int64_t> out;
  out.second = total;
  const char* columns = f.personal == Filter::Personal::kNone ? kPlainColumns : kItemColumns;
  const std::string one = std::string("SELECT ") + columns + " FROM feedback_items WHERE id = ?";
  for (size_t i = offset; i < end; ++i) {
    STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query(one, {keys[i].id}));
    if (rows.empty()) continue;
    STEWARD_ASSIGN_OR_RETURN(Item it, ItemFor(c, rows.front(), f));
    out.first.push_back(std::move(it));
  }
  return std::optional(std::move(out));
}

Result<std::pair<std::vector<Item>, int64_t>> Inbox::List(const Filter& f) const {
  std::pair<std::vector<Item>, int64_t> out;
  // Privacy: feedback, read for the caseworker's inbox or an export; personal fields opened only
  // as the filter says (the callers audit it).
  STEWARD_RETURN_IF_ERROR(store_.Read([&](store::Connection& c) -> Status {
    if (!f.page.empty() && f.offset + f.limit <= kMergedDepth) {
      STEWARD_ASSIGN_OR_RETURN(auto merged, ListByPage(c, f));
      if (merged) {
        out = std::move(*merged);
        return Ok();
      }
    }
    InboxQuery q = ItemsQuery(f);
    std::string& where = q.where;
    if (!f.page.empty()) where += " AND page LIKE ? ESCAPE '\\'", q.params.emplace_back("%" + LikeText(f.page) + "%");
    // Along the index of when items came, oldest first (the list reads it from the other end, so
    // between them a filter whose items are old, or new, is found soon); another index that
    // covers the filter (the pages') would count in the order of the pages' addresses.
    STEWARD_ASSIGN_OR_RETURN(out.second, q.Count(c, kTable, "received_at, id"));
    std::vector<store::Value> page_params = q.Page(f);
    Status inner = Ok();
    const char* columns = f.personal == Filter::Personal::kNone ? kPlainColumns : kItemColumns;
    STEWARD_RETURN_IF_ERROR(c.ForEach(std::string("SELECT ") + columns + " FROM feedback_items" + where +
                                          " ORDER BY received_at DESC, id DESC LIMIT ? OFFSET ?",
                                      page_params, [&](const store::Row& r) {
                                        auto it = ItemFor(c, r, f);
                                        if (!it.ok()) {
                                          inner = it.error();
                                          return false;
                                        }
                                        out.first.push_back(std::move(*it));
                                        return true;
                                      }));
    return inner;
  }));
  return out;
}

Result<std::optional<Item>> Inbox::Get(int64_t id) const {
  std::optional<Item> out;
  // Privacy: feedback, one item opened for the caseworker (the page audits it).
  STEWARD_RETURN_IF_ERROR(store_.Read([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(
        auto rows, c.Query(std::string("SELECT ") + kItemColumns + " FROM feedback_items WHERE id = ?", {id}));
    if (rows.empty()) return Ok();
    Item it = ItemOf(rows.front());
    STEWARD_RETURN_IF_ERROR(Open(c, rows.front().Text(12), rows.front(), 13, it));
    out = std::move(it);
    return Ok();
  }));
  return out;
}

Result<bool> TriageRow(store::Connection& c, std::string_view table, int64_t id, const std::string& status,
                       const std::optional<std::string>& assignee) {
  if (!ValidStatus(status)) {
    return MakeError(ErrorCode::kInvalidArgument, "the status is new, in-progress, done or spam");
  }
  // Only the plain columns change: nothing the person wrote is opened to triage it.
  STEWARD_ASSIGN_OR_RETURN(int64_t n, c.Exec("UPDATE " + std::string(table) +
                                                 " SET status = ?, assignee = COALESCE(?, assignee) WHERE id = ?",
                                             {status, assignee ? store::Value(*assignee) : store::Value(), id}));
  return n > 0;
}

Result<bool> Inbox::Triage(store::Connection& c, int64_t id, const std::string& status,
                           const std::optional<std::string>& assignee) const {
  return TriageRow(c, kTable, id, status, assignee);
}

Result<bool> Inbox::AddNote(store::Connection& c, int64_t id, const Note& note) const {
  return AppendNote(c, subjects_, kTable, id, note);
}

Result<std::pair<std::vector<Usefulness>, int64_t>> Inbox::UsefulnessReport(const UsefulnessQuery& q) const {
  std::pair<std::vector<Usefulness>, int64_t> out;
  std::string where = " WHERE day >= ? AND day <= ?";
  std::vector<store::Value> params = {q.from, q.to};
  if (!q.page.empty()) {
    where += " AND page LIKE ? ESCAPE '\\'";
    params.emplace_back("%" + LikeText(q.page) + "%");
  }
  STEWARD_RETURN_IF_ERROR(store_.Read([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(auto total,
                             c.Query("SELECT COUNT(DISTINCT page) FROM feedback_usefulness" + where, params));
    out.second = total.front().Int(0);
    std::vector<store::Value> page_params = params;
    page_params.emplace_back(q.limit);
    page_params.emplace_back(q.offset);
    return c.ForEach("SELECT page, SUM(yes), SUM(no) FROM feedback_usefulness" + where +
                         " GROUP BY page ORDER BY SUM(yes) + SUM(no) DESC, page LIMIT ? OFFSET ?",
                     page_params, [&](const store::Row& r) {
                       out.first.push_back({r.Text(0), r.Int(1), r.Int(2)});
                       return true;
                     });
  }));
  return out;
}

Result<int64_t> Inbox::PurgeSpam(audit::Trail& trail) {
  int64_t purged = 0;
  std::string cutoff = FormatRfc3339(clock_.Now() - kSpamKept);
  // Privacy: feedback marked spam, deleted a week after it came. In batches, each its own
  // transaction, so that a wave of spam does not hold the form posts queued behind its purge.
  for (;;) {
    int64_t batch = 0;
    STEWARD_RETURN_IF_ERROR(store_.Write([&](store::Connection& c) -> Status {
      STEWARD_ASSIGN_OR_RETURN(batch, retention::DeleteAtMost(c, "feedback_items", "id", kOldSpam, {cutoff},
                                                              retention::Runner::kFirstBatch));
      if (batch == 0) return Ok();
      return trail.AppendIn(c, {.actor = "system",
                                .action = "feedback.spam_purged",
                                .details = {{"count", std::to_string(batch)}, {"cutoff", cutoff}}});
    }));
    purged += batch;
    if (batch < retention::Runner::kFirstBatch) return purged;
  }
}

// A submission made ready to keep: cleaned, redacted and fingerprinted before the write, so the
// writer thread only looks up the person, seals and inserts.
struct Inbox::Pending {
  Kind kind = Kind::kContact;
  std::string now, day, page;
  bool useful = false;
  std::string spam, doing, wrong, message, name, email, redacted, fingerprint, duplicate_since;
  int64_t rating = 0;
  bool share = false, javascript = false;
  Stored out;
};

std::shared_ptr<Inbox::Pending> Inbox::Prepare(const Submission& s) const {
  auto p = std::make_shared<Pending>();
  SystemTime now = clock_.Now();
  p->kind = s.kind;
  p->now = FormatRfc3339(now);
  p->day = p->now.substr(0, 10);
  p->page = ScrubUrl(CutUtf8(ValidUtf8(s.page), 2048));
  if (s.kind == Kind::kUseful) {
    // A click is quick, so time says nothing here; a form this site did not show is not counted.
    p->out.spam = !s.honeypot.empty();
    p->useful = s.useful.value_or(false);
    return p;
  }
  p->spam = SpamReason(s);
  p->out.spam = !p->spam.empty();
  // Personal data typed where it was not asked for goes before anything is kept; the contact
  // details given to be answered stay, in their own fields.
  std::set<std::string> found;
  auto clean = [&](const std::string& text) {
    Redacted r = Redact(ValidUtf8(text));
    found.insert(r.found.begin(), r.found.end());
    return r.text;
  };
  p->doing = clean(s.doing);
  p->wrong = clean(s.wrong);
  p->message = clean(s.message);
  p->name = ValidUtf8(std::string(Trim(s.name)));
  p->email = std::string(Trim(s.email));
  p->out.redacted.assign(found.begin(), found.end());
  for (const auto& k : p->out.redacted) p->redacted += (p->redacted.empty() ? "" : ",") + k;
  p->fingerprint = crypto::Hash(std::string(KindName(s.kind)) + '\0' + p->page + '\0' + p->doing + '\0' + p->wrong +
                                    '\0' + p->message + '\0' + std::to_string(s.rating) + '\0' + ToLower(p->email),
                                fingerprint_key_);
  p->duplicate_since = FormatRfc3339(now - kDuplicateWindow);
  p->rating = s.rating;
  p->share = s.share && !settings_.share_with.empty();
  p->javascript = s.javascript;
  return p;
}

Status Inbox::Keep(store::Connection& c, Pending& p) const {
  if (p.kind == Kind::kUseful) {
    if (p.out.spam) return Ok();
    // Counted, never kept one by one.
    STEWARD_RETURN_IF_ERROR(
        c.Exec("INSERT INTO feedback_usefulness (page, day, yes, no) VALUES (?, ?, ?, ?) "
               "ON CONFLICT (page, day) DO UPDATE SET yes = feedback_usefulness.yes + excluded.yes, "
               "no = feedback_usefulness.no + excluded.no",
               {p.page, p.day, int64_t{p.useful ? 1 : 0}, int64_t{p.useful ? 0 : 1}}));
    return Ok();
  }
  // Privacy: feedback. What the person typed is sealed under their subject key in this write.
  STEWARD_ASSIGN_OR_RETURN(auto recent,
                           c.Query("SELECT 1 FROM feedback_items WHERE fingerprint = ? AND received_at >= ? LIMIT 1",
                                   {store::Blob{p.fingerprint}, p.duplicate_since}));
  p.out.duplicate = !recent.empty();
  store::Value subject_id, v_doing, v_wrong, v_message, v_name, v_email;
  bool personal = !p.doing.empty() || !p.wrong.empty() || !p.message.empty() || !p.name.empty() || !p.email.empty();
  if (personal) {
    std::string id;
    if (!p.email.empty()) {
      STEWARD_ASSIGN_OR_RETURN(auto key, subject::Key::Make(subject::KeyKind::kEmail, p.email));
      STEWARD_ASSIGN_OR_RETURN(id, subjects_.ForIdentifier(c, key));
    } else {
      STEWARD_ASSIGN_OR_RETURN(id, subjects_.Create(c));
    }
    STEWARD_ASSIGN_OR_RETURN(auto keys, subjects_.Keys(c, id));
    if (!keys) return MakeError(ErrorCode::kInternal, "a subject made in this write has no key");
    auto seal = [&](std::string_view column, const std::string& text) -> store::Value {
      if (text.empty()) return store::Value();
      return store::Blob{keys->Seal(Field(column), text)};
    };
    subject_id = id;
    v_doing = seal("doing", p.doing);
    v_wrong = seal("wrong", p.wrong);
    v_message = seal("message", p.message);
    v_name = seal("name", p.name);
    v_email = seal("email", p.email);
  }
  STEWARD_ASSIGN_OR_RETURN(
      auto rows,
      c.Query("INSERT INTO feedback_items (received_at, kind, page, rating, status, spam_reason, duplicate, redacted, "
              "share, javascript, fingerprint, subject_id, doing, wrong, message, name, email) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
              {p.now, std::string(KindName(p.kind)), p.page,
               p.kind == Kind::kRating ? store::Value(p.rating) : store::Value(),
               std::string(p.out.spam ? "spam" : "new"), p.spam, int64_t{p.out.duplicate ? 1 : 0}, p.redacted,
               int64_t{p.share ? 1 : 0}, int64_t{p.javascript ? 1 : 0}, store::Blob{p.fingerprint}, subject_id, v_doing,
               v_wrong, v_message, v_name, v_email}));
  p.out.id = rows.front().Int(0);
  return Ok();
}

Result<Stored> Inbox::Submit(const Submission& s) {
  auto p = Prepare(s);
  STEWARD_RETURN_IF_ERROR(store_.Write([&](store::Connection& c) { return Keep(c, *p); }));
  return p->out;
}

Result<Stored> Inbox::SubmitAsync(const Submission& s, std::function<void(Result<Stored>)> done) {
  auto p = Prepare(s);
  Stored known = p->out;
  // The inbox outlives the write (its owner waits for what it queued): `this` stays valid.
  STEWARD_RETURN_IF_ERROR(store_.Submit([this, p](store::Connection& c) { return Keep(c, *p); },
                                        [p, done = std::move(done)](const Status& committed) {
                                          if (committed.ok()) {
                                            done(p->out);
                                          } else {
                                            done(committed.error());
                                          }
                                        }));
  return known;
}

}  // namespace steward::feedback
