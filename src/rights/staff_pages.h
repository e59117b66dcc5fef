// /admin/rights, for staff with the rights_requests permission (the DPO and caseworkers): the queue
// of open requests by due date with the clock of each, the closed ones, the DPO's figures for the
// last twelve months (by right, answered on time, overdue), a request entered by a caseworker
// (letter, telephone, email, in person: the law accepts any channel), and one case: who asked,
// what for, the due date and why, the clock's steps (proof of identity, a clarification, an
// extension told within the first month), assignment, notes, what every module holds about the
// identifiers given (through the subject-data contract, counts only, before anything is done), and
// closing it answered, refused with the reason, withdrawn or closed; corrections, objections,
// restriction and erasure through every module's subject data. Writing to the person is
// letter_pages.h's. Every step is audited with the case id and is in the case's timeline.
#pragma once

#include <vector>

#include "module/module.h"
#include "rights/cases.h"

namespace steward::mail {
class Queue;
struct Settings;
}  // namespace steward::mail

namespace steward::rights {

class Copies;

// How the pages write to the person: by email through the mail queue, with the copy's link, when
// the site sends email (all null when it does not: letters are then printed).
struct Delivery {
  mail::Queue* queue = nullptr;
  const mail::Settings* mail = nullptr;
  Copies* copies = nullptr;
};

// `cases` and what `delivery` points to must outlive the pages.
std::vector<module::StaffPage> CasePages(module::Platform& p, Cases& cases, Delivery delivery);

}  // namespace steward::rights
