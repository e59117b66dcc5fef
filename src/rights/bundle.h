// What a person gets back from an access or portability request: one zip holding
//
// - index.html: a page anyone can open, with everything Article 15 asks for: whether we hold their
//   data and a copy of it, and for each dataset the purposes and their lawful basis, the categories,
//   the recipients, how long it is kept, where it came from, and then their rights, how to complain
//   to the ICO, automated decision-making and transfers abroad, all from the register;
// - records.json and records.csv: every record, each field named by its data category, in a
//   machine-readable form they can take elsewhere (Article 20);
// - datasets/ID.json and datasets/ID.csv: the same, one dataset a file.
//
// Privacy: the person's own data, from every module (the subject-data contract's Export), for the
// case that asked for it.
#pragma once

#include <string>
#include <vector>

#include "core/result.h"
#include "register/register.h"
#include "rights/cases.h"
#include "subject/subject.h"

namespace steward::rights {

struct BundleInput {
  const Case& request;
  const processing::Register& reg;
  std::string site_name;
  std::vector<subject::Record> records;
  int64_t today = 0;  // the UK day it is made
};

// The zip's bytes. Errors: kInternal when it cannot be compressed.
Result<std::string> MakeBundle(const BundleInput& in);

}  // namespace steward::rights
