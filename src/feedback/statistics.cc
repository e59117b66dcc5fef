#include "feedback/statistics.h"

#include <memory>
#include <set>

#include "core/days.h"
#include "feedback/feedback.h"
#include "subjects/subjects.h"

namespace steward::feedback {
namespace {

std::string KindTitle(std::string_view kind) {
  if (kind == "problem") return "Problem reports";
  if (kind == "contact") return "Messages";
  if (kind == "rating") return "Ratings";
  return "Other";
}

std::string StatusTitle(std::string_view status) {
  if (status == "new") return "Not yet read";
  if (status == "in-progress") return "Being dealt with";
  if (status == "done") return "Dealt with";
  return "Other";
}

}  // namespace

std::vector<module::Counter> Counters(module::Platform& p) {
  auto settings = ReadSettings(*p.config.document, p.reg);
  if (!settings.ok() || !*settings) return {};
  module::Counter c{.id = "feedback.received", .title = "Feedback received", .dataset = (*settings)->dataset};
  c.dimensions = {{.id = "kind", .title = "Kind", .categories = {"Problem reports", "Messages", "Ratings", "Other"}},
                  {.id = "rating",
                   .title = "Satisfaction",
                   .categories = {std::string(RatingText(1)), std::string(RatingText(2)), std::string(RatingText(3)),
                                  std::string(RatingText(4)), std::string(RatingText(5)), "No rating"}},
                  {.id = "outcome",
                   .title = "Where it stands",
                   .categories = {"Not yet read", "Being dealt with", "Dealt with", "Other"}}};
  auto subjects = std::make_shared<subjects::SubjectStore>(p.key, p.clock);
  auto hashes = std::make_shared<crypto::KeyedHash>([&] {
    auto k = p.key.DeriveKey("cellkeys");
    return std::string(reinterpret_cast<const char*>(k.data()), k.size());
  }());
  module::Platform* platform = &p;
  c.scan = [platform, subjects, hashes](int64_t from, int64_t to, std::string_view dimension,
                                        const std::function<void(const module::Counted&)>& each) -> Status {
    std::string dim(dimension);
    return platform->store.Read([&](store::Connection& conn) -> Status {
      STEWARD_ASSIGN_OR_RETURN(auto all, platform->restrictions.Marks(conn, "feedback"));
      std::set<std::string> marks(all.begin(), all.end());
      auto marked = [&](subject::KeyKind kind, const std::string& value) {
        auto key = subject::Key::Make(kind, value);
        return key.ok() && marks.count(platform->restrictions.Hash("feedback", *key)) > 0;
      };
      struct Row {
        int64_t id;
        std::string received_at, kind, status, subject_id, email;
        int64_t rating;
      };
      std::vector<Row> rows;
      STEWARD_RETURN_IF_ERROR(conn.ForEach(
          "SELECT id, received_at, kind, status, coalesce(rating, 0), coalesce(subject_id, ''), email "
          "FROM feedback_items WHERE received_at >= ? AND received_at < ? AND status <> 'spam' AND duplicate = 0 "
          "ORDER BY id",
          {DayText(from), DayText(to)}, [&](const store::Row& r) {
            rows.push_back({.id = r.Int(0),
                            .received_at = r.Text(1),
                            .kind = r.Text(2),
                            .status = r.Text(3),
                            .subject_id = r.Text(5),
                            .email = r.IsNull(6) ? "" : r.Text(6),
                            .rating = r.Int(4)});
            return true;
          }));
      for (const Row& r : rows) {
        if (!marks.empty() && !r.subject_id.empty()) {
          if (marked(subject::KeyKind::kSubjectId, r.subject_id)) continue;
          if (!r.email.empty()) {
            STEWARD_ASSIGN_OR_RETURN(auto keys, subjects->Keys(conn, r.subject_id));
            // Privacy: the feedback dataset's address, opened only to check a restriction mark.
            auto email = keys ? keys->Open("feedback_items.email", r.email) : std::nullopt;
            if (email && marked(subject::KeyKind::kEmail, *email)) continue;
          }
        }
        auto day = ParseDay(std::string_view(r.received_at).substr(0, 10));
        if (!day) continue;
        module::Counted out{.day = *day,
                            .key = static_cast<uint32_t>(hashes->Digest64({"feedback:", std::to_string(r.id)}) & 255u)};
        if (dim == "kind") out.category = KindTitle(r.kind);
        if (dim == "rating")
          out.category = r.rating >= 1 && r.rating <= 5 ? std::string(RatingText(r.rating)) : "No rating";
        if (dim == "outcome") out.category = StatusTitle(r.status);
        each(out);
      }
      return Ok();
    });
  };
  return {std::move(c)};
}

}  // namespace steward::feedback
