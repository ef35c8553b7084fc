// Replays every golden transcript (tests/smtp/transcripts/*.txt) against the
// server session: whole, split in two at every byte (each half against a guard
// page), one byte at a time, and in random spans. The server's bytes and the
// delivered messages must be identical in every case.

#include <gtest/gtest.h>

#include <memory>
#include <random>

#include "tests/smtp/transcript.hpp"

namespace mxdp::smtp::test {
namespace {

struct Outcome {
  std::string server;
  std::vector<Delivery> deliveries;
  bool closed = false;
};

// Feeds the client bytes in the given spans (each span a separate buffer that
// ends at a guard page when guarded is set).
Outcome run(const Transcript& t, const std::vector<std::size_t>& cuts, bool guarded) {
  RecordingSink sink;
  sink.verdict = t.verdict;
  ServerSession s(t.config, sink);
  Outcome o;
  s.start(Time{1});
  o.server.append(s.output());
  s.consume_output(s.output().size());
  std::vector<std::unique_ptr<GuardedCopy>> keep;  // body segments point into the spans
  std::size_t from = 0;
  for (std::size_t i = 0; i <= cuts.size(); ++i) {
    const std::size_t to = i < cuts.size() ? cuts[i] : t.client.size();
    std::string_view span = std::string_view(t.client).substr(from, to - from);
    if (guarded) {
      keep.push_back(std::make_unique<GuardedCopy>(span));
      span = keep.back()->view();
    }
    feed_all(s, span, o.server);
    from = to;
  }
  o.deliveries = sink.deliveries;
  o.closed = s.wants_close();
  return o;
}

void expect_matches(const Transcript& t, const Outcome& o, const std::string& how) {
  SCOPED_TRACE(t.name + " (" + how + ")");
  EXPECT_EQ(o.server, t.server);
  ASSERT_EQ(o.deliveries.size(), t.deliveries.size());
  for (std::size_t i = 0; i < o.deliveries.size(); ++i) {
    EXPECT_EQ(o.deliveries[i].from, t.deliveries[i].from);
    EXPECT_EQ(o.deliveries[i].to, t.deliveries[i].to);
    EXPECT_EQ(o.deliveries[i].body, t.deliveries[i].body);
  }
  EXPECT_EQ(o.closed, t.expect_close);
}

class TranscriptTest : public ::testing::TestWithParam<std::string> {};

TEST_P(TranscriptTest, Whole) {
  const Transcript t = load_transcript(GetParam());
  expect_matches(t, run(t, {}, true), "whole");
}

TEST_P(TranscriptTest, SplitAtEveryByte) {
  const Transcript t = load_transcript(GetParam());
  for (std::size_t k = 1; k < t.client.size(); ++k) {
    expect_matches(t, run(t, {k}, true), "split at " + std::to_string(k));
    if (HasFailure()) return;
  }
}

TEST_P(TranscriptTest, OneByteAtATime) {
  const Transcript t = load_transcript(GetParam());
  std::vector<std::size_t> cuts;
  for (std::size_t k = 1; k < t.client.size(); ++k)
    cuts.push_back(k);
  expect_matches(t, run(t, cuts, false), "bytewise");
}

TEST_P(TranscriptTest, RandomSpans) {
  const Transcript t = load_transcript(GetParam());
  for (unsigned seed = 1; seed <= 20; ++seed) {
    std::mt19937 rng(seed);
    std::vector<std::size_t> cuts;
    std::size_t at = 0;
    while (true) {
      at += 1 + rng() % 97;
      if (at >= t.client.size()) break;
      cuts.push_back(at);
    }
    expect_matches(t, run(t, cuts, seed % 2 == 0), "random seed " + std::to_string(seed));
    if (HasFailure()) return;
  }
}

std::string test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = load_transcript(info.param).name;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Transcripts, TranscriptTest, ::testing::ValuesIn(transcript_files()), test_name);

}  // namespace
}  // namespace mxdp::smtp::test
