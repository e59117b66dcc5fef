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
      "Legitimate interests assessment",
      "Special category condition (Article 9, DPA 2018 Schedule 1)",
      "Appropriate policy document",
      "Retained and erased in line with the policy document (Schedule 1 paragraph 41)",
      "Dataset",
      "Kept by",
      "Categories of individuals",
      "Categories of personal data",
      "Source of the data",
      "Categories of recipients",
      "Processor contracts (Article 28)",
      "Transfers to third countries",
      "Safeguards for transfers",
      "Where the data is stored",
      "Retention schedule",
      "Rights that apply",
      "Automated decision-making",
      "Records of consent",
      "Data protection impact assessment",
      "General description of security measures",
      "Owner",
      "Last reviewed",
      "Privacy notice",
      "Controller",
      "Joint controller",
      "Representative",
      "Data protection officer",
  };
  return kColumns;
}

std::vector<std::vector<std::string>> RecordOfProcessing(const Register& reg, const std::string& notice_date) {
  std::vector<std::vector<std::string>> rows;
  std::string security = Join(reg.security_measures);
  std::string notice = "Version " + reg.Version() + (notice_date.empty() ? "" : ", in force since " + notice_date);
  for (const auto& p : reg.purposes) {
    for (const auto& d : reg.datasets) {
      if (std::find(d.purposes.begin(), d.purposes.end(), p.id) == d.purposes.end()) continue;
      std::vector<std::string> recipients, contracts, destinations, safeguards;
      for (const auto& rid : d.recipients) {
        const auto* r = reg.FindRecipient(rid);
        if (r == nullptr) continue;
        recipients.push_back(r->name + " (" + r->basis + ")");
        if (r->basis == "processor") {
          contracts.push_back(r->name + ": " + (r->contract.empty() ? "not recorded in the register" : r->contract));
        }
      }
      for (const auto& tid : d.transfers) {
        for (const auto& t : reg.transfers) {
          if (t.id != tid) continue;
          destinations.push_back(t.Destination());
          safeguards.push_back(t.safeguard);
        }
      }
      bool special = d.SpecialCategory() || d.CriminalOffence();
      std::string policy, follows;
      if (special && !p.policy_document.empty()) {
        policy = p.policy_document;
        follows = p.policy_exception.empty() ? "Yes" : "No: " + p.policy_exception;
      }
      std::string stored = reg.stored_in;
      if (!destinations.empty()) stored += "; transferred to " + Join(destinations);
      std::string consent;
      if (p.basis == LawfulBasis::kConsent) {
        consent = p.consent_records.empty() ? "Not recorded in the register" : p.consent_records;
      }
      std::vector<std::string> rights;
      for (const auto& r : RightsForBasis(p.basis)) rights.push_back(r);
      rows.push_back({
          p.description,
          std::string(LawfulBasisName(p.basis)) + " (" + std::string(LawfulBasisArticle(p.basis)) + ")",
          p.legitimate_interest,
          p.basis == LawfulBasis::kLegitimateInterests ? (p.lia.empty() ? "Not recorded in the register" : p.lia) : "",
          special ? p.SpecialConditionText() : "",
          policy,
          follows,
          d.id + ": " + d.description,
          d.kept_by.empty() ? "Steward, module " + d.module : d.kept_by + " (outside Steward)",
          Join(d.subjects),
          Join(d.categories),
          d.sources.empty() ? "The individual" : "The individual; " + Join(d.sources),
          recipients.empty() ? "None" : Join(recipients),
          Join(contracts),
          destinations.empty() ? "None" : Join(destinations),
          Join(safeguards),
          stored,
          d.retention.text +
              (d.kept_by.empty() ? (d.retention.anonymise ? ", then anonymised" : ", then deleted by Steward") : ""),
          Join(rights, ", "),
          reg.automated_decisions,
          consent,
          d.dpia,
          security,
          d.owner,
          d.reviewed,
          notice,
          ContactLine(reg.controller),
          ContactLine(reg.joint_controller),
          ContactLine(reg.representative),
          ContactLine(reg.dpo),
      });
    }
  }
  return rows;
}

std::string RopaCsv(const Register& reg, const std::string& notice_date) {
  std::string out;
  auto line = [&out](const std::vector<std::string>& fields) {
    for (size_t i = 0; i < fields.size(); ++i) {
      if (i) out += ',';
      out += CsvField(fields[i]);
    }
    out += "\r\n";
  };
  line(RopaColumns());
  for (const auto& row : RecordOfProcessing(reg, notice_date)) line(row);
  return out;
}

}  // namespace steward::processing
