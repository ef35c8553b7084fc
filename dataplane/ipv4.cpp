#include "dataplane/ipv4.hpp"

#include "dataplane/checksum.hpp"

namespace mxdp::dataplane {

Ipv4Input ipv4_input(std::span<const std::uint8_t> packet, Ipv4Address self,
                     bool checksum_verified) noexcept {
  Ipv4Input r;
  if (packet.size() < sizeof(wire::Ipv4Header)) return r;
  const auto* h = reinterpret_cast<const wire::Ipv4Header*>(packet.data());
  if (h->version() != 4) {
    r.drop = DropReason::kIpBadVersion;
    return r;
  }
  const unsigned hl = h->header_length();
  if (hl < sizeof(wire::Ipv4Header) || hl > packet.size()) {
    r.drop = DropReason::kIpBadHeaderLength;
    return r;
  }
  const unsigned total = h->total_length.host();
  if (total < hl || total > packet.size()) {
    r.drop = DropReason::kIpBadTotalLength;
    return r;
  }
  if (!checksum_verified && ipv4_header_checksum(packet.first(hl)) != 0) {
    r.drop = DropReason::kIpBadChecksum;
    return r;
  }
  r.src = Ipv4Address{h->src.host()};
  r.dst = Ipv4Address{h->dst.host()};
  if (r.dst != self) {
    r.drop = DropReason::kIpNotForUs;
    return r;
  }
  const std::uint16_t frag = h->flags_fragment.host();
  if ((frag & wire::kIpFlagMoreFragments) != 0 || (frag & wire::kIpFragmentOffsetMask) != 0) {
    r.drop = DropReason::kIpFragment;
    return r;
  }
  r.ok = true;
  r.protocol = h->protocol;
  r.header_length = static_cast<std::uint16_t>(hl);
  r.total_length = static_cast<std::uint16_t>(total);
  return r;
}

void ipv4_write(std::span<std::uint8_t, sizeof(wire::Ipv4Header)> out, Ipv4Address src, Ipv4Address dst,
                std::uint8_t protocol, std::uint16_t total_length, std::uint16_t id, std::uint8_t ttl,
                bool compute_checksum) noexcept {
  auto* h = reinterpret_cast<wire::Ipv4Header*>(out.data());
  h->version_ihl = 0x45;
  h->tos = 0;
  h->total_length.set(total_length);
  h->identification.set(id);
  h->flags_fragment.set(wire::kIpFlagDontFragment);
  h->ttl = ttl;
  h->protocol = protocol;
  h->checksum.set(0);
  h->src.set(src.value);
  h->dst.set(dst.value);
  if (compute_checksum) h->checksum.set(ipv4_header_checksum(out));
}

}  // namespace mxdp::dataplane
