#pragma once
// ARP (RFC 826) for one IPv4 address on one port: the cache with expiry and the
// handling of requests and replies. The cache is per lcore (each lcore answers
// and learns on its own queue). Pure: frames are bytes, time is passed in.

#include <cstdint>
#include <optional>
#include <span>

#include "dataplane/addresses.hpp"
#include "dataplane/counters.hpp"
#include "dataplane/fixed_hash_map.hpp"
#include "dataplane/time.hpp"
#include "dataplane/wire.hpp"

namespace mxdp::dataplane {

// Holds at most `capacity` addresses, allocated at construction. When full, a
// new address replaces the entry idle the longest (the one least likely to be
// needed again; a peer still in use is relearned from its next ARP packet).
class ArpCache {
 public:
  static constexpr std::size_t kDefaultCapacity = 1024;
  explicit ArpCache(TimeUs lifetime_us, std::size_t capacity = kDefaultCapacity)
      : lifetime_(lifetime_us), entries_(capacity, 0) {}

  struct Lookup {
    std::optional<MacAddress> mac;  // usable address (fresh or stale)
    bool needs_request = false;     // absent, or stale and no request in flight
  };

  // A stale entry (past its lifetime) is still used while a refresh request is
  // outstanding, so a long transfer does not stall each time an entry ages.
  Lookup lookup(Ipv4Address ip, TimeUs now) noexcept;
  void update(Ipv4Address ip, MacAddress mac, TimeUs now) noexcept;
  bool contains(Ipv4Address ip) const noexcept { return entries_.contains(ip.value); }
  // Records that a request for ip went out at `now` (rate limit: one per second).
  void note_request(Ipv4Address ip, TimeUs now) noexcept;
  // Drops entries unused for two lifetimes.
  void expire(TimeUs now) noexcept;
  std::size_t size() const noexcept { return entries_.size(); }
  std::size_t capacity() const noexcept { return entries_.max_entries(); }

 private:
  struct Entry {
    MacAddress mac;
    bool resolved = false;
    TimeUs updated = 0;
    TimeUs requested = 0;  // last request time, 0 = none
  };
  // The entry for ip, made (evicting the longest idle when full) if absent.
  Entry& entry(Ipv4Address ip) noexcept;
  TimeUs lifetime_;
  FixedHashMap<Entry> entries_;
};

struct ArpResult {
  enum class Action : std::uint8_t { kNone, kReplied, kDrop } action = ArpResult::Action::kNone;
  DropReason drop = DropReason::kArpMalformed;
  bool learned = false;   // the cache gained or refreshed the sender
  Ipv4Address sender_ip;  // the address learned
};

// Handles one received ARP packet (the bytes after the Ethernet header). If it
// is a request for self_ip, writes the reply ARP packet into reply_out and
// returns kReplied (the caller frames it to the requester's MAC).
ArpResult arp_input(std::span<const std::uint8_t> packet, Ipv4Address self_ip, MacAddress self_mac,
                    ArpCache& cache, TimeUs now,
                    std::span<std::uint8_t, sizeof(wire::ArpPacket)> reply_out) noexcept;

// Writes an ARP packet (request: target_mac zero; gratuitous: target_ip == sender_ip).
void arp_write(std::span<std::uint8_t, sizeof(wire::ArpPacket)> out, std::uint16_t opcode,
               MacAddress sender_mac, Ipv4Address sender_ip, MacAddress target_mac,
               Ipv4Address target_ip) noexcept;

}  // namespace mxdp::dataplane
