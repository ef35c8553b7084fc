// Server session throughput on one core: a pipelined stream of 1 KiB messages
// (EHLO once, then MAIL, RCPT, DATA, body, end mark, or the same with BDAT),
// fed in spans of Arg bytes (1448: one TCP segment per feed), replies drained
// after every feed, a sink that accepts without copying.
//
//   build/release/bench/smtp_server_session_bench --benchmark_repetitions=5
//     --benchmark_report_aggregates_only=true

#include <benchmark/benchmark.h>

#include <string>

#include "smtp/server_session.hpp"

namespace {

using namespace mxdp::smtp;

constexpr int kMessages = 2000;

class NullSink : public MessageSink {
 public:
  std::uint64_t bytes = 0;
  RecipientVerdict check_recipient(std::string_view, const Envelope&) noexcept override {
    return RecipientVerdict::kAccept;
  }
  SinkAnswer on_message(const Envelope&, const Body& b, std::uint64_t) noexcept override {
    bytes += b.size;
    return {};
  }
};

std::string kib_body() {
  std::string body = "From: a@example.org\r\nTo: b@example.org\r\nSubject: load\r\n\r\n";
  while (body.size() < 1024 - 80)
    body += std::string(76, 'x') + "\r\n";
  body += std::string(1024 - body.size() - 2, 'y') + "\r\n";
  return body;  // exactly 1024 octets
}

std::string stream(bool bdat) {
  const std::string body = kib_body();
  std::string s = "EHLO load.example\r\n";
  for (int i = 0; i < kMessages; ++i) {
    s += "MAIL FROM:<sender@example.org>\r\nRCPT TO:<user@example.com>\r\n";
    if (bdat) {
      s += "BDAT " + std::to_string(body.size()) + " LAST\r\n" + body;
    } else {
      s += "DATA\r\n" + body + ".\r\n";
    }
  }
  return s + "QUIT\r\n";
}

template <bool kBdat>
void BM_ServerSession(benchmark::State& state) {
  const std::string in = stream(kBdat);
  const auto span = static_cast<std::size_t>(state.range(0));
  ServerConfig config;
  config.output_capacity = 1 << 16;
  for (auto _ : state) {
    NullSink sink;
    ServerSession s(config, sink);
    s.start(Time{0});
    std::size_t pos = 0;
    while (pos < in.size()) {
      const std::size_t n = std::min(span, in.size() - pos);
      std::size_t used = 0;
      while (used < n) {
        used += s.feed(std::string_view(in).substr(pos + used, n - used), Time{1});
        s.consume_output(s.output().size());
      }
      pos += n;
    }
    if (s.stats().messages_accepted != kMessages) state.SkipWithError("not every message was accepted");
    benchmark::DoNotOptimize(sink.bytes);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * kMessages);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * in.size()));
}

BENCHMARK_TEMPLATE(BM_ServerSession, false)->Arg(1448)->Arg(65536);
BENCHMARK_TEMPLATE(BM_ServerSession, true)->Arg(1448)->Arg(65536);

}  // namespace
