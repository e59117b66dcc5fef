#include "core/ip.h"

#include <arpa/inet.h>

#include <cstring>

#include "core/strings.h"

namespace steward {

std::optional<IpAddress> IpAddress::Parse(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
  if (text.empty() || text.size() > 45) return std::nullopt;
  char buf[46];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpAddress ip;
  if (inet_pton(AF_INET, buf, ip.bytes_.data()) == 1) {
    ip.v4_ = true;
    return ip;
  }
  if (inet_pton(AF_INET6, buf, ip.bytes_.data()) == 1) {
    static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(ip.bytes_.data(), kMapped, 12) == 0) {
      std::memmove(ip.bytes_.data(), ip.bytes_.data() + 12, 4);
      std::memset(ip.bytes_.data() + 4, 0, 12);
      ip.v4_ = true;
    }
    return ip;
  }
  return std::nullopt;
}

std::string_view IpAddress::bytes() const {
  return std::string_view(reinterpret_cast<const char*>(bytes_.data()), v4_ ? 4 : 16);
}

std::string IpAddress::ToString() const {
  if (v4_) {
    // As inet_ntop writes it ("192.0.2.1"), without the printf it does that with.
    std::string out;
    out.reserve(15);
    for (int i = 0; i < 4; ++i) {
      if (i > 0) out.push_back('.');
      auto b = static_cast<unsigned char>(bytes_[i]);
      if (b >= 100) out.push_back(static_cast<char>('0' + b / 100));
      if (b >= 10) out.push_back(static_cast<char>('0' + b / 10 % 10));
      out.push_back(static_cast<char>('0' + b % 10));
    }
    return out;
  }
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, bytes_.data(), buf, sizeof buf);
  return buf;
}

std::optional<Cidr> Cidr::Parse(std::string_view text) {
  text = Trim(text);
  size_t slash = text.find('/');
  auto ip = IpAddress::Parse(text.substr(0, slash));
  if (!ip) return std::nullopt;
  int max = ip->is_v4() ? 32 : 128;
  int prefix = max;
  if (slash != std::string_view::npos) {
    auto p = ParseUint(text.substr(slash + 1));
    if (!p || *p > static_cast<uint64_t>(max)) return std::nullopt;
    prefix = static_cast<int>(*p);
  }
  Cidr c;
  c.base_ = *ip;
  c.prefix_ = prefix;
  return c;
}

bool Cidr::Contains(const IpAddress& ip) const {
  if (ip.is_v4() != base_.is_v4()) return false;
  std::string_view a = ip.bytes(), b = base_.bytes();
  int full = prefix_ / 8, rest = prefix_ % 8;
  if (std::memcmp(a.data(), b.data(), full) != 0) return false;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (static_cast<uint8_t>(a[full]) & mask) == (static_cast<uint8_t>(b[full]) & mask);
}

}  // namespace steward
