// End-of-data scanning of large message bodies: DataScanner's 64-byte block
// path against its own byte-at-a-time path and a plain byte loop that only
// looks for <CR><LF>.<CR><LF> (no bare-newline, dot or line-length checks).
// Body: 78-octet text lines, every 50th line starting with a dot, then the end
// mark. Arg: span size handed to each scan call (1448: one TCP segment).
// BM_HotBody: a prefix of the same body, hot, in either mode.
//
//   build/release/bench/smtp_data_scanner_bench --benchmark_repetitions=5
//     --benchmark_report_aggregates_only=true

#include <benchmark/benchmark.h>

#include <string>

#include "smtp/data_scanner.hpp"

namespace {

using mxdp::smtp::DataScanner;

const std::string& body() {
  static const std::string b = [] {
    std::string s;
    std::size_t line = 0;
    while (s.size() < (16u << 20)) {
      std::string text(76, static_cast<char>('a' + line % 26));
      if (line % 50 == 7) text[0] = '.';
      s += text + "\r\n";
      ++line;
    }
    s += ".\r\n";
    return s;
  }();
  return b;
}

template <bool kBlocks>
void BM_DataScanner(benchmark::State& state) {
  const std::string& b = body();
  const auto span = static_cast<std::size_t>(state.range(0));
  DataScanner s(1000);
  for (auto _ : state) {
    s.reset(DataScanner::Mode::kData);
    std::size_t pos = 0;
    bool ended = false;
    while (pos < b.size() && !ended) {
      const std::size_t end = std::min(b.size(), (pos / span + 1) * span);
      std::size_t off = pos;
      while (off < end) {
        const auto r =
            kBlocks ? s.scan(b.data() + off, end - off) : s.scan_bytewise(b.data() + off, end - off);
        if (r.event == DataScanner::Event::kNeedMore) {
          off = end;
          break;
        }
        off += r.event == DataScanner::Event::kDot ? r.offset + 1 : r.offset;
        if (r.event == DataScanner::Event::kEnd) {
          ended = true;
          break;
        }
      }
      pos = off;
    }
    if (!ended || s.bare_newline()) state.SkipWithError("scan did not find the end");
    benchmark::DoNotOptimize(pos);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * b.size()));
}

// The baseline: a plain loop over bytes for the end mark, nothing else.
void BM_PlainByteLoop(benchmark::State& state) {
  const std::string& b = body();
  for (auto _ : state) {
    int matched = 2;  // the DATA line's CRLF counts
    std::size_t i = 0;
    static constexpr char kMark[] = "\r\n.\r\n";
    for (; i < b.size(); ++i) {
      const char c = b[i];
      if (c == kMark[matched]) {
        if (++matched == 5) break;
      } else {
        matched = c == '\r' ? 1 : 0;
      }
    }
    benchmark::DoNotOptimize(i);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * b.size()));
}

// Bodies of Arg octets scanned whole and hot in cache (1024: the bench's
// 1 KiB message, with one dot-stuffed line), as DATA or BDAT (RFC 3030: the
// same checks but no dots) content.
template <DataScanner::Mode kMode>
void BM_HotBody(benchmark::State& state) {
  const std::string b = body().substr(0, static_cast<std::size_t>(state.range(0)));
  DataScanner s(1000);
  for (auto _ : state) {
    s.reset(kMode);
    std::size_t off = 0;
    for (;;) {
      const auto r = s.scan(b.data() + off, b.size() - off);
      if (r.event == DataScanner::Event::kNeedMore) break;
      off += r.offset + 1;  // past a line-start dot
    }
    if (s.bare_newline()) state.SkipWithError("bad scan");
    benchmark::DoNotOptimize(off);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * b.size()));
}

BENCHMARK(BM_PlainByteLoop);
BENCHMARK_TEMPLATE(BM_HotBody, DataScanner::Mode::kData)->Arg(1024)->Arg(1 << 16);
BENCHMARK_TEMPLATE(BM_HotBody, DataScanner::Mode::kChunk)->Arg(1024)->Arg(1 << 16);
BENCHMARK_TEMPLATE(BM_DataScanner, false)->Arg(1448)->Arg(1 << 24);
BENCHMARK_TEMPLATE(BM_DataScanner, true)->Arg(1448)->Arg(1 << 24);

}  // namespace
