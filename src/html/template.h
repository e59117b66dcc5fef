// Templates: HTML pages from files in web/templates, in a small subset of Mustache that escapes
// by default.
//
//   {{name}}            the value, HTML-escaped (dotted names reach into objects: {{site.name}})
//   {{{name}}}          the value unescaped: only for HTML another template produced
//   {{#name}}..{{/name}} a section: once per item of a list, once for true or a non-empty value
//   {{^name}}..{{/name}} an inverted section: when the value is absent, false or empty
//   {{> name}}          another template of the set, with the same data
//   {{! comment }}
//
//   html::Templates templates;
//   STEWARD_RETURN_IF_ERROR(templates.LoadDirectory("web/templates"));
//   html::Object page{{"title", "Cookies"}, {"rows", html::List{...}}};
//   STEWARD_ASSIGN_OR_RETURN(std::string out, templates.Render("cookies", page));
//
// Parse errors name the file and line. Thread safety: load first; Render is read-only after.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/result.h"

namespace steward::html {

class Value;
using List = std::vector<Value>;
using Object = std::map<std::string, Value, std::less<>>;

class Value {
 public:
  Value() = default;
  Value(std::string s) : v_(std::move(s)) {}    // NOLINT: implicit by design
  Value(const char* s) : v_(std::string(s)) {}  // NOLINT
  Value(bool b) : v_(b) {}                      // NOLINT
  Value(int64_t n) : v_(std::to_string(n)) {}   // NOLINT
  Value(int n) : v_(std::to_string(n)) {}       // NOLINT
  Value(List l) : v_(std::move(l)) {}           // NOLINT
  Value(Object o) : v_(std::move(o)) {}         // NOLINT

  bool Truthy() const;
  const std::string* AsString() const { return std::get_if<std::string>(&v_); }
  const List* AsList() const { return std::get_if<List>(&v_); }
  const Object* AsObject() const { return std::get_if<Object>(&v_); }
  const bool* AsBool() const { return std::get_if<bool>(&v_); }

 private:
  std::variant<std::monostate, std::string, bool, List, Object> v_;
};

// Escapes & < > " ' for HTML text and attribute values.
std::string Escape(std::string_view s);

class Templates {
 public:
  Templates();
  ~Templates();
  Templates(Templates&&) noexcept;
  Templates& operator=(Templates&&) noexcept;

  // Loads every *.html file in `dir` as a template named by its file name without ".html", and
  // every *.md file by its whole name ("privacy.md").
  // Errors: kNotFound (no directory), kInvalidArgument (a parse error, with file and line).
  Status LoadDirectory(const std::string& dir);
  // Adds one template from text; `source` names it in errors.
  Status Add(const std::string& name, std::string_view text, const std::string& source = "");
  // Errors: kNotFound for an unknown template or partial.
  Result<std::string> Render(std::string_view name, const Value& data) const;
  bool Has(std::string_view name) const;

 private:
  struct Node;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace steward::html
