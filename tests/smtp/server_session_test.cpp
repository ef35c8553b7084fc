// Server session behaviour the transcripts cannot show: deferred sink answers,
// input retention, backpressure, timeouts, the default limits, configuration
// errors, and no allocation per command.

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <stdexcept>
#include <string>

#include "smtp/server_session.hpp"
#include "tests/smtp/test_support.hpp"

// Counts allocations made by this thread while counting is on.
namespace {
thread_local bool g_counting = false;
thread_local std::size_t g_allocations = 0;
}  // namespace

// GCC sees the replaced operator new inlined next to free() and warns of a
// mismatch; the pair below is matched by construction.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

void* operator new(std::size_t n) {
  if (g_counting) ++g_allocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}

namespace mxdp::smtp::test {
namespace {

constexpr std::string_view kEnvelope =
    "EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n";

class DeferringSink : public MessageSink {
 public:
  std::uint64_t txn = 0;
  std::string body;
  RecipientVerdict check_recipient(std::string_view, const Envelope&) noexcept override {
    return RecipientVerdict::kAccept;
  }
  SinkAnswer on_message(const Envelope&, const Body& b, std::uint64_t t) noexcept override {
    txn = t;
    body.clear();
    for (auto s : b.segments)
      body.append(s);
    return {Verdict::kPending, 0, {}, {}};
  }
};

std::string drain(ServerSession& s) {
  std::string out(s.output());
  s.consume_output(out.size());
  return out;
}

std::string last_line(const std::string& out) {
  const std::size_t end = out.rfind("\r\n");
  const std::size_t start = out.rfind("\r\n", end - 1);
  return out.substr(start == std::string::npos ? 0 : start + 2,
                    end - (start == std::string::npos ? 0 : start + 2));
}

TEST(ServerSessionTest, DeferredAnswerHoldsPipelinedInput) {
  DeferringSink sink;
  ServerSession s(ServerConfig{}, sink);
  s.start(Time{0});
  drain(s);
  const std::string in = std::string(kEnvelope) + "hello\r\n.\r\nNOOP\r\nQUIT\r\n";
  const std::uint64_t seq = s.feed_seq();
  const std::size_t used = s.feed(in, Time{1});
  const std::string rest = in.substr(used);
  EXPECT_EQ(rest, "NOOP\r\nQUIT\r\n");  // the session stopped right after the end mark
  EXPECT_TRUE(s.awaiting_sink());
  EXPECT_FALSE(s.wants_input());
  EXPECT_LE(s.retain_from(), seq);  // the body still points into the input
  EXPECT_EQ(sink.body, "hello\r\n");
  EXPECT_EQ(last_line(drain(s)), "354 End data with <CR><LF>.<CR><LF>");
  EXPECT_FALSE(s.complete(sink.txn + 1, {Verdict::kAccept, 0, {}, {}}));
  EXPECT_EQ(s.deadline(), ServerConfig{}.total_timeout);  // the idle clock waits for us
  ASSERT_TRUE(s.complete(sink.txn, {Verdict::kPermFail, 554, "5.7.1", "spam\r\nRSET"}));
  EXPECT_EQ(s.retain_from(), s.feed_seq());
  EXPECT_TRUE(s.wants_input());
  // Text that would break the reply framing is replaced by the default.
  EXPECT_EQ(drain(s), "554 5.7.1 Error: message rejected\r\n");
  EXPECT_EQ(s.feed(rest, Time{2}), rest.size());
  EXPECT_EQ(drain(s), "250 2.0.0 Ok\r\n221 2.0.0 Bye\r\n");
  EXPECT_TRUE(s.wants_close());
}

TEST(ServerSessionTest, BodyRetainedAcrossFeedsUntilCommitted) {
  RecordingSink sink;
  ServerSession s(ServerConfig{}, sink);
  s.start(Time{0});
  std::string out;
  feed_all(s, kEnvelope, out);
  const std::uint64_t first = s.feed_seq();
  feed_all(s, "part one\r\n", out);
  feed_all(s, "part two\r\n", out);
  EXPECT_LE(s.retain_from(), first);
  feed_all(s, ".\r\n", out);
  EXPECT_EQ(s.retain_from(), s.feed_seq());
  ASSERT_EQ(sink.deliveries.size(), 1u);
  EXPECT_EQ(sink.deliveries[0].body, "part one\r\npart two\r\n");
}

TEST(ServerSessionTest, OutputBackpressure) {
  RecordingSink sink;
  ServerConfig c;
  c.output_capacity = 4096;
  ServerSession s(c, sink);
  s.start(Time{0});
  std::string in;
  for (int i = 0; i < 1000; ++i)
    in += "NOOP\r\n";
  std::size_t used = s.feed(in, Time{1});
  EXPECT_LT(used, in.size());
  EXPECT_FALSE(s.wants_input());
  std::string out = drain(s);
  while (used < in.size()) {
    used += s.feed(std::string_view(in).substr(used), Time{1});
    out += drain(s);
  }
  std::size_t replies = 0;
  for (std::size_t p = out.find("250 2.0.0 Ok\r\n"); p != std::string::npos;
       p = out.find("250 2.0.0 Ok\r\n", p + 1)) {
    ++replies;
  }
  EXPECT_EQ(replies, 1000u);
}

TEST(ServerSessionTest, IdleAndTotalTimeouts) {
  RecordingSink sink;
  ServerConfig c;
  c.idle_timeout = Time{100};
  c.total_timeout = Time{1000};
  ServerSession s(c, sink);
  s.start(Time{0});
  drain(s);
  EXPECT_EQ(s.deadline(), Time{100});
  s.on_tick(Time{99});
  EXPECT_FALSE(s.wants_close());
  s.feed("NOOP\r\n", Time{50});
  drain(s);
  EXPECT_EQ(s.deadline(), Time{150});
  s.on_tick(Time{150});
  EXPECT_TRUE(s.wants_close());
  EXPECT_EQ(drain(s), "421 4.4.2 Error: timeout exceeded\r\n");

  ServerSession t(c, sink);
  t.start(Time{0});
  for (int i = 1; i <= 10; ++i)
    t.feed("NOOP\r\n", Time{i * 99});
  EXPECT_EQ(t.deadline(), Time{1000});  // the total limit caps the idle one
  t.on_tick(Time{1000});
  EXPECT_TRUE(t.wants_close());
}

TEST(ServerSessionTest, DefaultLimitsTakeOneHundredRecipients) {
  RecordingSink sink;
  ServerSession s(ServerConfig{}, sink);
  s.start(Time{0});
  std::string in = "EHLO c\r\nMAIL FROM:<a@example.org>\r\n";
  for (int i = 0; i < 101; ++i)
    in += "RCPT TO:<u" + std::to_string(i) + "@example.org>\r\n";
  std::string out;
  feed_all(s, in, out);
  std::size_t ok = 0;
  for (std::size_t p = out.find("250 2.1.5"); p != std::string::npos; p = out.find("250 2.1.5", p + 1))
    ++ok;
  EXPECT_EQ(ok, 100u);
  EXPECT_EQ(last_line(out), "452 4.5.3 Error: too many recipients");
}

TEST(ServerSessionTest, BadConfigurationFailsLoudly) {
  RecordingSink sink;
  ServerConfig c;
  c.max_command_line = 10;
  EXPECT_THROW(ServerSession(c, sink), std::invalid_argument);
  c = ServerConfig{};
  c.hostname = "bad\r\nhost";
  EXPECT_THROW(ServerSession(c, sink), std::invalid_argument);
  c = ServerConfig{};
  c.output_capacity = 100;
  EXPECT_THROW(ServerSession(c, sink), std::invalid_argument);
}

class QuietSink : public MessageSink {
 public:
  std::uint64_t messages = 0;
  RecipientVerdict check_recipient(std::string_view, const Envelope&) noexcept override {
    return RecipientVerdict::kAccept;
  }
  SinkAnswer on_message(const Envelope&, const Body&, std::uint64_t) noexcept override {
    ++messages;
    return {};
  }
};

TEST(ServerSessionTest, NoAllocationPerCommand) {
  QuietSink sink;
  ServerSession s(ServerConfig{}, sink);
  s.start(Time{0});
  std::string txn =
      "MAIL FROM:<a@example.org> SIZE=100\r\nRCPT TO:<b@example.org>\r\nRCPT TO:<c@example.org>\r\n"
      "DATA\r\nSubject: x\r\n\r\n..dot\r\nbody line\r\n.\r\n"
      "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nBDAT 5 LAST\r\nhello"
      "NOOP\r\nRSET\r\nVRFY x\r\n";
  std::string stream = "EHLO c\r\n";
  for (int i = 0; i < 20; ++i)
    stream += txn;  // warm-up: the segment list reaches its size
  std::string out;
  feed_all(s, stream, out);
  std::string more;
  for (int i = 0; i < 200; ++i)
    more += txn;
  g_allocations = 0;
  g_counting = true;
  std::size_t used = 0;
  while (used < more.size()) {
    used += s.feed(std::string_view(more).substr(used), Time{1});
    s.consume_output(s.output().size());
  }
  g_counting = false;
  EXPECT_EQ(g_allocations, 0u);
  EXPECT_EQ(sink.messages, 440u);
}

}  // namespace
}  // namespace mxdp::smtp::test
