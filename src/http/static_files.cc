#include "http/static_files.h"

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "core/strings.h"

namespace steward::http {
namespace {

namespace fs = std::filesystem;

uint64_t Fnv1a(std::string_view data) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// "bold-affa96571d-v2.woff2": GOV.UK Frontend's fingerprinted font names.
bool LooksFingerprinted(std::string_view name) {
  static const std::regex kHashed(R"(.*-[0-9a-f]{8,}(-v\d+)?\.[a-z0-9]+$)");
  return std::regex_match(name.begin(), name.end(), kHashed);
}

}  // namespace

std::string_view ContentTypeFor(std::string_view filename) {
  size_t dot = filename.rfind('.');
  std::string ext = dot == std::string_view::npos ? "" : ToLower(filename.substr(dot + 1));
  if (ext == "html") return "text/html; charset=utf-8";
  if (ext == "css") return "text/css; charset=utf-8";
  if (ext == "js" || ext == "mjs") return "text/javascript; charset=utf-8";
  if (ext == "json" || ext == "map") return "application/json";
  if (ext == "svg") return "image/svg+xml";
  if (ext == "png") return "image/png";
  if (ext == "jpg" || ext == "jpeg") return "image/jpeg";
  if (ext == "gif") return "image/gif";
  if (ext == "ico") return "image/x-icon";
  if (ext == "webp") return "image/webp";
  if (ext == "woff2") return "font/woff2";
  if (ext == "woff") return "font/woff";
  if (ext == "txt") return "text/plain; charset=utf-8";
  if (ext == "csv") return "text/csv; charset=utf-8";
  if (ext == "xml") return "application/xml";
  if (ext == "webmanifest") return "application/manifest+json";
  return "application/octet-stream";
}

Status StaticFiles::Load(const std::string& url_path, const std::string& file) {
  std::error_code ec;
  auto size = fs::file_size(file, ec);
  if (ec) return MakeError(ErrorCode::kNotFound, "cannot read asset " + file);
  if (size > kMaxFileBytes) return MakeError(ErrorCode::kResourceExhausted, "asset " + file + " is larger than 16 MiB");
  if (total_bytes_ + size > kMaxTotalBytes) {
    return MakeError(ErrorCode::kResourceExhausted, "assets exceed 128 MiB in all");
  }
  std::ifstream in(file, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  if (!in) return MakeError(ErrorCode::kIo, "cannot read asset " + file);
  File f;
  f.body = buf.str();
  f.content_type = std::string(ContentTypeFor(file));
  char etag[24];
  std::snprintf(etag, sizeof etag, "\"%016llx\"", static_cast<unsigned long long>(Fnv1a(f.body)));
  f.etag = etag;
  f.immutable = LooksFingerprinted(fs::path(file).filename().string());
  total_bytes_ += f.body.size();
  files_[url_path] = std::move(f);
  return Ok();
}

Status StaticFiles::AddFile(const std::string& url_path, const std::string& file) {
  if (fs::is_symlink(file) || !fs::is_regular_file(file)) {
    return MakeError(ErrorCode::kNotFound, "asset " + file + " is not a regular file");
  }
  return Load(url_path, file);
}

Status StaticFiles::AddDirectory(const std::string& url_prefix, const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return MakeError(ErrorCode::kNotFound, "asset directory " + dir + " is missing (run scripts/install-deps)");
  }
  std::string prefix = url_prefix;
  if (prefix.empty() || prefix.back() != '/') prefix.push_back('/');
  // The default options do not follow directory symlinks; file symlinks are skipped below.
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    const auto& entry = *it;
    std::string name = entry.path().filename().string();
    if (!name.empty() && name[0] == '.') {
      if (entry.is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (entry.is_symlink() || !entry.is_regular_file()) continue;
    std::string rel = fs::relative(entry.path(), dir).generic_string();
    STEWARD_RETURN_IF_ERROR(Load(prefix + rel, entry.path().string()));
  }
  if (ec) return MakeError(ErrorCode::kIo, "cannot list asset directory " + dir);
  return Ok();
}

Response StaticFiles::Serve(const Request& request, std::string_view url_path) const {
  auto decoded = PercentDecode(url_path, false);
  if (!decoded || decoded->find('\0') != std::string::npos || decoded->find('\\') != std::string::npos) {
    return Response::Text("Not found\n", 404);
  }
  std::string_view rel = *decoded;
  if (!rel.empty() && rel.front() == '/') rel.remove_prefix(1);
  for (std::string_view seg : Split(rel, '/')) {
    if (seg.empty() || seg == "." || seg == ".." || seg.front() == '.') return Response::Text("Not found\n", 404);
  }
  auto it = files_.find(*decoded);
  if (it == files_.end()) return Response::Text("Not found\n", 404);
  const File& f = it->second;
  Response r;
  r.SetHeader("ETag", f.etag);
  r.SetHeader("Cache-Control", f.immutable ? "public, max-age=31536000, immutable" : "public, max-age=3600");
  for (std::string_view tag : Split(request.Header("If-None-Match"), ',')) {
    if (Trim(tag) == f.etag || Trim(tag) == "*") {
      r.status = 304;
      return r;
    }
  }
  r.SetHeader("Content-Type", f.content_type);
  r.body = f.body;
  return r;
}

}  // namespace steward::http
