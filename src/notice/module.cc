#include "notice/module.h"

#include <cstdio>
#include <memory>

#include "notice/notice.h"
#include "register/ropa.h"
#include "register/versions.h"
#include "site/pages.h"

namespace steward::notice {
namespace {

using http::Method;
using http::Request;

constexpr module::Id kNotice("notice");

// When `reg`'s version came into force on this site ("3 December 2026"), from the store's version
// history; empty when this version has not been served yet.
std::string VersionDate(store::Store& store, const processing::Register& reg) {
  auto versions = processing::ListVersions(store);
  if (!versions.ok()) return "";
  for (const auto& v : *versions) {
    if (v.version == reg.Version()) return processing::LongDate(v.effective_at);
  }
  return "";
}

// `steward notice render`: the privacy notice from the register, as html, markdown or json. Its
// "last updated" is the date this version came into force on the site; a version not served yet
// is a draft and says so.
int Render(module::CommandContext& c) {
  std::string format = c.args.Text("--format");
  auto reg = processing::FromDocument(*c.config.document);
  if (!reg.ok()) {
    std::fprintf(stderr, "%s\n", reg.error().message.c_str());
    return 2;
  }
  if (format == "json") {
    std::printf("%s\n", reg->ToJson().c_str());
    return 0;
  }
  auto pages = site::Pages::Load(c.config.site);
  if (!pages.ok()) {
    std::fprintf(stderr, "steward: %s\n", pages.error().message.c_str());
    return 1;
  }
  std::string date = c.platform != nullptr ? VersionDate(c.platform->store, *reg) : "";
  if (date.empty()) date = "(a draft: this version has not been served yet)";
  auto out = format == "html" ? RenderPrivacy(**pages, *reg, date)
                              : (*pages)->RenderBare("privacy.md", PrivacyData(*reg, date));
  if (!out.ok()) {
    std::fprintf(stderr, "steward: %s\n", out.error().message.c_str());
    return 1;
  }
  std::fwrite(out->data(), 1, out->size(), stdout);
  return 0;
}

// The record of processing (Article 30), for the DPO.
std::vector<module::StaffPage> RopaPages(const processing::Register& reg, const std::string& date) {
  const staff::Permission p = staff::Permission::kManageRegister;
  return {
      {.method = Method::kGet,
       .pattern = "/admin/ropa",
       .permission = p,
       .handler =
           [&reg, date](Request& req, module::StaffContext& ctx) {
             html::List rows;
             const auto& columns = processing::RopaColumns();
             for (const auto& row : processing::RecordOfProcessing(reg, date)) {
               html::List fields;
               for (size_t i = 1; i < row.size(); ++i) {
                 if (!row[i].empty()) fields.push_back(html::Object{{"key", columns[i]}, {"value", row[i]}});
               }
               rows.push_back(html::Object{{"title", row[0]}, {"fields", fields}});
             }
             return ctx.layout->Page(
                 req, ctx, "admin_ropa", "Record of processing",
                 html::Object{{"service", reg.service}, {"version", reg.Version()}, {"date", date}, {"rows", rows}},
                 "/admin/ropa");
           },
       .nav_title = "Record of processing",
       .nav_text =
           "The Article 30 record, from the register: purposes, bases, data, recipients, retention. As a page or CSV.",
       .nav_order = 30},
      {.method = Method::kGet,
       .pattern = "/admin/ropa.csv",
       .permission = p,
       .handler = [&reg, date](Request&, module::StaffContext&) {
         return module::CsvDownload(processing::RopaCsv(reg, date), "record-of-processing-" + reg.Version() + ".csv");
       }}};
}

class NoticeServing : public module::Serving {
 public:
  NoticeServing(module::Platform& p, processing::NoticeVersion version) : platform_(p), version_(std::move(version)) {}
  void AddRoutes(http::Router& router) override {
    notice::AddRoutes(router, *platform_.pages, platform_.reg, processing::LongDate(version_.effective_at),
                      platform_.store);
  }
  std::vector<module::StaffPage> StaffPages() override {
    return RopaPages(platform_.reg, processing::LongDate(version_.effective_at));
  }

 private:
  module::Platform& platform_;
  processing::NoticeVersion version_;
};

}  // namespace

module::Descriptor Module() {
  return {
      .id = kNotice,
      .command_groups = {{"notice", "The privacy notice rendered from the register."}},
      .commands =
          [] {
            return std::vector<module::Command>{
                {.path = {"notice", "render"},
                 .help = "Print the notice as html, markdown, or json (the structured notice tools read).",
                 .options = {{.name = "--format",
                              .help = "html, markdown or json",
                              .default_value = "json",
                              .choices = {"html", "markdown", "json"}}},
                 .data_if_present = true,
                 .run = Render},
            };
          },
      .start = [](module::Platform& p) -> Result<std::unique_ptr<module::Serving>> {
        STEWARD_CHECK(p.pages != nullptr, "the notice serves pages");
        // The version served from now on, and since when: the notice's "last updated".
        STEWARD_ASSIGN_OR_RETURN(processing::NoticeVersion version, processing::RecordVersion(p.store, p.reg, p.clock));
        return std::unique_ptr<module::Serving>(std::make_unique<NoticeServing>(p, std::move(version)));
      },
  };
}

}  // namespace steward::notice
