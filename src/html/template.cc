#include "html/template.h"

#include <filesystem>
#include <functional>
#include <fstream>
#include <sstream>

#include "core/strings.h"

namespace steward::html {

bool Value::Truthy() const {
  if (std::holds_alternative<std::monostate>(v_)) return false;
  if (auto* b = std::get_if<bool>(&v_)) return *b;
  if (auto* s = std::get_if<std::string>(&v_)) return !s->empty();
  if (auto* l = std::get_if<List>(&v_)) return !l->empty();
  return true;
}

std::string Escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

struct Templates::Node {
  enum class Kind { kText, kVar, kRaw, kSection, kInverted, kPartial } kind;
  std::string text;  // literal text, or the name
  std::vector<Node> children;
};

struct Templates::Impl {
  std::map<std::string, std::vector<Node>, std::less<>> templates;
};

namespace {

// Looks `name` up through the context stack, innermost first; dotted names walk objects.
const Value* Lookup(const std::vector<const Value*>& stack, std::string_view name) {
  if (name == ".") return stack.back();
  auto parts = Split(name, '.');
  for (auto it = stack.rbegin(); it != stack.rend(); ++it) {
    const Object* obj = (*it)->AsObject();
    if (obj == nullptr) continue;
    auto found = obj->find(parts[0]);
    if (found == obj->end()) continue;
    const Value* v = &found->second;
    for (size_t i = 1; i < parts.size() && v != nullptr; ++i) {
      const Object* o = v->AsObject();
      if (o == nullptr) return nullptr;
      auto f = o->find(parts[i]);
      v = f == o->end() ? nullptr : &f->second;
    }
    return v;
  }
  return nullptr;
}

}  // namespace

Templates::Templates() : impl_(std::make_unique<Impl>()) {}
Templates::~Templates() = default;
Templates::Templates(Templates&&) noexcept = default;
Templates& Templates::operator=(Templates&&) noexcept = default;

Status Templates::Add(const std::string& name, std::string_view text, const std::string& source) {
  std::vector<Node> root;
  std::vector<std::vector<Node>*> stack{&root};
  std::vector<std::pair<std::string, int>> open;  // section names and their lines
  int line = 1;
  size_t pos = 0;
  auto error = [&](const std::string& what) {
    return MakeError(ErrorCode::kInvalidArgument,
                     (source.empty() ? name : source) + ":" + std::to_string(line) + ": " + what);
  };
  while (pos < text.size()) {
    size_t open_tag = text.find("{{", pos);
    std::string_view literal =
        text.substr(pos, open_tag == std::string_view::npos ? std::string_view::npos : open_tag - pos);
    if (!literal.empty()) {
      stack.back()->push_back(Node{Node::Kind::kText, std::string(literal), {}});
      for (char c : literal) line += c == '\n';
    }
    if (open_tag == std::string_view::npos) break;
    bool triple = text.substr(open_tag, 3) == "{{{";
    size_t close = text.find(triple ? "}}}" : "}}", open_tag);
    if (close == std::string_view::npos) return error("unclosed tag");
    std::string_view tag = text.substr(open_tag + (triple ? 3 : 2), close - open_tag - (triple ? 3 : 2));
    for (char c : tag) line += c == '\n';
    pos = close + (triple ? 3 : 2);
    if (triple) {
      stack.back()->push_back(Node{Node::Kind::kRaw, std::string(Trim(tag)), {}});
      continue;
    }
    if (tag.empty()) return error("empty tag");
    char sigil = tag[0];
    std::string body(Trim(tag.substr(1)));
    switch (sigil) {
      case '!':
        break;
      case '#':
      case '^': {
        stack.back()->push_back(Node{sigil == '#' ? Node::Kind::kSection : Node::Kind::kInverted, body, {}});
        stack.push_back(&stack.back()->back().children);
        open.emplace_back(body, line);
        break;
      }
      case '/': {
        if (open.empty()) return error("closing {{/" + body + "}} with no open section");
        if (open.back().first != body) {
          return error("{{/" + body + "}} closes {{#" + open.back().first + "}} opened on line " +
                       std::to_string(open.back().second));
        }
        open.pop_back();
        stack.pop_back();
        break;
      }
      case '>':
        stack.back()->push_back(Node{Node::Kind::kPartial, body, {}});
        break;
      case '&':
        stack.back()->push_back(Node{Node::Kind::kRaw, body, {}});
        break;
      default:
        stack.back()->push_back(Node{Node::Kind::kVar, std::string(Trim(tag)), {}});
    }
  }
  if (!open.empty()) {
    line = open.back().second;
    return error("section {{#" + open.back().first + "}} is never closed");
  }
  impl_->templates[name] = std::move(root);
  return Ok();
}

Status Templates::LoadDirectory(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return MakeError(ErrorCode::kNotFound, "template directory " + dir + " is missing");
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::string ext = entry.path().extension().string();
    if (!entry.is_regular_file() || (ext != ".html" && ext != ".md")) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream buf;
    buf << in.rdbuf();
    // "page.html" is the template "page"; "page.md" is "page.md".
    std::string name = ext == ".html" ? entry.path().stem().string() : entry.path().filename().string();
    STEWARD_RETURN_IF_ERROR(Add(name, buf.str(), entry.path().string()));
  }
  if (ec) return MakeError(ErrorCode::kIo, "cannot list template directory " + dir);
  return Ok();
}

