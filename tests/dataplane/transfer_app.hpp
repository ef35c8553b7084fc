#pragma once
// A test application over Stack: each connection carries a 12-byte header
// from the client (client bytes, server bytes, seed), then both sides stream
// pseudo-random bytes of those lengths, half-close, read to end of stream,
// verify every byte and close. Used by the ring-pair, test-link and tap tests.

#include <cstdint>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

#include "dataplane/stack.hpp"

namespace mxdp::dataplane::testing {

inline std::uint8_t pattern_byte(std::uint32_t seed, std::uint64_t i) {
  std::uint64_t x = (i + 1) * 0x9e3779b97f4a7c15ULL ^ (std::uint64_t{seed} << 17);
  x ^= x >> 29;
  x *= 0xbf58476d1ce4e5b9ULL;
  return static_cast<std::uint8_t>(x >> 40);
}

class TransferApp {
 public:
  struct Stats {
    std::uint64_t completed = 0;
    std::uint64_t errors = 0;
    std::uint64_t resets = 0;
    std::uint64_t bytes_sent = 0;
    std::uint64_t bytes_received = 0;
    std::string first_error;
  };

  explicit TransferApp(Stack& stack) : stack_(stack) {}

  bool open(Ipv4Address ip, std::uint16_t port, std::uint32_t client_len, std::uint32_t server_len,
            std::uint32_t seed) {
    ConnId id;
    if (stack_.connect(ip, port, id) != Status::kOk) return false;
    Flow f;
    f.id = id;
    f.client = true;
    f.send_len = client_len;
    f.recv_len = server_len;
    f.seed = seed;
    put32(f.header, client_len);
    put32(f.header + 4, server_len);
    put32(f.header + 8, seed);
    f.header_len = 12;  // to send
    flows_[id.index] = f;
    return true;
  }

  // Handles events and moves bytes; call after each poll.
  void run() {
    events_.clear();
    stack_.take_events(events_);
    for (const Event& e : events_) {
      auto it = flows_.find(e.conn.index);
      if (e.type == EventType::kAccepted && (it == flows_.end() || !(it->second.id == e.conn))) {
        Flow f;
        f.id = e.conn;
        f.client = false;
        flows_[e.conn.index] = f;
        it = flows_.find(e.conn.index);
      }
      if (it == flows_.end() || !(it->second.id == e.conn)) continue;
      Flow& f = it->second;
      if (e.type == EventType::kPeerClosed) f.peer_closed = true;
      if (e.type == EventType::kReset) {
        ++stats_.resets;
        fail(f, "connection reset");
      }
      active_.push_back(e.conn.index);
    }
    // Pump every live flow (send progress does not always come with an event).
    for (auto it = flows_.begin(); it != flows_.end();) {
      Flow& f = it->second;
      if (!f.done) pump(f);
      if (f.done) {
        it = flows_.erase(it);
      } else {
        ++it;
      }
    }
  }

  const Stats& stats() const { return stats_; }
  std::size_t live() const { return flows_.size(); }

 private:
  struct Flow {
    ConnId id;
    bool client = false;
    std::uint32_t send_len = 0;
    std::uint32_t recv_len = 0;
    std::uint32_t seed = 0;
    std::uint8_t header[12] = {};
    std::uint32_t header_len = 0;  // client: header bytes still to send; server: header bytes received
    bool header_known = false;
    std::uint64_t sent = 0;
    std::uint64_t received = 0;
    bool shut = false;
    bool peer_closed = false;
    bool done = false;
  };

  static void put32(std::uint8_t* p, std::uint32_t v) { std::memcpy(p, &v, 4); }
  static std::uint32_t get32(const std::uint8_t* p) {
    std::uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
  }

  void fail(Flow& f, const std::string& why) {
    if (stats_.errors == 0) stats_.first_error = why;
    ++stats_.errors;
    stack_.close(f.id);
    f.done = true;
  }

  void pump(Flow& f) {
    // Receive.
    for (;;) {
      RecvChain chain = stack_.recv(f.id);
      if (chain.empty()) break;
      for (const RecvSegment& seg : chain.segments()) {
        const std::uint8_t* p = seg.data;
        std::uint32_t n = seg.size;
        if (!f.client && !f.header_known) {
          while (n > 0 && f.header_len < 12) {
            f.header[f.header_len++] = *p++;
            --n;
          }
          if (f.header_len == 12) {
            f.header_known = true;
            f.recv_len = get32(f.header);
            f.send_len = get32(f.header + 4);
            f.seed = get32(f.header + 8);
          }
        }
        const std::uint32_t seed = f.client ? f.seed ^ 0x5a5a5a5a : f.seed;
        for (std::uint32_t i = 0; i < n; ++i) {
          if (p[i] != pattern_byte(seed, f.received + i)) {
            return fail(f, "byte mismatch at offset " + std::to_string(f.received + i));
          }
        }
        f.received += n;
        stats_.bytes_received += n;
        if (f.received > f.recv_len && (f.client || f.header_known)) return fail(f, "too many bytes");
      }
    }
    // Send.
    if (f.client && f.header_len > 0) {
      const std::size_t n = stack_.send(f.id, {f.header + (12 - f.header_len), f.header_len});
      f.header_len -= static_cast<std::uint32_t>(n);
      if (f.header_len > 0) return;
    }
    if (f.client || f.header_known) {
      const std::uint32_t seed = f.client ? f.seed : f.seed ^ 0x5a5a5a5a;
      while (f.sent < f.send_len) {
        const std::size_t chunk = std::min<std::uint64_t>(f.send_len - f.sent, sizeof buffer_);
        for (std::size_t i = 0; i < chunk; ++i)
          buffer_[i] = pattern_byte(seed, f.sent + i);
        const std::size_t n = stack_.send(f.id, {buffer_, chunk});
        f.sent += n;
        stats_.bytes_sent += n;
        if (n < chunk) break;
      }
      if (f.sent == f.send_len && !f.shut) {
        f.shut = true;
        stack_.shutdown(f.id);
      }
    }
    if (f.peer_closed && f.shut) {
      auto info = stack_.info(f.id);
      if (info && info->readable_bytes == 0) {
        if (f.received != f.recv_len)
          return fail(f, "short stream: " + std::to_string(f.received) + " of " + std::to_string(f.recv_len));
        stack_.close(f.id);
        f.done = true;
        ++stats_.completed;
      }
    }
  }

  Stack& stack_;
  std::unordered_map<std::uint32_t, Flow> flows_;
  std::vector<Event> events_;
  std::vector<std::uint32_t> active_;
  Stats stats_;
  std::uint8_t buffer_[16384];
};

}  // namespace mxdp::dataplane::testing
