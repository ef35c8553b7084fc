#include "dataplane/transport/endpoint.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

namespace mxdp::dataplane::transport {

std::optional<Endpoint> Endpoint::parse(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) return std::nullopt;
  std::string host(text.substr(0, colon));
  std::string_view port_text = text.substr(colon + 1);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) return std::nullopt;
  in_addr addr{};
  if (host == "localhost") host = "127.0.0.1";
  if (inet_pton(AF_INET, host.c_str(), &addr) != 1) return std::nullopt;
  return Endpoint{addr.s_addr, static_cast<std::uint16_t>(port)};
}

std::string Endpoint::to_string() const {
  char buf[INET_ADDRSTRLEN] = {};
  in_addr addr{};
  addr.s_addr = address_be;
  inet_ntop(AF_INET, &addr, buf, sizeof buf);
  return std::string(buf) + ":" + std::to_string(port);
}

void Endpoint::to_sockaddr(sockaddr_in& out) const {
  std::memset(&out, 0, sizeof out);
  out.sin_family = AF_INET;
  out.sin_addr.s_addr = address_be;
  out.sin_port = htons(port);
}

Endpoint Endpoint::from_sockaddr(const sockaddr_in& in) {
  return Endpoint{in.sin_addr.s_addr, ntohs(in.sin_port)};
}

}  // namespace mxdp::dataplane::transport
