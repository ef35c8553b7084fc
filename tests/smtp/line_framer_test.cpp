// LineFramer against a reference that frames the whole stream at once: the
// same lines, bare-newline flags and over-long reports however the stream is
// cut into spans (RFC 5321 §2.3.8: only CRLF ends a line).

#include "smtp/line_framer.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace mxdp::smtp {
namespace {

struct Framed {
  std::string text;  // the line, or "<too long>"
  bool bare = false;
  bool operator==(const Framed&) const = default;
};

// The whole stream, line by line: a line ends at the first CRLF; a CR or LF
// before it is bare; a line over max_line octets (CRLF included) is too long.
std::vector<Framed> reference(const std::string& in, std::size_t max_line) {
  std::vector<Framed> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i + 1 < in.size(); ++i) {
    if (in[i] != '\r' || in[i + 1] != '\n') continue;
    const std::string line = in.substr(start, i - start);
    if (line.size() + 2 > max_line) {
      out.push_back({"<too long>", false});
    } else {
      out.push_back({line, line.find_first_of("\r\n") != std::string::npos});
    }
    start = i + 2;
    ++i;
  }
  return out;
}

std::vector<Framed> framed(const std::string& in, const std::vector<std::size_t>& cuts,
                           std::size_t max_line) {
  LineFramer f(max_line);
  std::vector<Framed> out;
  std::size_t from = 0;
  for (std::size_t k = 0; k <= cuts.size(); ++k) {
    const std::size_t to = k < cuts.size() ? cuts[k] : in.size();
    std::size_t pos = from;
    while (pos < to) {
      const auto r = f.next(in.data() + pos, to - pos);
      pos += r.consumed;
      if (r.status == LineFramer::Status::kLine) out.push_back({std::string(r.line), r.bare_newline});
      if (r.status == LineFramer::Status::kTooLong) out.push_back({"<too long>", false});
    }
    from = to;
  }
  return out;
}

TEST(LineFramerTest, MatchesTheWholeStreamHoweverItIsCut) {
  std::mt19937 rng(5);
  const char alphabet[] = {'a', 'b', ' ', 'M', ':', '<', '>', '\r', '\n', 'x', 'y', 'z'};
  for (int iter = 0; iter < 4000; ++iter) {
    std::string in;
    const std::size_t len = rng() % 400;
    const bool clean = iter % 2 == 0;  // half the inputs end every line with CRLF only
    for (std::size_t i = 0; i < len; ++i) {
      const char c = alphabet[rng() % sizeof(alphabet)];
      in += clean && (c == '\r' || c == '\n') ? std::string("\r\n") : std::string(1, c);
    }
    std::vector<std::size_t> cuts;
    for (std::size_t at = rng() % 64; at < in.size(); at += 1 + rng() % 64)
      cuts.push_back(at);
    const std::size_t max_line = 4 + rng() % 60;
    ASSERT_EQ(framed(in, cuts, max_line), reference(in, max_line)) << "iteration " << iter;
  }
}

TEST(LineFramerTest, ALineInOneSpanIsAViewOfIt) {
  LineFramer f(512);
  const std::string in = "MAIL FROM:<a@example.org>\r\nRCPT";
  const auto r = f.next(in.data(), in.size());
  ASSERT_EQ(r.status, LineFramer::Status::kLine);
  EXPECT_EQ(r.consumed, 27u);
  EXPECT_EQ(r.line.data(), in.data());
  EXPECT_EQ(r.line, "MAIL FROM:<a@example.org>");
  EXPECT_FALSE(r.bare_newline);
}

TEST(LineFramerTest, BareNewlinesStayInsideTheLine) {
  LineFramer f(512);
  const std::string in = "RSET\nMAIL FROM:<a@b>\r\n";
  const auto r = f.next(in.data(), in.size());
  ASSERT_EQ(r.status, LineFramer::Status::kLine);
  EXPECT_EQ(r.line, "RSET\nMAIL FROM:<a@b>");
  EXPECT_TRUE(r.bare_newline);
}

TEST(LineFramerTest, ALineOfExactlyTheLimitIsTakenAndOneMoreIsNot) {
  LineFramer f(8);
  const std::string ok = "NOOP12\r\n";      // 8 octets with the CRLF
  const std::string long_ = "NOOP123\r\n";  // 9
  auto r = f.next(ok.data(), ok.size());
  EXPECT_EQ(r.status, LineFramer::Status::kLine);
  r = f.next(long_.data(), long_.size());
  EXPECT_EQ(r.status, LineFramer::Status::kTooLong);
  EXPECT_EQ(r.consumed, long_.size());
}

}  // namespace
}  // namespace mxdp::smtp
