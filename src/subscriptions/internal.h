// What the two halves of Subscriptions share: the subscriber's life (subscriptions.cc) and the
// sending (sending.cc). Private to the module.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/strings.h"
#include "crypto/crypto.h"
#include "mail/mail.h"
#include "store/store.h"
#include "subject/restrictions.h"
#include "subjects/subjects.h"
#include "subscriptions/subscriptions.h"

namespace steward::subscriptions {

namespace internal {

inline std::string DerivedKey(const crypto::SecretKey& key, std::string_view context) {
  auto k = key.DeriveKey(context);
  return std::string(reinterpret_cast<const char*>(k.data()), k.size());
}

inline int64_t Seconds(SystemTime t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

inline std::string BlobOf(const store::Row& row, size_t col) {
  if (row.IsNull(col)) return "";
  return std::get<store::Blob>(row.at(col)).bytes;
}

inline std::vector<std::string> SplitList(std::string_view text) {
  std::vector<std::string> out;
  for (auto part : Split(text, ',')) {
    if (!part.empty()) out.emplace_back(part);
  }
  return out;
}

template <typename T>
Status Done(Result<T> r) {
  if (!r.ok()) return r.error();
  return Ok();
}

// The topics a subscriber has, in order.
inline Result<std::vector<std::string>> TopicsOf(store::Connection& c, int64_t id) {
  std::vector<std::string> topics;
  STEWARD_RETURN_IF_ERROR(c.ForEach("SELECT topic FROM subscriber_topics WHERE subscriber_id = ? ORDER BY topic", {id},
                                    [&](const store::Row& r) {
                                      topics.push_back(r.Text(0));
                                      return true;
                                    }));
  return topics;
}

}  // namespace internal

struct Subscriptions::Impl {
  Impl(store::Store& s, const crypto::SecretKey& key, const Clock& c, mail::Queue& q, mail::Settings m,
       std::function<std::string()> url, std::string name)
      : store(s),
        clock(c),
        queue(q),
        mail(std::move(m)),
        base_url(std::move(url)),
        site_name(std::move(name)),
        subjects(key, c),
        username_key(internal::DerivedKey(key, "subusers")) {}
  store::Store& store;
  const Clock& clock;
  mail::Queue& queue;
  mail::Settings mail;
  const subject::Restrictions* restrictions = nullptr;
  std::function<std::string()> base_url;
  std::string site_name;
  subjects::SubjectStore subjects;
  std::string username_key;

  std::string Now() const { return FormatRfc3339Millis(clock.Now()); }
  std::string Url(std::string_view path) const { return base_url() + std::string(path); }
  std::string UsernameHash(std::string_view username) const { return crypto::Hash(ToLower(username), username_key); }
};
}  // namespace steward::subscriptions
