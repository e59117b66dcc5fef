#include "rights/bundle.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "core/days.h"
#include "core/json_text.h"
#include "core/strings.h"
#include "html/template.h"
#include "notice/notice.h"
#include "rights/zip.h"

namespace steward::rights {
namespace {

using html::Escape;

std::string Csv(const std::vector<subject::Record>& records) {
  std::string csv = "dataset,collected_at,category,name,value\r\n";
  for (const auto& r : records) {
    for (const auto& f : r.fields) {
      csv += CsvField(r.dataset) + "," + CsvField(r.collected_at) + "," + CsvField(f.category) + "," +
             CsvField(f.name) + "," + CsvField(f.value) + "\r\n";
    }
  }
  return csv;
}

nlohmann::json Json(const std::vector<subject::Record>& records) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : records) {
    nlohmann::json fields = nlohmann::json::array();
    for (const auto& f : r.fields) fields.push_back({{"category", f.category}, {"name", f.name}, {"value", f.value}});
    out.push_back({{"dataset", r.dataset}, {"collected_at", r.collected_at}, {"fields", fields}});
  }
  return out;
}

std::string List(const std::vector<std::string>& items) {
  if (items.empty()) return "";
  std::string out = "<ul>";
  for (const auto& i : items) out += "<li>" + Escape(i) + "</li>";
  return out + "</ul>";
}

std::string Row(const std::string& key, const std::string& value_html) {
  if (value_html.empty()) return "";
  return "<tr><th scope=\"row\">" + Escape(key) + "</th><td>" + value_html + "</td></tr>";
}

// What the register says of one dataset, for Article 15(1)(a)-(h).
std::string AboutDataset(const processing::Register& reg, const processing::Dataset& d) {
  std::vector<std::string> purposes, categories, recipients, transfers;
  for (const auto& id : d.purposes) {
    if (const auto* p = reg.FindPurpose(id)) {
      purposes.push_back(p->description + " (lawful basis: " + notice::BasisLabel(p->basis) + ")");
    }
  }
  for (const auto& c : d.categories) categories.push_back(notice::CategoryLabel(c));
  for (const auto& id : d.recipients) {
    if (const auto* r = reg.FindRecipient(id))
      recipients.push_back(r->name + (r->purpose.empty() ? "" : ": " + r->purpose));
  }
  for (const auto& id : d.transfers) {
    for (const auto& t : reg.transfers) {
      if (t.id == id) transfers.push_back(t.Destination() + (t.safeguard.empty() ? "" : ", under " + t.safeguard));
    }
  }
  std::string source = !d.sources.empty() ? "From " +
                                                [&] {
                                                  std::string s;
                                                  for (size_t i = 0; i < d.sources.size(); ++i)
                                                    s += (i ? "; " : "") + d.sources[i];
                                                  return s;
                                                }()
                       : !d.collection.empty() ? d.collection
                                               : "You gave it to us";
  return "<table>" + Row("What we use it for", List(purposes)) + Row("What it includes", List(categories)) +
         Row("Who we share it with",
             recipients.empty() ? Escape("No one outside our organisation") : List(recipients)) +
         Row("Sent abroad", List(transfers)) + Row("How long we keep it", Escape(d.retention.text)) +
         Row("Where it came from", Escape(source)) + "</table>";
}

