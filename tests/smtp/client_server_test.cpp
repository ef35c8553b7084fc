// The client engine against the server engine in memory: thousands of
// pipelined transactions over DATA and BDAT, with refused recipients, refused
// and deferred messages, dot-stuffing and bare newlines, the bytes moved in
// random pieces, input released as soon as the server's retain_from() allows.

#include <gtest/gtest.h>

#include <cstdlib>
#include <deque>
#include <memory>
#include <random>
#include <string>

#include "smtp/client_session.hpp"
#include "smtp/server_session.hpp"

namespace mxdp::smtp {
namespace {

struct Received {
  std::string from;
  std::vector<std::string> to;
  std::string body;
};

// Verdicts by body content: "TEMPFAIL" -> 451, "PERMFAIL" -> 554, else 250.
// With defer set, every third message is answered later (kPending), and its
// body is read only then: the transport must still hold the input it points
// into (ASan reports it otherwise).
class Sink : public MessageSink {
 public:
  bool defer = false;
  std::vector<Received> received;
  std::uint64_t pending_txn = 0;
  std::uint64_t deferred = 0;

  RecipientVerdict check_recipient(std::string_view mailbox, const Envelope&) noexcept override {
    if (mailbox.substr(0, 6) == "reject") return RecipientVerdict::kReject;
    if (mailbox.substr(0, 4) == "busy") return RecipientVerdict::kTempFail;
    return RecipientVerdict::kAccept;
  }
  SinkAnswer on_message(const Envelope& env, const Body& body, std::uint64_t txn) noexcept override {
    saved_from_ = std::string(env.reverse_path);
    saved_to_.assign(env.recipients.begin(), env.recipients.end());
    saved_to_copy_.clear();
    for (auto t : env.recipients)
      saved_to_copy_.emplace_back(t);
    saved_segments_.assign(body.segments.begin(), body.segments.end());
    if (defer && ++count_ % 3 == 0) {
      pending_txn = txn;
      ++deferred;
      return {Verdict::kPending, 0, {}, {}};
    }
    return answer();
  }
  // Decides the saved message (now, or later for a deferred one).
  SinkAnswer answer() {
    std::string text;
    for (auto s : saved_segments_)
      text.append(s);
    if (text.find("TEMPFAIL") != std::string::npos) return {Verdict::kTempFail, 0, {}, {}};
    if (text.find("PERMFAIL") != std::string::npos) return {Verdict::kPermFail, 554, "5.6.0", "no thanks"};
    Received r;
    r.from = saved_from_;
    r.to = saved_to_copy_;
    r.body = std::move(text);
    received.push_back(std::move(r));
    return {Verdict::kAccept, 0, {}, "queued as X"};
  }

