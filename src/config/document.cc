#include "config/document.h"

#include <toml++/toml.h>

#include <set>

namespace steward::config {

void Problems::Add(Position where, const std::string& message) {
  lines_.push_back(file_ + ':' + std::to_string(where.line) + ':' + std::to_string(where.column) + ": " + message);
}

std::string Problems::Joined() const {
  std::string out;
  for (const auto& l : lines_) {
    if (!out.empty()) out.push_back('\n');
    out.append(l);
  }
  return out;
}

struct Document::Impl {
  toml::table root;
};

struct Table::Impl {
  std::shared_ptr<Document::Impl> doc;  // keeps the parsed file alive
  const toml::table* table;
  std::set<std::string, std::less<>> seen;
};

namespace {
Position At(const toml::source_region& r) {
  return Position{static_cast<int>(r.begin.line), static_cast<int>(r.begin.column)};
}
}  // namespace

Table::Table(std::shared_ptr<Impl> impl, std::string name, Problems& problems)
    : impl_(std::move(impl)), name_(std::move(name)), problems_(&problems) {}

std::string Table::Qualified(std::string_view key) const {
  return name_.empty() ? std::string(key) : name_ + "." + std::string(key);
}

Position Table::where() const { return At(impl_->table->source()); }

bool Table::Has(std::string_view key) const { return impl_->table->contains(key); }

bool Table::IsTable(std::string_view key) const {
  const toml::node* n = impl_->table->get(key);
  return n != nullptr && n->is_table();
}

Position Table::Where(std::string_view key) const {
  const toml::node* n = impl_->table->get(key);
  return n ? At(n->source()) : where();
}

bool Table::String(std::string_view key, std::string& out, bool required) {
  impl_->seen.insert(std::string(key));
  const toml::node* n = impl_->table->get(key);
  if (n == nullptr) {
    if (required) problems_->Add(where(), "'" + Qualified(key) + "' is missing");
    return false;
  }
  if (auto v = n->value<std::string>()) {
    out = *v;
    return true;
  }
  problems_->Add(At(n->source()), "'" + Qualified(key) + "' must be a string");
  return false;
}

bool Table::Bool(std::string_view key, bool& out, bool required) {
  impl_->seen.insert(std::string(key));
  const toml::node* n = impl_->table->get(key);
  if (n == nullptr) {
    if (required) problems_->Add(where(), "'" + Qualified(key) + "' is missing");
    return false;
  }
  if (auto v = n->value<bool>()) {
    out = *v;
    return true;
  }
  problems_->Add(At(n->source()), "'" + Qualified(key) + "' must be true or false");
  return false;
}

bool Table::Int(std::string_view key, int64_t& out, int64_t min, int64_t max, bool required) {
  impl_->seen.insert(std::string(key));
  const toml::node* n = impl_->table->get(key);
  if (n == nullptr) {
    if (required) problems_->Add(where(), "'" + Qualified(key) + "' is missing");
    return false;
  }
  auto v = n->is_integer() ? n->value<int64_t>() : std::nullopt;
  if (!v) {
    problems_->Add(At(n->source()), "'" + Qualified(key) + "' must be a whole number");
    return false;
  }
  if (*v < min || *v > max) {
    problems_->Add(At(n->source()),
                   "'" + Qualified(key) + "' must be between " + std::to_string(min) + " and " + std::to_string(max));
    return false;
  }
  out = *v;
  return true;
}

bool Table::StringArray(std::string_view key, std::vector<std::string>& out, bool required) {
  impl_->seen.insert(std::string(key));
  const toml::node* n = impl_->table->get(key);
  if (n == nullptr) {
    if (required) problems_->Add(where(), "'" + Qualified(key) + "' is missing");
    return false;
  }
  const toml::array* arr = n->as_array();
  if (arr == nullptr) {
    problems_->Add(At(n->source()), "'" + Qualified(key) + "' must be a list of strings");
    return false;
  }
  out.clear();
  bool ok = true;
  for (const toml::node& item : *arr) {
    if (auto v = item.value<std::string>()) {
      out.push_back(*v);
    } else {
      problems_->Add(At(item.source()), "'" + Qualified(key) + "' must hold only strings");
      ok = false;
    }
  }
  return ok;
}

std::optional<Table> Table::Child(std::string_view key) {
  impl_->seen.insert(std::string(key));
  const toml::node* n = impl_->table->get(key);
  if (n == nullptr) return std::nullopt;
  const toml::table* t = n->as_table();
  if (t == nullptr) {
    problems_->Add(At(n->source()), "'" + Qualified(key) + "' must be a table");
    return std::nullopt;
  }
  auto impl = std::make_shared<Impl>();
  impl->doc = impl_->doc;
  impl->table = t;
  return Table(impl, Qualified(key), *problems_);
}

std::vector<Table> Table::Children(std::string_view key) {
  impl_->seen.insert(std::string(key));
  std::vector<Table> out;
  const toml::node* n = impl_->table->get(key);
  if (n == nullptr) return out;
  const toml::array* arr = n->as_array();
  if (arr == nullptr) {
    problems_->Add(At(n->source()), "'" + Qualified(key) + "' must be a list of tables ([[" + Qualified(key) + "]])");
    return out;
  }
  size_t i = 0;
  for (const toml::node& item : *arr) {
    const toml::table* t = item.as_table();
    if (t == nullptr) {
      problems_->Add(At(item.source()), "'" + Qualified(key) + "' must hold only tables");
      ++i;
      continue;
    }
    auto impl = std::make_shared<Impl>();
    impl->doc = impl_->doc;
    impl->table = t;
    out.push_back(Table(impl, Qualified(key) + "[" + std::to_string(i++) + "]", *problems_));
  }
  return out;
}

void Table::Skip(std::string_view key) { impl_->seen.insert(std::string(key)); }

void Table::Finish() {
  for (auto&& [key, node] : *impl_->table) {
    if (!impl_->seen.count(key.str())) problems_->Add(At(key.source()), "unknown key '" + Qualified(key.str()) + "'");
  }
}

Result<Document> Document::Parse(const std::string& text, const std::string& path) {
  Document doc;
  doc.path_ = path;
  doc.impl_ = std::make_shared<Impl>();
  try {
    doc.impl_->root = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    Problems p(path);
    p.Add(At(e.source()), std::string(e.description()));
    return MakeError(ErrorCode::kInvalidArgument, p.Joined());
  }
  return doc;
}

Table Document::Root(Problems& problems) const {
  auto impl = std::make_shared<Table::Impl>();
  impl->doc = impl_;
  impl->table = &impl_->root;
  return Table(impl, "", problems);
}

}  // namespace steward::config
