// Retention for accounts: what the sweep deletes for each of the module's datasets, and
// registrations never confirmed.
#include "accounts/accounts.h"

#include "accounts/accounts_impl.h"

namespace steward::accounts {

using namespace internal;  // NOLINT(google-build-using-namespace): the helpers of accounts_impl.h

retention::ModuleStorage Accounts::Storage(const std::shared_ptr<const Settings>& settings) {
  std::vector<std::string> tables = {"accounts"};
  tables.insert(tables.end(), std::begin(kPerAccount), std::end(kPerAccount));
  return {.module = "accounts",
          .personal_tables = std::move(tables),
          .purge = [settings](store::Connection& c, const processing::Dataset& d, const std::string& cutoff,
                              const std::string& now, bool dry_run, int64_t limit) -> Result<int64_t> {
            if (!settings) return int64_t{0};
            return Purge(c, *settings, d, cutoff, now, dry_run, limit);
          },
          .in_use =
              [](const processing::Register& reg) {
                return std::any_of(reg.datasets.begin(), reg.datasets.end(), [](const processing::Dataset& d) {
                  return d.module == "accounts" && d.kept_by.empty();
                });
              },
          .batched = true};
}

Result<int64_t> Accounts::PurgeUnconfirmed() {
  int64_t n = 0;
  STEWARD_RETURN_IF_ERROR(impl_->store.Write([&](store::Connection& c) -> Status {
    n = 0;
    std::string cutoff = FormatRfc3339Millis(impl_->clock.Now() - std::chrono::hours(kLinkHours));
    std::vector<int64_t> ids;
    STEWARD_RETURN_IF_ERROR(c.ForEach("SELECT id FROM accounts WHERE state = 'unconfirmed' AND created_at < ?",
                                      {cutoff}, [&](const store::Row& r) {
                                        ids.push_back(r.Int(0));
                                        return true;
                                      }));
    for (int64_t id : ids) STEWARD_RETURN_IF_ERROR(DeleteAll(c, id));
    n = static_cast<int64_t>(ids.size());
    // New addresses never confirmed go when their link expires.
    STEWARD_RETURN_IF_ERROR(
        c.Exec("DELETE FROM account_email_changes WHERE expires_at <= ?", {FormatRfc3339Millis(impl_->clock.Now())}));
    return Ok();
  }));
  return n;
}

Result<int64_t> Purge(store::Connection& c, const Settings& s, const processing::Dataset& d, const std::string& cutoff,
                      const std::string& now, bool dry_run, int64_t limit) {
  (void)now;
  int64_t total = 0;
  // Each query finds its accounts through an index that holds nothing kept (accounts_state,
  // accounts_inactive, account_consents_box), so a batch does not read again what the batches
  // before it kept; with a limit, each takes what the ones before it left of the batch.
  auto each = [&](std::string sql, std::vector<store::Value> params,
                  const std::function<Status(int64_t)>& act) -> Status {
    if (limit > 0) {
      if (total >= limit) return Ok();
      sql += " LIMIT ?";
      params.emplace_back(limit - total);
    }
    std::vector<int64_t> ids;
    STEWARD_RETURN_IF_ERROR(c.ForEach(sql, params, [&](const store::Row& r) {
      ids.push_back(r.Int(0));
      return true;
    }));
    total += static_cast<int64_t>(ids.size());
    if (dry_run) return Ok();
    for (int64_t id : ids) STEWARD_RETURN_IF_ERROR(act(id));
    return Ok();
  };
  if (d.id == s.closure_dataset) {
    // The minimum kept after closing, once its time from the closing day has passed.
    STEWARD_RETURN_IF_ERROR(each("SELECT id FROM accounts WHERE state = 'closed' AND closed_at < ?", {cutoff},
                                 [&](int64_t id) { return DeleteAll(c, id); }));
  }
  if (d.id == s.dataset) {
    // Accounts nobody has used for the dataset's whole time (its maximum).
    STEWARD_RETURN_IF_ERROR(each("SELECT id FROM accounts WHERE state <> 'closed' AND last_active_at < ?", {cutoff},
                                 [&](int64_t id) { return DeleteAll(c, id); }));
  }
  for (const auto& box : s.consents) {
    if (box.dataset != d.id) continue;
    // Consents withdrawn longer ago than the dataset's time: their record and what they covered.
    STEWARD_RETURN_IF_ERROR(
        each("SELECT k.account_id FROM account_consents k WHERE k.box = ? AND k.given = 0 AND k.at < ? AND k.id = "
             "(SELECT MAX(l.id) FROM account_consents l WHERE l.account_id = k.account_id AND l.box = k.box)",
             {box.id, cutoff}, [&](int64_t id) -> Status {
               for (const auto& f : s.fields) {
                 if (f.consent != box.id) continue;
                 STEWARD_RETURN_IF_ERROR(
                     c.Exec("DELETE FROM account_values WHERE account_id = ? AND field = ?", {id, f.id}));
               }
               return Done(c.Exec("DELETE FROM account_consents WHERE account_id = ? AND box = ?", {id, box.id}));
             }));
  }
  return total;
}

}  // namespace steward::accounts