 private:
  std::uint64_t count_ = 0;
  std::string saved_from_;
  std::vector<std::string_view> saved_to_;
  std::vector<std::string> saved_to_copy_;
  std::vector<std::string_view> saved_segments_;
};

class Observer : public ClientObserver {
 public:
  std::vector<MessageResult> results;
  std::vector<std::vector<std::uint16_t>> codes;
  std::vector<std::string> texts;
  void on_result(const MessageResult& r) noexcept override {
    results.push_back(r);
    codes.emplace_back(r.recipient_codes.begin(), r.recipient_codes.end());
    texts.emplace_back(r.text);
  }
};

struct Message {
  std::string from;
  std::vector<std::string> to_storage;
  std::vector<std::string_view> to;
  std::string body;
  std::vector<std::string_view> body_parts;
  Outcome expect = Outcome::kAccepted;
  std::size_t expect_accepted = 0;
  std::string expect_body;       // as the server must deliver it
  std::string expect_bdat_body;  // when it differs over BDAT
  bool mail_fails = false;       // the server refuses MAIL (SIZE)
};

// Builds message i of a mixed workload.
Message make_message(std::size_t i, std::mt19937& rng) {
  Message m;
  m.from = i % 17 == 0 ? "" : "sender" + std::to_string(i) + "@example.org";
  const std::size_t nrcpt = 1 + rng() % 4;
  for (std::size_t k = 0; k < nrcpt; ++k) {
    std::string who = "user" + std::to_string(k);
    if (i % 5 == 1 && k == 0) who = "reject" + who;  // some recipients fail
    if (i % 23 == 2) who = "reject" + who;           // every recipient fails
    if (i % 29 == 3 && k == 0) who = "busy" + who;
    m.to_storage.push_back(who + "@example.com");
    if (who.rfind("reject", 0) != 0 && who.rfind("busy", 0) != 0) ++m.expect_accepted;
  }
  for (auto& s : m.to_storage)
    m.to.emplace_back(s);
  m.body = "Subject: message " + std::to_string(i) + "\r\n\r\n";
  m.expect_body = m.body;
  const std::size_t lines = rng() % 40;
  for (std::size_t l = 0; l < lines; ++l) {
    std::string line(rng() % 90, 'a' + static_cast<char>(l % 26));
    if (l % 7 == 3) line = "." + line;  // dot-stuffing needed
    if (l % 11 == 5) line = ".";
    m.body += line + "\r\n";
    m.expect_body += line + "\r\n";
  }
  if (i % 13 == 4) {
    m.body += "bare\nnewline";  // the client sends it canonical; no final CRLF either
    m.expect_body += "bare\r\nnewline\r\n";
    m.expect_bdat_body = m.expect_body.substr(0, m.expect_body.size() - 2);  // BDAT adds no final CRLF
  }
  if (i % 19 == 6) {
    m.body += "TEMPFAIL\r\n";
    m.expect = Outcome::kTempFailed;
  }
  if (i % 31 == 7 && i % 19 != 6) {
    m.body += "PERMFAIL\r\n";
    m.expect = Outcome::kPermFailed;
  }
  const bool too_big = i % 37 == 9 && m.expect == Outcome::kAccepted;
  if (too_big) {
    // Over the server's SIZE: MAIL fails with 552, the pipelined RCPTs and
    // DATA/BDAT get 503, and the report carries the 552.
    m.body += std::string(10000, 'z') + "\r\n";
    m.expect = Outcome::kPermFailed;
    m.expect_accepted = 0;
    m.mail_fails = true;
  }
  // With no recipient taken, the first refusal decides (busy is always the first).
  if (m.expect_accepted == 0 && !too_big)
    m.expect = i % 29 == 3 ? Outcome::kTempFailed : Outcome::kPermFailed;
  // Split the body at a random point so it arrives as two segments.
  const std::size_t cut = m.body.empty() ? 0 : rng() % m.body.size();
  m.body_parts = {std::string_view(m.body).substr(0, cut), std::string_view(m.body).substr(cut)};
  return m;
}

struct Params {
  bool chunking;
  bool pipelining;
  std::size_t messages;
  bool defer = false;
};

void run_workload(const Params& p) {
  std::mt19937 rng(42);
  std::vector<Message> msgs;
  msgs.reserve(p.messages);
  for (std::size_t i = 0; i < p.messages; ++i)
    msgs.push_back(make_message(i, rng));

  Sink sink;
  sink.defer = p.defer;
  ServerConfig sc;
  sc.offer_chunking = p.chunking;
  sc.offer_pipelining = p.pipelining;
  sc.max_message_size = 8192;
  sc.max_errors = 1000000;  // refused recipients count as errors; this client is legitimate
  ServerSession server(sc, sink);
  Observer obs;
  ClientConfig cc;
  cc.max_in_flight = 8;
  cc.max_queued = 64;
  ClientSession client(cc, obs);

  server.start(Time{0});
  std::size_t next = 0;
  std::deque<std::pair<std::uint64_t, std::unique_ptr<std::string>>> held;  // fed spans by sequence
  bool quit_sent = false;
  std::size_t wire_ready = 0;
  std::string unread;
  for (int round = 0; round < 10000000 && !(server.wants_close() && server.output().empty()); ++round) {
    while (next < msgs.size()) {
      OutgoingMessage om;
      om.reverse_path = msgs[next].from;
      om.recipients = msgs[next].to;
      om.body = msgs[next].body_parts;
      // Bodies already in wire form take the client's copy-as-is path; the
      // server must receive exactly the same content either way.
      om.wire_ready = is_wire_ready(om.body);
      wire_ready += om.wire_ready ? 1 : 0;
      om.cookie = next;
      if (!client.submit(om)) break;
      ++next;
    }
    if (next == msgs.size() && !quit_sent) {
      client.quit();
      quit_sent = true;
    }
    bool moved = false;
    if (!server.output().empty()) {
      const std::size_t n = std::min<std::size_t>(server.output().size(), 1 + rng() % 3000);
      client.feed(server.output().substr(0, n));
      server.consume_output(n);
      moved = true;
    }
    if (server.awaiting_sink() && rng() % 2 == 0) {
      EXPECT_TRUE(server.complete(sink.pending_txn, sink.answer()));
      moved = true;
    }
    if ((!client.output().empty() || !unread.empty()) && server.wants_input()) {
      // The transport's receive buffer: what the server left unread last time,
      // then new bytes. Each feed is a fresh span the server may point into.
      const std::size_t n = std::min<std::size_t>(client.output().size(), 1 + rng() % 5000);
      auto span = std::make_unique<std::string>(unread);
      span->append(client.output().substr(0, n));
      client.consume_output(n);
      const std::uint64_t seq = server.feed_seq();
      const std::size_t used = server.feed(*span, Time{1});
      unread = span->substr(used);
      held.emplace_back(seq, std::move(span));
      moved = true;
    } else if (server.awaiting_sink()) {
      moved = true;  // the sink answers in a later round
    }
    // Release what the server no longer references (a DPDK transport frees mbufs here).
    while (!held.empty() && held.front().first < server.retain_from())
      held.pop_front();
    if (!moved) break;
  }
  ASSERT_EQ(obs.results.size(), msgs.size());
  std::size_t delivered = 0;
  for (std::size_t i = 0; i < msgs.size(); ++i) {
    SCOPED_TRACE("message " + std::to_string(i));
    const MessageResult& r = obs.results[i];
    ASSERT_EQ(r.cookie, i);
    EXPECT_EQ(r.outcome, msgs[i].expect) << r.code << " " << obs.texts[i];
    EXPECT_EQ(r.accepted_recipients, msgs[i].expect_accepted);
    ASSERT_EQ(obs.codes[i].size(), msgs[i].to.size());
    for (std::size_t k = 0; k < msgs[i].to.size(); ++k) {
      const std::uint16_t want = msgs[i].mail_fails                      ? 503
                                 : msgs[i].to[k].rfind("reject", 0) == 0 ? 550
                                 : msgs[i].to[k].rfind("busy", 0) == 0   ? 450
                                                                         : 250;
      EXPECT_EQ(obs.codes[i][k], want);
    }
    if (msgs[i].mail_fails) {
      EXPECT_EQ(r.code, 552);
      EXPECT_EQ(std::string(obs.texts[i]), "Message size exceeds fixed limit");
    } else if (msgs[i].expect == Outcome::kPermFailed && msgs[i].expect_accepted > 0) {
      EXPECT_EQ(r.code, 554);
      EXPECT_EQ(obs.texts[i], "no thanks");
    }
    if (msgs[i].expect == Outcome::kAccepted) {
      EXPECT_EQ(obs.texts[i], "queued as X");
      ASSERT_LT(delivered, sink.received.size());
      const Received& got = sink.received[delivered++];
      EXPECT_EQ(got.from, msgs[i].from);
      const bool bdat = p.chunking && !msgs[i].expect_bdat_body.empty();
      EXPECT_EQ(got.body, bdat ? msgs[i].expect_bdat_body : msgs[i].expect_body);
      EXPECT_EQ(got.to.size(), msgs[i].expect_accepted);
    }
    if (::testing::Test::HasFailure()) return;
  }
  EXPECT_EQ(delivered, sink.received.size());
  EXPECT_GT(wire_ready, 0u);
  EXPECT_LT(wire_ready, p.messages);
  if (p.defer) {
    EXPECT_GT(sink.deferred, p.messages / 5);
  }
  EXPECT_TRUE(client.wants_close());
  EXPECT_TRUE(server.wants_close());
}

// MXDP_SMTP_STRESS_MESSAGES scales the pipelined runs (the "long" ctest entry).
std::size_t stress_messages() {
  const char* env = std::getenv("MXDP_SMTP_STRESS_MESSAGES");
  return env != nullptr ? std::strtoul(env, nullptr, 10) : 3000;
}

TEST(ClientSessionTest, WireReadyBodies) {
  auto ready = [](std::vector<std::string_view> parts) { return is_wire_ready(parts); };
  EXPECT_TRUE(ready({"Subject: x\r\n\r\nhello\r\n"}));
  EXPECT_TRUE(ready({"a\r", "\nb.\r\n", "c\r\n"}));  // CRLF across segments, a dot inside a line
  EXPECT_FALSE(ready({}));
  EXPECT_FALSE(ready({""}));
  EXPECT_FALSE(ready({"hello"}));           // no final CRLF
  EXPECT_FALSE(ready({"a\nb\r\n"}));        // bare LF
  EXPECT_FALSE(ready({"a\rb\r\n"}));        // bare CR
  EXPECT_FALSE(ready({"a\r\n\r"}));         // ends in a bare CR
  EXPECT_FALSE(ready({".a\r\n"}));          // the first line opens with a dot
  EXPECT_FALSE(ready({"a\r\n", ".\r\n"}));  // a later line does, in the next segment
  EXPECT_FALSE(ready({"a\r", "\n.b\r\n"}));
}

TEST(ClientServerTest, PipelinedData) {
  run_workload({false, true, stress_messages()});
}
TEST(ClientServerTest, PipelinedBdat) {
  run_workload({true, true, stress_messages()});
}
TEST(ClientServerTest, PipelinedDataDeferredAnswers) {
  run_workload({false, true, 2000, true});
}
TEST(ClientServerTest, PipelinedBdatDeferredAnswers) {
  run_workload({true, true, 2000, true});
}
TEST(ClientServerTest, LockstepData) {
  run_workload({false, false, 500});
}
TEST(ClientServerTest, LockstepBdat) {
  run_workload({true, false, 500});
}

TEST(ClientServerTest, EhloCapabilities) {
  Sink sink;
  ServerSession server(ServerConfig{}, sink);
  Observer obs;
  ClientSession client(ClientConfig{}, obs);
  server.start(Time{0});
  for (int i = 0; i < 4; ++i) {
    client.feed(server.output());
    server.consume_output(server.output().size());
    server.feed(client.output(), Time{0});
    client.consume_output(client.output().size());
  }
  ASSERT_TRUE(client.ready());
  const Capabilities& c = client.capabilities();
  EXPECT_TRUE(c.esmtp && c.pipelining && c.chunking && c.eight_bit_mime && c.smtputf8 &&
              c.enhanced_status_codes);
  EXPECT_EQ(c.max_size, ServerConfig{}.max_message_size);
}

// A server that refuses EHLO gets HELO, and a greeting other than 220 fails
// every queued message.
TEST(ClientServerTest, HeloFallbackAndBadGreeting) {
  Observer obs;
  ClientSession client(ClientConfig{}, obs);
  client.feed("220 old.example SMTP\r\n");
  EXPECT_EQ(client.output(), "EHLO mxdp-client.localdomain\r\n");
  client.consume_output(client.output().size());
  client.feed("500 5.5.2 what?\r\n");
  EXPECT_EQ(client.output(), "HELO mxdp-client.localdomain\r\n");
  client.consume_output(client.output().size());
  client.feed("250 old.example\r\n");
  EXPECT_TRUE(client.ready());
  EXPECT_FALSE(client.capabilities().pipelining);

  Observer obs2;
  ClientSession refused(ClientConfig{}, obs2);
  const std::string_view rcpt[] = {"a@b.c"};
  const std::string_view body[] = {"x\r\n"};
  OutgoingMessage m;
  m.recipients = rcpt;
  m.body = body;
  ASSERT_TRUE(refused.submit(m));
  refused.feed("554 5.3.2 go away\r\n");
  ASSERT_EQ(obs2.results.size(), 1u);
  EXPECT_EQ(obs2.results[0].outcome, Outcome::kPermFailed);
  EXPECT_EQ(obs2.texts[0], "go away");
  EXPECT_EQ(refused.output(), "QUIT\r\n");
}

TEST(ReplyParserTest, LinesAndErrors) {
  ReplyParser p;
  const std::string in = "250-a.example\r\n250-SIZE 5\r\n250 2.0.0 Ok\r\n354\r\n";
  std::size_t pos = 0;
  std::vector<ReplyLine> lines;
  std::vector<std::string> texts;
  while (pos < in.size()) {
    const auto r = p.next(in.data() + pos, in.size() - pos);
    pos += r.consumed;
    ASSERT_NE(r.status, ReplyParser::Status::kError);
    if (r.status == ReplyParser::Status::kLine) {
      lines.push_back(r.line);
      texts.emplace_back(r.line.text);
    }
  }
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_FALSE(lines[0].last);
  EXPECT_TRUE(lines[2].last);
  EXPECT_EQ(texts[2], "Ok");
  EXPECT_EQ(lines[3].code, 354);
  for (const char* bad : {"25 x\r\n", "250x\r\n", "650 x\r\n", "250-a\r\n251 b\r\n", "250 a\nb\r\n"}) {
    ReplyParser q;
    const std::string s = bad;
    std::size_t at = 0;
    bool error = false;
    while (at < s.size()) {
      const auto r = q.next(s.data() + at, s.size() - at);
      at += r.consumed;
      if (r.status == ReplyParser::Status::kError) error = true;
    }
    EXPECT_TRUE(error) << bad;
  }
}

}  // namespace
}  // namespace mxdp::smtp

