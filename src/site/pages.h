// Pages: the public site's frame and the pages that need no domain module: the home page, the
// error pages the server answers itself, and the static assets (GOV.UK Frontend and Steward's own).
//
// Pages are templates in <web_dir>/templates rendered inside layout.html. Error pages are HTML,
// or JSON ({"error": ..., "request_id": ...}) for paths under /api/.
//
// Thread safety: load once at start; every method is read-only after.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/result.h"
#include "html/template.h"
#include "http/response.h"
#include "http/router.h"
#include "http/static_files.h"

namespace steward::site {

class Pages {
 public:
  // Loads the templates and the assets under `site.web_dir`. Errors: kNotFound when the web
  // directory, a template or the front-end packages are missing; kInvalidArgument for a template
  // that does not parse.
  static Result<std::unique_ptr<Pages>> Load(const config::Site& site);

  // The page template `page` inside the layout, with `data` plus site.name and title. `frame` adds
  // data for the layout itself (the staff navigation).
  Result<std::string> Render(std::string_view page, std::string_view title, html::Object data,
                             html::Object frame = {}) const;
  // A public page: Render, plus what the public frame adds for this visitor (the cookie banner).
  // Errors become the 500 page.
  http::Response Page(const http::Request& request, std::string_view page, std::string_view title, html::Object data,
                      int status = 200) const;
  // What every public page gets for its visitor: data for the layout (`cookie_banner`, raw HTML).
  // Modules add theirs while starting, before serving (the consent module the banner, analytics the
  // domain its tracker reports as); each runs in the order added. A page sets no cookie of its own.
  using PublicFrame = std::function<void(const http::Request& request, html::Object& frame)>;
  void AddToPublicFrame(PublicFrame frame) { public_frame_.push_back(std::move(frame)); }
  // A template on its own, without the layout ("privacy.md").
  Result<std::string> RenderBare(std::string_view name, html::Object data) const;
  // The page for an error status; `request` may be null.
  http::Response ErrorPage(int status, const http::Request* request) const;
  // The response for an error a handler got from below (the store, a domain module): the status
  // from http::StatusForError, Retry-After on 503, and the error logged with the request id.
  http::Response ErrorFor(const Error& error, const http::Request& request) const;
  // "/", "/assets/{file...}", "/static/{file...}".
  void AddRoutes(http::Router& router) const;

  const http::StaticFiles& assets() const { return assets_; }

 private:
  Pages() = default;
  config::Site site_;
  html::Templates templates_;
  std::vector<PublicFrame> public_frame_;
  http::StaticFiles assets_;
};

}  // namespace steward::site