bool Templates::Has(std::string_view name) const { return impl_->templates.find(name) != impl_->templates.end(); }

Result<std::string> Templates::Render(std::string_view name, const Value& data) const {
  auto it = impl_->templates.find(name);
  if (it == impl_->templates.end()) return MakeError(ErrorCode::kNotFound, "no template '" + std::string(name) + "'");
  std::string out;
  std::vector<const Value*> stack{&data};
  int depth = 0;
  // Recursive walk; partials may nest but not without bound.
  std::function<Status(const std::vector<Node>&)> walk = [&](const std::vector<Node>& nodes) -> Status {
    for (const Node& n : nodes) {
      switch (n.kind) {
        case Node::Kind::kText:
          out += n.text;
          break;
        case Node::Kind::kVar:
        case Node::Kind::kRaw: {
          const Value* v = Lookup(stack, n.text);
          if (v == nullptr) break;
          std::string_view s;
          if (const std::string* str = v->AsString())
            s = *str;
          else if (const bool* b = v->AsBool())
            s = *b ? "true" : "false";
          out += n.kind == Node::Kind::kVar ? Escape(s) : std::string(s);
          break;
        }
        case Node::Kind::kSection: {
          const Value* v = Lookup(stack, n.text);
          if (v == nullptr || !v->Truthy()) break;
          if (const List* list = v->AsList()) {
            for (const Value& item : *list) {
              stack.push_back(&item);
              Status s = walk(n.children);
              stack.pop_back();
              STEWARD_RETURN_IF_ERROR(s);
            }
          } else {
            stack.push_back(v);
            Status s = walk(n.children);
            stack.pop_back();
            STEWARD_RETURN_IF_ERROR(s);
          }
          break;
        }
        case Node::Kind::kInverted: {
          const Value* v = Lookup(stack, n.text);
          if (v == nullptr || !v->Truthy()) STEWARD_RETURN_IF_ERROR(walk(n.children));
          break;
        }
        case Node::Kind::kPartial: {
          auto p = impl_->templates.find(n.text);
          if (p == impl_->templates.end()) return MakeError(ErrorCode::kNotFound, "no partial '" + n.text + "'");
          if (++depth > 16) return MakeError(ErrorCode::kInvalidArgument, "partials nest too deep");
          STEWARD_RETURN_IF_ERROR(walk(p->second));
          --depth;
          break;
        }
      }
    }
    return Ok();
  };
  STEWARD_RETURN_IF_ERROR(walk(it->second));
  return out;
}

}  // namespace steward::html
