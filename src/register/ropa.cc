#include "register/ropa.h"

#include <algorithm>

#include "core/strings.h"

namespace steward::processing {
namespace {

std::string Join(const std::vector<std::string>& items, const char* sep = "; ") {
  std::string out;
  for (const auto& i : items) {
    if (!out.empty()) out += sep;
    out += i;
  }
  return out;
}

std::string ContactLine(const Contact& c) {
  std::vector<std::string> parts;
  for (const std::string* p : {&c.name, &c.address, &c.email, &c.phone, &c.url}) {
    if (!p->empty()) parts.push_back(*p);
  }
  return Join(parts, ", ");
}

}  // namespace

const std::vector<std::string>& RopaColumns() {
  static const std::vector<std::string> kColumns = {
      "Purpose of processing",
      "Lawful basis (Article 6)",
      "Legitimate interests",
      "Special category condition (Article 9, DPA 2018 Schedule 1)",
      "Dataset",
      "Held by",
      "Categories of individuals",
      "Categories of personal data",
      "Source of the data",
      "Categories of recipients",
      "Transfers to third countries",
      "Safeguards for transfers",
      "Retention schedule",
      "General description of security measures",
      "Controller",
      "Joint controller",
      "Representative",
      "Data protection officer",
  };
  return kColumns;
}

std::vector<std::vector<std::string>> RecordOfProcessing(const Register& reg) {
  std::vector<std::vector<std::string>> rows;
  std::string security = Join(reg.security_measures);
  for (const auto& p : reg.purposes) {
    for (const auto& d : reg.datasets) {
      if (std::find(d.purposes.begin(), d.purposes.end(), p.id) == d.purposes.end()) continue;
      std::vector<std::string> recipients, destinations, safeguards;
      for (const auto& rid : d.recipients) {
        if (const auto* r = reg.FindRecipient(rid)) recipients.push_back(r->name + " (" + r->basis + ")");
      }
      for (const auto& tid : d.transfers) {
        for (const auto& t : reg.transfers) {
          if (t.id != tid) continue;
          destinations.push_back(t.destination);
          safeguards.push_back(t.safeguard);
        }
      }
      rows.push_back({
          p.description,
          std::string(LawfulBasisName(p.basis)) + " (" + std::string(LawfulBasisArticle(p.basis)) + ")",
          p.legitimate_interest,
          d.SpecialCategory() ? p.special_condition : "",
          d.id + ": " + d.description,
          d.module,
          Join(d.subjects),
          Join(d.categories),
          d.sources.empty() ? "The individual" : "The individual; " + Join(d.sources),
          recipients.empty() ? "None" : Join(recipients),
          destinations.empty() ? "None" : Join(destinations),
          Join(safeguards),
          d.retention.text + (d.retention.anonymise ? ", then anonymised" : ", then deleted"),
          security,
          ContactLine(reg.controller),
          ContactLine(reg.joint_controller),
          ContactLine(reg.representative),
          ContactLine(reg.dpo),
      });
    }
  }
  return rows;
}

std::string RopaCsv(const Register& reg) {
  std::string out;
  auto line = [&out](const std::vector<std::string>& fields) {
    for (size_t i = 0; i < fields.size(); ++i) {
      if (i) out += ',';
      out += CsvField(fields[i]);
    }
    out += "\r\n";
  };
  line(RopaColumns());
  for (const auto& row : RecordOfProcessing(reg)) line(row);
  return out;
}

}  // namespace steward::processing