namespace mxdp::smtp {
namespace {

TEST(ClientSessionTest, ReplyTimeoutReportsEveryMessage) {
  Observer obs;
  ClientConfig cc;
  cc.reply_timeout = std::chrono::seconds(5);
  ClientSession c(cc, obs);
  const std::string_view rcpt[] = {"a@b.c"};
  const std::string_view body[] = {"x\r\n"};
  OutgoingMessage m;
  m.recipients = rcpt;
  m.body = body;
  ASSERT_TRUE(c.submit(m));
  ASSERT_TRUE(c.submit(m));
  c.on_tick(std::chrono::seconds(1));
  EXPECT_EQ(c.deadline(), std::chrono::seconds(6));  // waiting for the greeting
  c.on_tick(std::chrono::seconds(5));
  EXPECT_FALSE(c.wants_close());
  c.on_tick(std::chrono::seconds(6));
  EXPECT_TRUE(c.wants_close());
  ASSERT_EQ(obs.results.size(), 2u);
  EXPECT_EQ(obs.results[0].outcome, Outcome::kNotSent);
}

TEST(ServerSessionShutdownTest, ShutdownAfterPendingAnswer) {
  Sink sink;
  ServerSession s(ServerConfig{}, sink);
  s.start(Time{0});
  s.consume_output(s.output().size());
  s.shutdown();
  EXPECT_TRUE(s.wants_close());
  EXPECT_EQ(s.output(), "421 4.3.2 Service shutting down, closing connection\r\n");
}

}  // namespace
}  // namespace mxdp::smtp
