// Staff pages declared by the module they belong to. A module lists its pages (path, method,
// permission, handler, navigation entry); the staff shell (admin/) adds each through its one guard,
// which loads the session, requires the second factor, checks the permission and, for every POST,
// the CSRF token, then calls the handler with what it learnt (StaffContext). The handler renders
// through the shell's layout, so every staff page has the same frame and navigation.
//
// Thread safety: handlers run on the server's worker threads; a layout is immutable.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "html/template.h"
#include "http/request.h"
#include "http/router.h"
#include "http/response.h"
#include "staff/accounts.h"
#include "staff/roles.h"
#include "staff/sessions.h"

namespace steward::module {

class StaffLayout;

// What the guard learnt about the person making a staff request.
struct StaffContext {
  staff::StaffMember me;
  staff::Session session;
  std::string cookie;  // the session cookie's value
  std::string csrf;    // the session's CSRF token, for forms on the page
  http::Params form;   // the parsed form of a POST
  staff::Actor actor;  // "staff:12" and the request id, for the audit trail
  const StaffLayout* layout = nullptr;
};

// The staff shell's frame, for the pages of every module.
class StaffLayout {
 public:
  virtual ~StaffLayout() = default;
  // `tmpl` inside the staff layout with the navigation (`current` marks its entry) and the CSRF
  // token in `data`.
  virtual http::Response Page(const http::Request& req, const StaffContext& ctx, std::string_view tmpl,
                              std::string_view title, html::Object data, std::string_view current,
                              int status = 200) const = 0;
  // The site's error page for `status`, or for an error (its code decides the status).
  virtual http::Response Error(int status, const http::Request& req) const = 0;
  virtual http::Response ErrorFor(const steward::Error& error, const http::Request& req) const = 0;
};

using StaffHandler = std::function<http::Response(http::Request&, StaffContext&)>;

struct StaffPage {
  http::Method method = http::Method::kGet;
  std::string pattern;  // "/admin/consent"
  staff::Permission permission = staff::Permission::kSignedIn;
  StaffHandler handler;
  // Its entry in the staff navigation and on the staff home page (GET pages only); empty: none.
  std::string nav_title;
  std::string nav_text;    // a line for the home page's card (none: no card)
  std::string card_title;  // the card's title (default: nav_title)
  int nav_order = 50;
};

// Adds every module's staff pages through the one guard. The staff module provides it (as a
// module::Services entry) to whoever wires the router.
class StaffShell {
 public:
  virtual ~StaffShell() = default;
  // Adds the shell's own routes (signing in, the home page, one's sessions and security codes) and
  // `pages`. Stops the process on a page without a handler, or two pages on one route.
  virtual void AddRoutes(http::Router& router, std::vector<StaffPage> pages) = 0;
};

// ---- Helpers for staff pages ---------------------------------------------------------------------

// The value of `name` in a form or query ("" when absent), and every value of it.
std::string Field(const http::Params& params, std::string_view name);
std::vector<std::string> AllFields(const http::Params& params, std::string_view name);
// GOV.UK error summary items (field, message), with first/last marks for the template.
html::List ErrorSummary(const std::vector<std::pair<std::string, std::string>>& errors);
// A service's kInvalidArgument error, "field: message", as the (field, Message) pair an error summary
// shows; an error that names no field goes to `fallback`.
std::pair<std::string, std::string> FieldError(const Error& e, std::string_view fallback);
// Marks a list's items with first/last for the templates.
html::List Marked(html::List items);
// An RFC 3339 prefix such as "2026-11-01" or "2026-11-01T09:00"; anything else is dropped.
std::string TimeFilter(const std::string& text);
// A path parameter that is a positive id, or nullopt.
std::optional<int64_t> IdParam(const http::Request& req, std::string_view name = "id");
// A GOV.UK date input's three fields ("received-day", "-month", "-year") as a day (days since
// 1970-01-01); nullopt when they do not make a date.
std::optional<int64_t> DateField(const http::Params& form, const std::string& name);
// The values of the date_input partial for the fields id-day, id-month and id-year: as typed in
// `form` when any of them was (so a refused date comes back as it was typed), else `day` (empty for
// nullopt); `error` marks the three fields as the one in error.
html::Object DateInput(const std::string& id, const http::Params& form, std::optional<int64_t> day, bool error);
// Whether `errors` has one for `field`.
bool HasError(const std::vector<std::pair<std::string, std::string>>& errors, std::string_view field);
// A page with a form through the staff layout: with errors, the GOV.UK error summary, each field's
// message as FIELD_error, and "Error: " before the title (as GOV.UK asks).
http::Response FormPage(const http::Request& req, const StaffContext& ctx, std::string_view tmpl, std::string title,
                        html::Object data, const std::vector<std::pair<std::string, std::string>>& errors,
                        std::string_view current, int status = 200);
// A CSV download.
http::Response CsvDownload(std::string body, std::string_view filename);

// "22 November 2026" for days since 1970-01-01; "12,345" for a count.
std::string LongDay(int64_t day);
std::string Thousands(int64_t n);

// Makes a page's handler from a member function of the object `self` points to (kept alive by the
// route): `.handler = module::Bind(self, &ConsentPages::ConsentPage)`.
template <typename T>
StaffHandler Bind(std::shared_ptr<T> self, http::Response (T::*handler)(http::Request&, StaffContext&)) {
  return
      [self = std::move(self), handler](http::Request& req, StaffContext& ctx) { return ((*self).*handler)(req, ctx); };
}

// A bar chart of days for admin_chart.html: server-rendered SVG bars of each point's first value,
// with every value in a table beside it under `columns` (after "Day"). The analytics dashboard and
// the access-log statistics share it.
struct ChartPoint {
  int64_t day = 0;  // days since 1970-01-01
  std::vector<int64_t> values;
};
html::Object DailyChart(const std::string& title, const std::vector<std::string>& columns,
                        const std::vector<ChartPoint>& points);

}  // namespace steward::module
