#include "dataplane/ethernet.hpp"

#include <cstring>

namespace mxdp::dataplane {

EthInput ethernet_input(std::span<const std::uint8_t> frame, MacAddress self) noexcept {
  EthInput r;
  if (frame.size() < sizeof(wire::EthernetHeader)) return r;
  const auto* h = reinterpret_cast<const wire::EthernetHeader*>(frame.data());
  MacAddress dst;
  std::memcpy(dst.bytes.data(), h->dst, 6);
  std::memcpy(r.src.bytes.data(), h->src, 6);
  if (dst != self && !dst.is_broadcast()) {
    r.drop = DropReason::kEthNotForUs;
    return r;
  }
  switch (h->ether_type.host()) {
    case wire::kEtherTypeIpv4:
      r.payload = EthPayload::kIpv4;
      break;
    case wire::kEtherTypeArp:
      r.payload = EthPayload::kArp;
      break;
    default:
      r.drop = DropReason::kEthUnknownType;
      break;
  }
  return r;
}

void ethernet_write(std::span<std::uint8_t, sizeof(wire::EthernetHeader)> out, MacAddress dst, MacAddress src,
                    std::uint16_t ether_type) noexcept {
  auto* h = reinterpret_cast<wire::EthernetHeader*>(out.data());
  std::memcpy(h->dst, dst.bytes.data(), 6);
  std::memcpy(h->src, src.bytes.data(), 6);
  h->ether_type.set(ether_type);
}

}  // namespace mxdp::dataplane
