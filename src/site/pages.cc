#include "site/pages.h"

#include "core/log.h"
#include "core/strings.h"

namespace steward::site {
namespace {

struct ErrorText {
  const char* heading;
  const char* message;
};

ErrorText TextFor(int status) {
  switch (status) {
    case 400:
      return {"There is a problem with the request",
              "The request could not be understood. Check the address and try again."};
    case 403:
      return {"You cannot do that", "You do not have permission to do this."};
    case 404:
      return {"Page not found",
              "If you typed the web address, check it is correct. If you pasted the web address, check you copied the "
              "entire address."};
    case 405:
      return {"That cannot be done here", "This page does not accept that kind of request."};
    case 413:
      return {"What you sent is too large", "Send less and try again."};
    case 414:
      return {"The web address is too long", "Check the address and try again."};
    case 429:
      return {"You have sent too many requests", "Wait a minute and try again."};
    case 431:
      return {"The request is too large", "Clear this site's cookies and try again."};
    case 503:
      return {"Sorry, the service is busy", "Try again in a moment."};
    default:
      return {"Sorry, there is a problem with the service", "Try again later."};
  }
}

std::string JsonEscape(std::string_view s) {
  std::string out;
  for (char c : ValidUtf8(s)) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<Pages>> Pages::Load(const config::Site& site) {
  std::unique_ptr<Pages> pages(new Pages());
  pages->site_ = site;
  const std::string& web = site.web_dir;
  STEWARD_RETURN_IF_ERROR(pages->templates_.LoadDirectory(web + "/templates"));
  for (const char* required : {"layout", "home", "error"}) {
    if (!pages->templates_.Has(required)) {
      return MakeError(ErrorCode::kNotFound, web + "/templates/" + required + ".html is missing");
    }
  }
  const std::string govuk = web + "/node_modules/govuk-frontend/dist/govuk";
  STEWARD_RETURN_IF_ERROR(pages->assets_.AddDirectory("/assets/", govuk + "/assets"));
  STEWARD_RETURN_IF_ERROR(
      pages->assets_.AddFile("/static/govuk/govuk-frontend.min.css", govuk + "/govuk-frontend.min.css"));
  STEWARD_RETURN_IF_ERROR(
      pages->assets_.AddFile("/static/govuk/govuk-frontend.min.js", govuk + "/govuk-frontend.min.js"));
  STEWARD_RETURN_IF_ERROR(pages->assets_.AddDirectory("/static/steward/", web + "/static"));
  log::Info("site.loaded", {{"assets", pages->assets_.file_count()}, {"asset_bytes", pages->assets_.total_bytes()}});
  return pages;
}

Result<std::string> Pages::Render(std::string_view page, std::string_view title, html::Object data,
                                  html::Object frame) const {
  html::Object site{{"name", site_.name}};
  data["site"] = site;
  STEWARD_ASSIGN_OR_RETURN(std::string main, templates_.Render(page, data));
  frame["site"] = site;
  frame["title"] = std::string(title);
  frame["main"] = std::move(main);
  return templates_.Render("layout", frame);
}

http::Response Pages::Page(const http::Request& request, std::string_view page, std::string_view title,
                           html::Object data, int status) const {
  html::Object frame;
  for (const auto& add : public_frame_) add(request, frame);
  auto html = Render(page, title, std::move(data), std::move(frame));
  if (!html.ok()) return ErrorFor(html.error(), request);
  return http::Response::Html(std::move(*html), status);
}

Result<std::string> Pages::RenderBare(std::string_view name, html::Object data) const {
  data["site"] = html::Object{{"name", site_.name}};
  return templates_.Render(name, data);
}

http::Response Pages::ErrorPage(int status, const http::Request* request) const {
  ErrorText text = TextFor(status);
  std::string request_id = request ? request->request_id : "";
  if (request != nullptr && request->path.starts_with("/api/")) {
    std::string body = "{\"error\":\"" + JsonEscape(text.heading) + "\"";
    if (!request_id.empty()) body += ",\"request_id\":\"" + request_id + "\"";
    body += "}";
    return http::Response::Json(std::move(body), status);
  }
  html::Object data{{"heading", text.heading}, {"message", text.message}, {"request_id", request_id}};
  // A public page's error keeps the public frame (the cookie banner); a staff page's does not.
  if (request != nullptr && !request->path.starts_with("/admin") && status != 500) {
    return Page(*request, "error", text.heading, std::move(data), status);
  }
  auto page = Render("error", text.heading, std::move(data));
  if (!page.ok()) {
    // The error page itself failed: say so plainly rather than fail again.
    log::Error("site.error_page_failed", {{"error", page.error().ToString()}});
    return http::Response::Text(std::string(text.heading) + "\n", status);
  }
  return http::Response::Html(std::move(*page), status);
}

http::Response Pages::ErrorFor(const Error& error, const http::Request& request) const {
  int status = http::StatusForError(error.code);
  // Error messages carry ids and names, never personal data, so they may be logged.
  log::Warn("http.handler_error",
            {{"route", request.route}, {"request_id", request.request_id}, {"error", error.ToString()}});
  http::Response r = ErrorPage(status, &request);
  if (status == 503) r.SetHeader("Retry-After", "1");
  return r;
}

void Pages::AddRoutes(http::Router& router) const {
  router.Get("/", [this](http::Request& req) { return Page(req, "home", site_.name, {}); });
  auto serve = [this](http::Request& req) {
    http::Response r = assets_.Serve(req, req.path);
    return r.status == 404 ? ErrorPage(404, &req) : r;
  };
  router.Get("/assets/{file...}", serve);
  router.Get("/static/{file...}", serve);
}

}  // namespace steward::site
