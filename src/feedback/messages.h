// Inbound messages: what people send the organisation on social media or webchat, brought in from
// the tool that received them (ONS: direct messages through Hootsuite, kept 3 months), and kept
// under the register's dataset of module "messages".
//
// The sender's handle and the text are sealed in the subject store under the sender's key, found
// by the handle ("x:@someone"); the channel, thread, link and times are plain. A message's time is
// when it was sent, and retention counts from it.
//
//   auto parsed = messages::ParseJsonLines(in);   // or ParseCsv: good messages, skipped lines
//   messages::Inbox inbox(store, key, clock);
//   auto kept = inbox.Keep(parsed.messages);
//
// Thread safety: Inbox is safe for concurrent use; the parsers are pure.
#pragma once

#include <cstdint>
#include <istream>
#include <string>
#include <utility>
#include <vector>

#include "audit/audit.h"
#include "core/clock.h"
#include "core/result.h"
#include "crypto/crypto.h"
#include "feedback/feedback.h"
#include "module/module.h"
#include "retention/retention.h"
#include "store/store.h"
#include "subjects/sealed.h"

namespace steward::messages {

struct Message {
  std::string channel;  // "x", "facebook", "webchat": lower-case letters, digits, dashes
  std::string handle;   // the sender's name on the channel
  std::string text;     // up to kMaxText characters
  std::string sent_at;  // RFC 3339 (UTC), as given
  std::string thread;   // the conversation's id on the channel, may be empty
  std::string link;     // https:// address of the message, may be empty
};

constexpr size_t kMaxText = 10000;

// Checks one message. Errors: kInvalidArgument saying which field is wrong (never its value).
Status Check(const Message& m);

struct Parsed {
  std::vector<Message> messages;
  int64_t lines = 0;                                     // lines read (CSV: records after the header)
  std::vector<std::pair<int64_t, std::string>> skipped;  // line number and reason
};

// JSON lines: {"channel", "handle", "text", "time", "thread", "link"} one object a line.
Parsed ParseJsonLines(std::istream& in);
// CSV (RFC 4180) with a header naming the same columns in any order; channel, handle, text and
// time are required.
Parsed ParseCsv(std::istream& in);

// One kept message, as the caseworker's inbox shows it.
struct Kept {
  int64_t id = 0;
  std::string sent_at, received_at, channel, thread, link, status, assignee;
  // Opened only when asked for: the sender's handle, the text, the caseworkers' notes.
  bool opened = false;
  std::string handle, text;
  std::vector<feedback::Note> notes;
};

class Inbox {
 public:
  Inbox(store::Store& store, const crypto::SecretKey& key, const Clock& clock);

  static std::vector<store::Migration> Migrations();
  // The messages' table, purged by when each message was sent.
  static retention::ModuleStorage Storage();
  static std::vector<subjects::SealedTable> SealedTables();

  // Keeps checked messages in one write, each sealed under its sender's key, with `entry` (its
  // details given the count) in the audit trail in the same write. Returns how many.
  Result<int64_t> Keep(const std::vector<Message>& messages, audit::Trail& trail, audit::Entry entry);

  // The messages the inbox's filter selects, newest sent first, and how many (up to
  // feedback::kCountLimit + 1). A filter by page, or for redacted items only, selects none: a
  // message has no page and nothing is taken out of it. The dates are of when it was sent.
  Result<std::pair<std::vector<Kept>, int64_t>> List(const feedback::Filter& filter) const;
  // One message with its handle, text and notes opened, or nullopt.
  Result<std::optional<Kept>> Get(int64_t id) const;
  // As feedback::Inbox::Triage and AddNote, for a message.
  Result<bool> Triage(store::Connection& c, int64_t id, const std::string& status,
                      const std::optional<std::string>& assignee) const;
  Result<bool> AddNote(store::Connection& c, int64_t id, const feedback::Note& note) const;

 private:
  store::Store& store_;
  const Clock& clock_;
  subjects::SubjectStore subjects_;
};

// The messages module's descriptor: its table, `steward messages import`, its subject data.
module::Descriptor Module();

}  // namespace steward::messages
