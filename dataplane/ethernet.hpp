#pragma once
// Ethernet II: classify a received frame and write the header of a frame to
// send. Pure functions over bytes (no mbuf), tested without EAL.

#include <cstdint>
#include <span>

#include "dataplane/addresses.hpp"
#include "dataplane/counters.hpp"
#include "dataplane/wire.hpp"

namespace mxdp::dataplane {

enum class EthPayload : std::uint8_t { kIpv4, kArp, kDrop };

struct EthInput {
  EthPayload payload = EthPayload::kDrop;
  DropReason drop = DropReason::kEthTooShort;  // meaningful when payload == kDrop
  MacAddress src;
};

// Accepts frames addressed to `self` or broadcast; other multicast and unicast
// for another station are dropped (a port in promiscuous mode sees those).
EthInput ethernet_input(std::span<const std::uint8_t> frame, MacAddress self) noexcept;

// Writes the 14-byte header at out[0..14).
void ethernet_write(std::span<std::uint8_t, sizeof(wire::EthernetHeader)> out, MacAddress dst, MacAddress src,
                    std::uint16_t ether_type) noexcept;

}  // namespace mxdp::dataplane
