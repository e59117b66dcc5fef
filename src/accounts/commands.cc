#include "accounts/commands.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>

#include "accounts/accounts.h"
#include "oidc/jose.h"
#include "core/json_text.h"
#include "core/strings.h"

namespace steward::accounts {

using module::FieldError;

// `steward accounts import FILE [--source S]`: accounts from the service's previous system, from a
// CSV whose header names the columns: email and the declared fields' ids (dates as YYYY-MM-DD).
// Prints how many were imported, how many addresses had an account already, and the lines skipped
// with their numbers and reasons (never a value). Audited with the counts.
int ImportCommand(module::CommandContext& ctx) {
  module::Platform& p = *ctx.platform;
  auto settings = ReadSettings(*p.config.document, p.reg);
  if (!settings.ok()) return module::Fail(settings.error(), 2);
  if (!*settings) return module::Fail(MakeError(ErrorCode::kFailedPrecondition, "the site has no [accounts]"), 2);
  Accounts accounts(p.store, p.trail, p.key, p.clock, std::move(**settings), nullptr, std::nullopt, p.base_url,
                    p.config.site.name);
  const Settings& s = accounts.settings();
  std::string path = ctx.args.Text("file");
  std::ifstream in(path);
  if (!in) return module::Fail(MakeError(ErrorCode::kNotFound, path + ": cannot be read"), 2);
  std::vector<std::pair<int64_t, std::string>> skipped;  // the first few, with their line numbers
  int64_t skipped_count = 0, imported = 0, already = 0;
  auto skip = [&](int64_t number, const std::string& why) {
    ++skipped_count;
    if (skipped.size() < 10) skipped.emplace_back(number, why);
  };
  std::vector<std::string> columns;
  struct Row {
    int64_t number;
    std::string email;
    std::map<std::string, std::string> values;
  };
  std::vector<Row> batch;
  auto flush = [&]() -> Status {
    Status written = p.store.Write([&](store::Connection& c) -> Status {
      for (const Row& row : batch) {
        // Privacy: the account's dataset, brought from the previous system.
        auto added = accounts.Import(c, row.email, row.values, ctx.args.Text("--source"));
        if (!added.ok() && added.error().code == ErrorCode::kInvalidArgument) {
          skip(row.number, FieldError(added.error(), "email").second);
          continue;
        }
        if (!added.ok()) return added.error();
        ++(*added ? imported : already);
      }
      return Ok();
    });
    batch.clear();
    return written;
  };
  std::string text;
  for (int64_t number = 1; std::getline(in, text); ++number) {
    if (!text.empty() && text.back() == '\r') text.pop_back();
    if (number == 1) {
      auto header = SplitCsvLine(text);
      bool email = false;
      for (const auto& h : header.value_or(std::vector<std::string>{})) {
        std::string id(Trim(h));
        const Field* f = s.FindField(id);
        if (id == "email") {
          email = true;
        } else if (f == nullptr) {
          return module::Fail(
              MakeError(ErrorCode::kInvalidArgument, path + ":1: column '" + id + "' is not a field of [accounts]"), 2);
        } else if (!f->consent.empty()) {
          return module::Fail(MakeError(ErrorCode::kInvalidArgument,
                                        path + ":1: column '" + id + "' is given only under consent box '" +
                                            f->consent + "': the person gives it in their account"),
                              2);
        }
        columns.push_back(id);
      }
      if (!email) {
        return module::Fail(MakeError(ErrorCode::kInvalidArgument,
                                      path + ":1: the first line names the columns: email and the fields' ids"),
                            2);
      }
      continue;
    }
    if (Trim(text).empty()) continue;
    auto cells = SplitCsvLine(text);
    if (!cells) {
      skip(number, "a quote is not closed, or text follows one");
      continue;
    }
    if (cells->size() != columns.size()) {
      skip(number, std::to_string(cells->size()) + " fields where the header has " + std::to_string(columns.size()));
      continue;
    }
    Row row{number, "", {}};
    for (size_t i = 0; i < columns.size(); ++i) {
      if (columns[i] == "email") {
        row.email = std::string(Trim((*cells)[i]));
      } else if (!Trim((*cells)[i]).empty()) {
        row.values[columns[i]] = ValidUtf8((*cells)[i]);
      }
    }
    batch.push_back(std::move(row));
    if (batch.size() >= 1000) {
      if (Status st = flush(); !st.ok()) return module::Fail(st.error());
    }
  }
  if (Status st = flush(); !st.ok()) return module::Fail(st.error());
  Status audited = p.trail.Append({.actor = "cli",
                                   .action = "accounts.imported",
                                   .details = {{"imported", std::to_string(imported)},
                                               {"already", std::to_string(already)},
                                               {"skipped", std::to_string(skipped_count)}}});
  if (!audited.ok()) return module::Fail(audited.error());
  std::printf("imported %lld; already had an account %lld; skipped %lld\n", static_cast<long long>(imported),
              static_cast<long long>(already), static_cast<long long>(skipped_count));
  std::sort(skipped.begin(), skipped.end());
  for (const auto& [number, why] : skipped)
    std::printf("  line %lld: %s\n", static_cast<long long>(number), why.c_str());
  return 0;
}

int CountCommand(module::CommandContext& ctx) {
  module::Platform& p = *ctx.platform;
  auto settings = ReadSettings(*p.config.document, p.reg);
  if (!settings.ok()) return module::Fail(settings.error(), 2);
  Counts counts;
  if (*settings) {
    Accounts accounts(p.store, p.trail, p.key, p.clock, std::move(**settings), nullptr, std::nullopt, p.base_url,
                      p.config.site.name);
    auto c = accounts.Count();
    if (!c.ok()) return module::Fail(c.error());
    counts = *c;
  }
  if (ctx.args.Text("--format") == "json") {
    nlohmann::json out = {{"site", p.config.site.name},
                          {"open", counts.open},
                          {"unconfirmed", counts.unconfirmed},
                          {"closed_kept_to_minimum", counts.closed}};
    std::printf("%s\n", JsonText(out).c_str());
  } else {
    std::printf("open %lld\nwaiting to confirm %lld\nclosed, kept to the minimum %lld\n",
                static_cast<long long>(counts.open), static_cast<long long>(counts.unconfirmed),
                static_cast<long long>(counts.closed));
  }
  return 0;
}

// What check-config says of how a site's accounts read its register.
std::vector<std::string> Explain(const config::Config& config, const processing::Register& reg) {
  auto read = ReadSettings(*config.document, reg);
  if (!read.ok() || !*read) return {};
  const Settings& s = **read;
  std::vector<std::string> lines;
  if (s.minimum_age > 0) {
    lines.push_back("refuses anyone under " + std::to_string(s.minimum_age) +
                    (s.age_check == "confirm"
                         ? ", who says so in a yes/no question (nobody proves it)"
                         : ", by the date of birth in field '" + s.age_check + "'; nothing they typed is kept"));
  }
  if (s.closure_dataset.empty()) {
    lines.emplace_back("closing an account deletes all of it at once: there is no [accounts.closure]");
  } else {
    std::string kept;
    for (const auto& f : s.closure_keep) kept += (kept.empty() ? "" : ", ") + f;
    lines.push_back("closing an account keeps " + (kept.empty() ? std::string("only the account's row") : kept) +
                    ", restricted, for " + (s.closure_period ? s.closure_period->text : std::string("its time")) +
                    " (dataset '" + s.closure_dataset + "'); everything else is deleted at once");
  }
  if (s.referrals) {
    lines.emplace_back(
        "takes referrals from partner organisations (POST /api/referrals): each person is emailed "
        "what we hold, from whom and why at once (Article 14)");
  }
  if (s.oidc) {
    const auto& o = *s.oidc;
    std::string level = o.vtr == "Cl.Cm" ? "two factors (vtr Cl.Cm)"
                        : o.vtr == "Cl"  ? "a password only (vtr Cl)"
                                         : "no level asked (no vtr)";
    std::string line = "people may sign in with " + o.name + " (" + o.issuer + ", client " + o.client_id + "), at " +
                       level + "; only a keyed hash of its identifier of them is kept";
    // Whether the key serves is known here, before the service starts.
    auto key = oidc::RsaKey::Load(o.private_key);
    line += key.ok() ? "; the site's key " + key->kid() + " is published at /account/oidc/jwks.json"
                     : "; but " + key.error().message;
    lines.push_back(line);
  }
  return lines;
}

}  // namespace steward::accounts
