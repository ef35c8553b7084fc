// The 64-byte block path of DataScanner against its byte-at-a-time reference on
// random content rich in CR, LF and dots, split into random spans.

#include "smtp/data_scanner.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace mxdp::smtp {
namespace {

struct Trace {
  std::vector<std::pair<int, std::size_t>> events;  // (event, absolute offset)
  bool bare = false;
  bool too_long = false;
};

template <typename Scan>
Trace run(const std::string& in, const std::vector<std::size_t>& cuts, DataScanner::Mode mode,
          std::size_t max_line, Scan scan) {
  DataScanner s(max_line);
  s.reset(mode);
  Trace t;
  std::size_t from = 0;
  for (std::size_t i = 0; i <= cuts.size(); ++i) {
    const std::size_t to = i < cuts.size() ? cuts[i] : in.size();
    std::size_t off = from;
    while (off < to) {
      const auto r = scan(s, in.data() + off, to - off);
      if (r.event == DataScanner::Event::kNeedMore) break;
      t.events.emplace_back(static_cast<int>(r.event), off + r.offset);
      off += r.event == DataScanner::Event::kDot ? r.offset + 1 : r.offset;
      if (r.event == DataScanner::Event::kEnd) {
        s.reset(mode);  // next message
      }
    }
    from = to;
  }
  t.bare = s.bare_newline();
  t.too_long = s.line_too_long();
  return t;
}

TEST(DataScannerTest, BlockPathMatchesBytewise) {
  std::mt19937 rng(7);
  const char alphabet[] = {'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', '.', '\r', '\n', 'b'};
  for (int iter = 0; iter < 3000; ++iter) {
    std::string in;
    const std::size_t len = rng() % 700;
    const bool clean = iter % 2 == 0;  // half the inputs only have proper CRLF
    for (std::size_t i = 0; i < len; ++i) {
      const char c = alphabet[rng() % sizeof(alphabet)];
      if (clean && (c == '\r' || c == '\n')) {
        in += "\r\n";
      } else if (clean && iter % 4 == 0 && rng() % 50 == 0) {
        in += "\r\n.\r\n";
      } else {
        in += c;
      }
    }
    std::vector<std::size_t> cuts;
    for (std::size_t at = rng() % 200; at < in.size(); at += 1 + rng() % 200)
      cuts.push_back(at);
    for (auto mode : {DataScanner::Mode::kData, DataScanner::Mode::kChunk}) {
      const std::size_t max_line = 64 + rng() % 100;
      const Trace fast = run(in, cuts, mode, max_line,
                             [](DataScanner& s, const char* p, std::size_t n) { return s.scan(p, n); });
      const Trace slow = run(in, cuts, mode, max_line, [](DataScanner& s, const char* p, std::size_t n) {
        return s.scan_bytewise(p, n);
      });
      ASSERT_EQ(fast.events, slow.events) << "iteration " << iter;
      ASSERT_EQ(fast.bare, slow.bare) << "iteration " << iter;
      ASSERT_EQ(fast.too_long, slow.too_long) << "iteration " << iter;
    }
  }
}

TEST(DataScannerTest, EndMarkOnlyAfterCrlf) {
  auto ends = [](const std::string& s) {
    DataScanner d;
    d.reset(DataScanner::Mode::kData);
    std::size_t off = 0;
    while (off < s.size()) {
      const auto r = d.scan(s.data() + off, s.size() - off);
      if (r.event == DataScanner::Event::kEnd) return true;
      if (r.event == DataScanner::Event::kNeedMore) return false;
      off += r.offset + 1;
    }
    return false;
  };
  EXPECT_TRUE(ends(".\r\n"));
  EXPECT_TRUE(ends("x\r\n.\r\n"));
  std::string big(5000, 'x');
  EXPECT_TRUE(ends(big + "\r\n.\r\n"));
  for (const char* s :
       {"x\n.\n", "x\r.\r", "x\n.\r\n", "x\r\n.\n", "x\r.\r\n", "x\r\n.\r", "x\r\n. \r\n", "x\r\n..\r\n"}) {
    EXPECT_FALSE(ends(std::string(s) + "tail")) << s;
  }
}

}  // namespace
}  // namespace mxdp::smtp

// The SSE2 and AVX2 builds of the block loop agree (the scanner uses only one
// of them on a given CPU, so compare them directly).
#include "smtp/data_scanner_blocks.hpp"

namespace mxdp::smtp {
namespace {

TEST(DataScannerTest, Sse2AndAvx2BlocksAgree) {
  if (!detail::cpu_has_avx2()) GTEST_SKIP() << "no AVX2 on this CPU";
  std::mt19937 rng(11);
  const char alphabet[] = {'a', 'a', 'a', 'a', '.', '\r', '\n', '\r', '\n'};
  for (int iter = 0; iter < 5000; ++iter) {
    std::string in(64 * (1 + rng() % 8) + rng() % 64, 'a');
    for (char& ch : in)
      ch = alphabet[rng() % sizeof(alphabet)];
    detail::BlockCarry a{rng() % 2, rng() % 2, rng() % 100, 64 + rng() % 100, iter % 2 == 0, false, false};
    if (a.cr_in && a.start_in) a.start_in = 0;
    detail::BlockCarry b = a;
    const std::size_t na = detail::scan_blocks_sse2(in.data(), in.size(), a);
    const std::size_t nb = detail::scan_blocks_avx2(in.data(), in.size(), b);
    ASSERT_EQ(na, nb) << iter;
    ASSERT_EQ(a.cr_in, b.cr_in);
    ASSERT_EQ(a.start_in, b.start_in);
    ASSERT_EQ(a.line_len, b.line_len);
    ASSERT_EQ(a.bare, b.bare);
    ASSERT_EQ(a.too_long, b.too_long);
  }
}

}  // namespace
}  // namespace mxdp::smtp
