// RawConnection: a blocking TCP client for tests, so they can send exactly the bytes they mean,
// malformed, oversized or trickled, and read the server's answer as sent.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/request.h"

namespace steward::http::testing {

struct RawResponse {
  int status = 0;
  std::vector<HeaderField> headers;
  std::string body;
  std::string Header(std::string_view name) const;
  std::vector<std::string> Headers(std::string_view name) const;
};

class RawConnection {
 public:
  // Connects to 127.0.0.1:port. Check connected().
  explicit RawConnection(uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~RawConnection();
  bool connected() const { return fd_ >= 0; }

  bool Send(std::string_view bytes);
  // Reads one response (Content-Length delimited; none after HEAD, 204, 304). nullopt on
  // timeout or when the connection closes before a whole response.
  std::optional<RawResponse> Read(bool head = false);
  // True when the server closes the connection within `within`.
  bool WaitClosed(std::chrono::milliseconds within);

 private:
  bool Fill();
  int fd_ = -1;
  std::chrono::milliseconds timeout_;
  std::string buffer_;
};

// One request on a fresh connection: "GET /x HTTP/1.1\r\nHost: t\r\n..." built from the parts.
std::optional<RawResponse> Fetch(uint16_t port, std::string_view method, std::string_view target,
                                 const std::vector<HeaderField>& headers = {}, std::string_view body = {});

}  // namespace steward::http::testing
