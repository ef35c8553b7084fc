#pragma once
// An IPv4 host:port as operators write it ("127.0.0.1:2525").

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

struct sockaddr_in;

namespace mxdp::dataplane::transport {

struct Endpoint {
  std::uint32_t address_be = 0;  // IPv4 address in network byte order
  std::uint16_t port = 0;        // host byte order

  // Parses "a.b.c.d:port" (a numeric IPv4 address; names are not resolved on
  // purpose: a benchmark must not depend on DNS). Returns nullopt on anything else.
  static std::optional<Endpoint> parse(std::string_view text);

  std::string to_string() const;
  void to_sockaddr(sockaddr_in& out) const;
  static Endpoint from_sockaddr(const sockaddr_in& in);

  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

}  // namespace mxdp::dataplane::transport
