// StaticFiles: the site's assets (GOV.UK Frontend's CSS, scripts, fonts and images; Steward's own),
// read into memory once at start and served with a content type, a strong ETag, Cache-Control and
// 304 answers to If-None-Match.
//
// Only files found under the mounted directories at start can be served, so no request can reach
// outside them: `..` and `.` segments (encoded or not), backslashes, NUL bytes and hidden files are
// refused, and symbolic links are never followed when reading a directory.
//
// Thread safety: add files before serving; Serve is read-only after.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>

#include "core/result.h"
#include "http/request.h"
#include "http/response.h"

namespace steward::http {

class StaticFiles {
 public:
  // Every regular file below `dir`, served at `url_prefix` + its relative path. Errors: kNotFound
  // when `dir` is missing, kResourceExhausted past the size limits.
  Status AddDirectory(const std::string& url_prefix, const std::string& dir);
  // One file at one URL path.
  Status AddFile(const std::string& url_path, const std::string& file);

  // The response for `url_path` (percent-encoded, as in the request): 200, 304, or 404.
  Response Serve(const Request& request, std::string_view url_path) const;

  size_t file_count() const { return files_.size(); }
  size_t total_bytes() const { return total_bytes_; }

  static constexpr size_t kMaxFileBytes = 16 << 20;
  static constexpr size_t kMaxTotalBytes = 128 << 20;

 private:
  struct File {
    std::string content_type;
    std::string etag;
    std::string body;
    bool immutable;  // the name carries a content hash: cache for a year
  };
  Status Load(const std::string& url_path, const std::string& file);
  std::unordered_map<std::string, File> files_;
  size_t total_bytes_ = 0;
};

// The content type for a file name's extension; application/octet-stream when unknown.
std::string_view ContentTypeFor(std::string_view filename);

}  // namespace steward::http
