#include <algorithm>
#include <set>

#include "core/strings.h"
#include "subscriptions/subscriptions.h"

namespace steward::subscriptions {

std::string_view FrequencyName(Frequency f) {
  switch (f) {
    case Frequency::kImmediately:
      return "immediately";
    case Frequency::kDaily:
      return "daily";
    case Frequency::kWeekly:
      return "weekly";
  }
  return "";
}

std::string_view FrequencyText(Frequency f) {
  switch (f) {
    case Frequency::kImmediately:
      return "As soon as we publish something";
    case Frequency::kDaily:
      return "Once a day, in one email";
    case Frequency::kWeekly:
      return "Once a week, in one email";
  }
  return "";
}

std::optional<Frequency> ParseFrequency(std::string_view name) {
  for (Frequency f : {Frequency::kImmediately, Frequency::kDaily, Frequency::kWeekly}) {
    if (FrequencyName(f) == name) return f;
  }
  return std::nullopt;
}

const Topic* Settings::Find(std::string_view id) const {
  for (const auto& t : topics) {
    if (t.id == id) return &t;
  }
  return nullptr;
}

Result<std::optional<Settings>> ReadSettings(const config::Document& document, const processing::Register& reg) {
  config::Problems problems(document.path());
  config::Table root = document.Root(problems);
  auto table = root.Child("subscriptions");
  if (!table) return std::optional<Settings>();
  Settings s;
  table->Bool("accounts", s.accounts);
  std::set<std::string> seen;
  for (auto& t : table->Children("topics")) {
    Topic topic;
    if (t.String("id", topic.id, /*required=*/true)) {
      bool shape = !topic.id.empty() && topic.id.size() <= 40 &&
                   topic.id.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") == std::string::npos &&
                   topic.id.front() != '-' && topic.id.back() != '-' && topic.id != "all";
      if (!shape) {
        problems.Add(t.Where("id"),
                     "a topic's 'id' is lower-case letters, digits and dashes, up to 40 (and not \"all\"): "
                     "\"roads\"");
      } else if (!seen.insert(topic.id).second) {
        problems.Add(t.Where("id"), "topic '" + topic.id + "' is declared twice");
      }
    }
    if (t.String("title", topic.title, /*required=*/true) && (topic.title.empty() || topic.title.size() > 120)) {
      problems.Add(t.Where("title"), "a topic's 'title' is 1 to 120 characters");
    }
    t.String("description", topic.description);
    if (topic.description.size() > 500)
      problems.Add(t.Where("description"), "a topic's 'description' is up to 500 characters");
    std::vector<std::string> frequencies;
    if (t.StringArray("frequencies", frequencies)) {
      for (const auto& name : frequencies) {
        auto f = ParseFrequency(name);
        if (!f) {
          problems.Add(t.Where("frequencies"),
                       "'frequencies' holds \"immediately\", \"daily\" or \"weekly\", not \"" + name + "\"");
        } else if (std::find(topic.frequencies.begin(), topic.frequencies.end(), *f) == topic.frequencies.end()) {
          topic.frequencies.push_back(*f);
        }
      }
    }
    if (topic.frequencies.empty() && !t.Has("frequencies")) {
      topic.frequencies = {Frequency::kImmediately, Frequency::kDaily, Frequency::kWeekly};
    } else if (topic.frequencies.empty()) {
      problems.Add(t.Where("frequencies"), "a topic offers at least one frequency");
    }
    std::sort(topic.frequencies.begin(), topic.frequencies.end());
    t.Finish();
    s.topics.push_back(std::move(topic));
  }
  if (s.topics.empty()) {
    problems.Add(table->where(),
                 "[subscriptions] needs at least one [[subscriptions.topics]] (id, title, description, frequencies)");
  }
  if (!root.IsTable("mail")) {
    problems.Add(table->where(),
                 "[subscriptions] sends email: the site's file needs a [mail] to say how (docs/mail.md)");
  }
  auto dataset = std::find_if(reg.datasets.begin(), reg.datasets.end(),
                              [](const processing::Dataset& d) { return d.module == "subscriptions"; });
  if (dataset == reg.datasets.end()) {
    problems.Add(table->where(),
                 "[subscriptions] keeps subscribers' addresses, but the register declares no dataset of module "
                 "\"subscriptions\" to say what is kept, why and for how long");
  } else if (!dataset->kept_by.empty()) {
    problems.Add(table->where(), "[subscriptions] keeps the subscribers here, but the register's dataset '" +
                                     dataset->id + "' says they are kept by " + dataset->kept_by +
                                     ": take out its kept_by, or this table");
  } else if (s.accounts) {
    bool declared = std::any_of(dataset->categories.begin(), dataset->categories.end(),
                                [](const std::string& c) { return c.starts_with("user.account"); });
    if (!declared) {
      problems.Add(table->Where("accounts"),
                   "'subscriptions.accounts' keeps a username and password, but the register's dataset '" +
                       dataset->id + "' does not declare user.account.username and user.account.password");
    }
  }
  table->Finish();
  if (!problems.empty()) return MakeError(ErrorCode::kInvalidArgument, problems.Joined());
  return std::optional<Settings>(std::move(s));
}

}  // namespace steward::subscriptions
