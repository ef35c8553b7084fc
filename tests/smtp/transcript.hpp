#pragma once
// Golden transcript files (tests/smtp/transcripts/*.txt), one scenario each.
//
//   # comment                 ignored, as are blank lines
//   @ key=value               session or sink setting, before the first C: line:
//                             max_recipients, max_errors, max_message_size,
//                             max_command_line, max_text_line, sink=accept|tempfail|permfail
//   C: text                   bytes the client sends, CRLF appended
//   C< text                   bytes the client sends, nothing appended
//   S: text                   one line the server must send (CRLF implied)
//   D: from|to1,to2|body      a message the sink must receive, in order
//   = close                   the session must want to close at the end
//
// C: C< and D: text takes escapes: \r \n \t \\ \xHH.

#include <string>
#include <vector>

#include "smtp/server_session.hpp"
#include "tests/smtp/test_support.hpp"

namespace mxdp::smtp::test {

struct Transcript {
  std::string name;
  ServerConfig config;
  Verdict verdict = Verdict::kAccept;
  std::string client;  // every client byte, in order
  std::string server;  // every expected server byte, in order
  std::vector<Delivery> deliveries;
  bool expect_close = false;
};

std::string unescape(std::string_view s);
Transcript load_transcript(const std::string& path);
std::vector<std::string> transcript_files();

}  // namespace mxdp::smtp::test