std::string Page(const BundleInput& in, const std::vector<subject::Record>& records) {
  const auto& reg = in.reg;
  std::map<std::string, std::vector<const subject::Record*>> by_dataset;
  for (const auto& r : records) by_dataset[r.dataset].push_back(&r);
  std::string h =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
      "content=\"width=device-width, initial-scale=1\"><title>What " +
      Escape(in.site_name) +
      " holds about you</title><style>body{font-family:Arial,sans-serif;max-width:960px;margin:2em auto;padding:0 "
      "1em;line-height:1.5;color:#0b0c0c}table{border-collapse:collapse;width:100%;margin:1em 0}th,td{border-bottom:"
      "1px solid #b1b4b6;padding:.5em;text-align:left;vertical-align:top}th{width:30%}h2{margin-top:2em}</style>"
      "</head><body><main>\n";
  h += "<h1>What " + Escape(in.site_name) + " holds about you</h1>\n";
  h += "<p>Your request " + Escape(in.request.reference) + ", received on " + DayText(in.request.received) +
       ". This copy was made on " + DayText(in.today) + ".</p>\n";
  if (records.empty()) {
    h += "<p>We searched everything we hold for what you gave us and found nothing about you.</p>\n";
  } else {
    h += "<p>We hold " + std::to_string(records.size()) + " record(s) about you, in " +
         std::to_string(by_dataset.size()) +
         " part(s) of our service. Each is below with why we hold it. The same data is in records.json and "
         "records.csv, to use elsewhere.</p>\n";
  }
  for (const auto& [id, list] : by_dataset) {
    const processing::Dataset* d = reg.FindDataset(id);
    h += "<h2>" + Escape(d ? d->description : id) + "</h2>\n";
    if (d) h += AboutDataset(reg, *d);
    h += "<h3>Your records (" + std::to_string(list.size()) + ")</h3>\n";
    for (const auto* r : list) {
      h += "<table><caption>" + Escape(r->collected_at.empty() ? "A record" : "Collected " + r->collected_at) +
           "</caption>";
      for (const auto& f : r->fields)
        h += "<tr><th scope=\"row\">" + Escape(f.name) + "</th><td>" + Escape(f.value) + "</td></tr>";
      h += "</table>\n";
    }
  }
  h += "<h2>Your rights</h2>\n<p>You can ask us to correct what is wrong, to delete your data, to stop using it while "
       "keeping it, to object to how we use it, and for a copy to take elsewhere. You can withdraw any consent you "
       "gave at any time.</p>\n";
  if (!reg.automated_decisions.empty()) {
    h += "<h2>Automated decisions</h2>\n<p>" + Escape(reg.automated_decisions) + "</p>\n";
  } else {
    h += "<h2>Automated decisions</h2>\n<p>We make no decisions about you by automated means alone.</p>\n";
  }
  h += "<h2>If you are unhappy</h2>\n<p>" +
       Escape(reg.complaints.empty() ? "You can complain to the Information Commissioner's Office (ico.org.uk)."
                                     : reg.complaints) +
       "</p>\n";
  if (!reg.controller.name.empty()) {
    h += "<p>The controller of your data: " + Escape(reg.controller.name) +
         (reg.dpo.email.empty() ? "" : ". Our Data Protection Officer: " + Escape(reg.dpo.email)) + ".</p>\n";
  }
  return h + "</main></body></html>\n";
}

}  // namespace

Result<std::string> MakeBundle(const BundleInput& in) {
  std::vector<subject::Record> records = subject::Distinct(in.records);
  std::stable_sort(records.begin(), records.end(), [](const subject::Record& a, const subject::Record& b) {
    return std::tie(a.dataset, a.collected_at) < std::tie(b.dataset, b.collected_at);
  });
  ZipWriter zip(in.today);
  STEWARD_RETURN_IF_ERROR(zip.Add("index.html", Page(in, records)));
  nlohmann::json all = {{"site", in.site_name},
                        {"reference", in.request.reference},
                        {"made_on", DayText(in.today)},
                        {"records", Json(records)}};
  STEWARD_RETURN_IF_ERROR(zip.Add("records.json", JsonText(all, 2) + "\n"));
  STEWARD_RETURN_IF_ERROR(zip.Add("records.csv", Csv(records)));
  std::map<std::string, std::vector<subject::Record>> by_dataset;
  for (const auto& r : records) by_dataset[r.dataset].push_back(r);
  for (const auto& [id, list] : by_dataset) {
    // A dataset id is the register's: lower-case letters, digits and dashes.
    STEWARD_RETURN_IF_ERROR(zip.Add("datasets/" + id + ".json", JsonText(Json(list), 2) + "\n"));
    STEWARD_RETURN_IF_ERROR(zip.Add("datasets/" + id + ".csv", Csv(list)));
  }
  return std::move(zip).Finish();
}

}  // namespace steward::rights
