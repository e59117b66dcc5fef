// IP addresses and CIDR ranges, IPv4 and IPv6. An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is
// treated as the IPv4 address it maps, so a proxy range written as IPv4 matches a dual-stack peer.
//
// Privacy: an IpAddress is personal data (user.device.ip_address). Hold it only as long as the
// request that carried it; never log or store it outside a dataset declared for security.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace steward {

class IpAddress {
 public:
  // "192.0.2.1", "2001:db8::1", "::ffff:192.0.2.1", "[2001:db8::1]". Nothing else.
  static std::optional<IpAddress> Parse(std::string_view text);

  bool is_v4() const { return v4_; }
  // 4 bytes for IPv4, 16 for IPv6.
  std::string_view bytes() const;
  // What one client holds: the whole of an IPv4 address, the /64 of an IPv6 one (a household or a
  // host is given a whole /64, so it can change the rest at will). For limits and throttles.
  std::string_view ClientNetwork() const { return bytes().substr(0, v4_ ? 4 : 8); }
  std::string ToString() const;
  bool operator==(const IpAddress& o) const { return v4_ == o.v4_ && bytes_ == o.bytes_; }

 private:
  std::array<uint8_t, 16> bytes_{};
  bool v4_ = false;
};

class Cidr {
 public:
  // "10.0.0.0/8", "2001:db8::/32", or a single address (a /32 or /128).
  static std::optional<Cidr> Parse(std::string_view text);
  bool Contains(const IpAddress& ip) const;

 private:
  IpAddress base_;
  int prefix_ = 0;
};

}  // namespace steward
