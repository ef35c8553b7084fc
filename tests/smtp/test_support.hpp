#pragma once
// Shared helpers of the smtp tests: a recording sink, guarded buffers and a
// driver that feeds a server session a split input and collects its output.

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "smtp/server_session.hpp"

namespace mxdp::smtp::test {

struct Delivery {
  std::string from;
  std::vector<std::string> to;
  std::string body;
  bool chunked = false;
};

// Accepts recipients unless their local part starts with "reject" (550) or
// "busy" (450); answers messages with a fixed verdict; records deliveries.
class RecordingSink : public MessageSink {
 public:
  Verdict verdict = Verdict::kAccept;
  std::vector<Delivery> deliveries;
  std::uint64_t last_txn = 0;

  RecipientVerdict check_recipient(std::string_view mailbox, const Envelope&) noexcept override {
    if (mailbox.substr(0, 6) == "reject") return RecipientVerdict::kReject;
    if (mailbox.substr(0, 4) == "busy") return RecipientVerdict::kTempFail;
    return RecipientVerdict::kAccept;
  }
  SinkAnswer on_message(const Envelope& env, const Body& body, std::uint64_t txn) noexcept override {
    last_txn = txn;
    if (verdict == Verdict::kAccept) {
      Delivery d;
      d.from = std::string(env.reverse_path);
      for (auto r : env.recipients)
        d.to.emplace_back(r);
      std::uint64_t total = 0;
      for (auto s : body.segments) {
        d.body.append(s);
        total += s.size();
      }
      if (total != body.size) d.body = "<size mismatch>";
      d.chunked = env.chunked;
      deliveries.push_back(std::move(d));
    }
    return SinkAnswer{verdict, 0, {}, {}};
  }
};

// A copy of some bytes that ends exactly where a PROT_NONE page begins, so a
// read one byte past the end faults (picohttpparser's test technique).
class GuardedCopy {
 public:
  explicit GuardedCopy(std::string_view s) {
    page_ = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    const std::size_t data_pages = (s.size() + page_ - 1) / page_ + 1;
    len_ = (data_pages + 1) * page_;
    void* m = mmap(nullptr, len_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) std::abort();
    base_ = static_cast<char*>(m);
    char* guard = base_ + data_pages * page_;
    if (mprotect(guard, page_, PROT_NONE) != 0) std::abort();
    data_ = guard - s.size();
    if (!s.empty()) std::memcpy(data_, s.data(), s.size());
    size_ = s.size();
  }
  ~GuardedCopy() { munmap(base_, len_); }
  GuardedCopy(const GuardedCopy&) = delete;
  GuardedCopy& operator=(const GuardedCopy&) = delete;
  std::string_view view() const { return {data_, size_}; }

 private:
  char* base_ = nullptr;
  char* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t len_ = 0;
  std::size_t page_ = 0;
};

// Feeds one span, draining output after each call, until the span is consumed
// or the session stops taking input (closing, or waiting for the sink).
inline std::size_t feed_all(ServerSession& s, std::string_view span, std::string& out, Time now = Time{1}) {
  std::size_t done = 0;
  while (done < span.size()) {
    const std::size_t n = s.feed(span.substr(done), now);
    out.append(s.output());
    s.consume_output(s.output().size());
    done += n;
    if (n == 0) break;
  }
  out.append(s.output());
  s.consume_output(s.output().size());
  return done;
}

}  // namespace mxdp::smtp::test
