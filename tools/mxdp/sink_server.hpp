#pragma once
// A built-in SMTP sink: accepts every recipient and message and counts them.
// `mxdp bench` runs one as the referral target so relayed recipients complete
// inside the benchmark process (like Postfix smtp-sink, but on the same SMTP
// engine and with counts the bench can check).

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

namespace mxdp::dataplane::transport {
class EventLoop;
}

namespace mxdp::cli {

class SinkServer {
 public:
  SinkServer();
  ~SinkServer();
  SinkServer(const SinkServer&) = delete;
  SinkServer& operator=(const SinkServer&) = delete;

  // Listens on `at` (port 0: any) on its own thread and kernel event loop.
  // Returns "" or an error.
  std::string start(const std::string& at);
  // Listens on `at` on a loop somebody else runs (mxdp bench on DPDK: the
  // generator's loop, on the far side of the ring ports). `loop` must outlive
  // the sink's use; call on that loop's thread. Several loops may share one
  // sink (its counters are atomic).
  std::string attach(dataplane::transport::EventLoop& loop, const std::string& at);
  void stop();
  std::uint16_t port() const noexcept { return port_; }

  std::uint64_t messages() const noexcept { return messages_.load(std::memory_order_relaxed); }
  std::uint64_t recipients() const noexcept { return recipients_.load(std::memory_order_relaxed); }
  std::uint64_t bytes() const noexcept { return bytes_.load(std::memory_order_relaxed); }

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
  std::uint16_t port_ = 0;
  std::atomic<std::uint64_t> messages_{0}, recipients_{0}, bytes_{0};
};

}  // namespace mxdp::cli
