// Reading the site's TOML file, for every module that declares tables in it.
//
// A Document is the parsed file. A Table reads the keys its module knows, reports wrong types and
// out-of-range values, and, when Finish() is called, every key it was not asked for, all into one
// Problems list that names file, line and column. toml++ stays behind this header.
//
//   config::Problems problems(path);
//   config::Table reg = document.Root(problems).Child("register").value();
//   reg.String("consent_mode", mode);
//   for (config::Table& p : reg.Children("purposes")) { p.String("id", id, /*required=*/true); ...; p.Finish(); }
//   reg.Finish();
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace steward::config {

struct Position {
  int line = 0;
  int column = 0;
};

class Problems {
 public:
  explicit Problems(std::string file) : file_(std::move(file)) {}
  void Add(Position where, const std::string& message);
  bool empty() const { return lines_.empty(); }
  size_t size() const { return lines_.size(); }
  const std::vector<std::string>& lines() const { return lines_; }
  // One problem a line, in the order found.
  std::string Joined() const;
  const std::string& file() const { return file_; }

 private:
  std::string file_;
  std::vector<std::string> lines_;
};

class Document;

class Table {
 public:
  // "register.purposes[2]": how problems name this table's keys.
  const std::string& name() const { return name_; }
  Position where() const;
  bool Has(std::string_view key) const;
  // True iff `key` holds a table (reports nothing either way).
  bool IsTable(std::string_view key) const;
  Position Where(std::string_view key) const;

  // Each reads `key` if present (reporting a wrong type), or reports it missing when `required`.
  // Returns whether a value was read.
  bool String(std::string_view key, std::string& out, bool required = false);
  bool Bool(std::string_view key, bool& out, bool required = false);
  bool Int(std::string_view key, int64_t& out, int64_t min, int64_t max, bool required = false);
  bool StringArray(std::string_view key, std::vector<std::string>& out, bool required = false);
  // A sub-table, or nullopt when absent (a non-table value is reported).
  std::optional<Table> Child(std::string_view key);
  // An array of tables ([[key]]); empty when absent.
  std::vector<Table> Children(std::string_view key);
  // Marks `key` as known without reading it (another module reads it).
  void Skip(std::string_view key);
  // Reports every key that was not read, asked for or skipped.
  void Finish();

  Problems& problems() { return *problems_; }

 private:
  friend class Document;
  struct Impl;
  Table(std::shared_ptr<Impl> impl, std::string name, Problems& problems);
  std::string Qualified(std::string_view key) const;
  std::shared_ptr<Impl> impl_;
  std::string name_;
  Problems* problems_;
};

class Document {
 public:
  Document() = default;  // empty; use Parse
  // Errors: kInvalidArgument with "FILE:LINE:COLUMN: message" for a syntax error.
  static Result<Document> Parse(const std::string& text, const std::string& path);
  const std::string& path() const { return path_; }
  Table Root(Problems& problems) const;

  struct Impl;  // the parsed file; opaque outside document.cc

 private:
  std::shared_ptr<Impl> impl_;
  std::string path_;
};

}  // namespace steward::config
