#include "dataplane/arp.hpp"

#include <algorithm>
#include <cstring>

namespace mxdp::dataplane {

namespace {
constexpr TimeUs kRequestInterval = 1'000'000;  // RFC 1122 §2.3.2.1: at most one request per second
}

ArpCache::Lookup ArpCache::lookup(Ipv4Address ip, TimeUs now) noexcept {
  Lookup r;
  const Entry* found = entries_.find(ip.value);
  if (found == nullptr) {
    r.needs_request = true;
    return r;
  }
  const Entry& e = *found;
  const bool in_flight = e.requested != 0 && now - e.requested < kRequestInterval;
  if (e.resolved) {
    r.mac = e.mac;
    r.needs_request = now - e.updated >= lifetime_ && !in_flight;
  } else {
    r.needs_request = !in_flight;
  }
  return r;
}

ArpCache::Entry& ArpCache::entry(Ipv4Address ip) noexcept {
  bool inserted = false;
  if (Entry* e = entries_.try_emplace(ip.value, inserted)) return *e;
  // Full: the entry with the oldest activity makes room. A scan, but only when
  // more neighbours are in play than the cache was sized for.
  std::uint64_t victim = 0;
  TimeUs oldest = kNever;
  entries_.for_each([&](std::uint64_t key, const Entry& e) {
    const TimeUs last = std::max(e.updated, e.requested);
    if (last <= oldest) {
      oldest = last;
      victim = key;
    }
  });
  entries_.erase(victim);
  return *entries_.try_emplace(ip.value, inserted);
}

void ArpCache::update(Ipv4Address ip, MacAddress mac, TimeUs now) noexcept {
  Entry& e = entry(ip);
  e.mac = mac;
  e.resolved = true;
  e.updated = now;
  e.requested = 0;
}

void ArpCache::note_request(Ipv4Address ip, TimeUs now) noexcept {
  Entry& e = entry(ip);
  e.requested = now == 0 ? 1 : now;
}

void ArpCache::expire(TimeUs now) noexcept {
  entries_.erase_if([&](std::uint64_t, const Entry& e) {
    const TimeUs last = std::max(e.updated, e.requested);
    return now > last && now - last >= 2 * lifetime_;
  });
}

void arp_write(std::span<std::uint8_t, sizeof(wire::ArpPacket)> out, std::uint16_t opcode,
               MacAddress sender_mac, Ipv4Address sender_ip, MacAddress target_mac,
               Ipv4Address target_ip) noexcept {
  auto* a = reinterpret_cast<wire::ArpPacket*>(out.data());
  a->hardware_type.set(1);
  a->protocol_type.set(wire::kEtherTypeIpv4);
  a->hardware_len = 6;
  a->protocol_len = 4;
  a->opcode.set(opcode);
  std::memcpy(a->sender_mac, sender_mac.bytes.data(), 6);
  a->sender_ip.set(sender_ip.value);
  std::memcpy(a->target_mac, target_mac.bytes.data(), 6);
  a->target_ip.set(target_ip.value);
}

ArpResult arp_input(std::span<const std::uint8_t> packet, Ipv4Address self_ip, MacAddress self_mac,
                    ArpCache& cache, TimeUs now,
                    std::span<std::uint8_t, sizeof(wire::ArpPacket)> reply_out) noexcept {
  ArpResult r;
  if (packet.size() < sizeof(wire::ArpPacket)) {
    r.action = ArpResult::Action::kDrop;
    return r;
  }
  const auto* a = reinterpret_cast<const wire::ArpPacket*>(packet.data());
  if (a->hardware_type.host() != 1 || a->protocol_type.host() != wire::kEtherTypeIpv4 ||
      a->hardware_len != 6 || a->protocol_len != 4) {
    r.action = ArpResult::Action::kDrop;
    return r;
  }
  const std::uint16_t op = a->opcode.host();
  if (op != wire::kArpRequest && op != wire::kArpReply) {
    r.action = ArpResult::Action::kDrop;
    return r;
  }
  MacAddress sender_mac;
  std::memcpy(sender_mac.bytes.data(), a->sender_mac, 6);
  const Ipv4Address sender_ip{a->sender_ip.host()};
  const Ipv4Address target_ip{a->target_ip.host()};
  // RFC 826 "packet reception": merge the sender into an existing entry; add
  // it when we are the target. Gratuitous ARP (target == sender) also adds, so
  // two in-process stacks learn each other at start without a request.
  const bool valid_sender = sender_ip.value != 0 && !sender_mac.is_multicast();
  const bool for_us = target_ip == self_ip;
  if (valid_sender && (for_us || cache.contains(sender_ip) || target_ip == sender_ip)) {
    cache.update(sender_ip, sender_mac, now);
    r.learned = true;
    r.sender_ip = sender_ip;
  }
  if (!for_us) {
    if (!r.learned) {
      r.action = ArpResult::Action::kDrop;
      r.drop = DropReason::kArpNotForUs;
    }
    return r;
  }
  if (op == wire::kArpRequest && valid_sender) {
    arp_write(reply_out, wire::kArpReply, self_mac, self_ip, sender_mac, sender_ip);
    r.action = ArpResult::Action::kReplied;
  }
  return r;
}

}  // namespace mxdp::dataplane
