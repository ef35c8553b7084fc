#include "smtp/rcpt_peek.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

namespace mxdp::smtp {
namespace {

std::vector<std::string> peek(std::string_view input, std::size_t room = 8) {
  std::array<std::string_view, 8> out;
  const std::size_t n = peek_recipients(input, std::span<std::string_view>(out.data(), room));
  return {out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n)};
}

TEST(RcptPeek, FindsTheRecipientsOfAPipelinedGroup) {
  EXPECT_EQ(peek("MAIL FROM:<s@x>\r\nRCPT TO:<a@x.example>\r\nrcpt to:<B@X.example> NOTIFY=NEVER\r\n"
                 "BDAT 12 LAST\r\nRCPT TO:<in-content@x>\r\n"),
            (std::vector<std::string>{"a@x.example", "B@X.example"}));
}

TEST(RcptPeek, StopsAtContentAtAnUnfinishedLineAndWhenFull) {
  EXPECT_EQ(peek("DATA\r\nRCPT TO:<a@x>\r\n"), std::vector<std::string>{});
  EXPECT_EQ(peek("RCPT TO:<a@x>\r\nRCPT TO:<b@x>"),
            std::vector<std::string>{"a@x"});  // b's line is not complete
  EXPECT_EQ(peek("RCPT TO:<a@x>\r\nRCPT TO:<b@x>\r\n", 1), std::vector<std::string>{"a@x"});
}

TEST(RcptPeek, SkipsWhatIsNotARecipient) {
  EXPECT_EQ(peek("RCPT TO:<>\r\nRCPT TO:<unclosed\r\nRCPT TO: <spaced@x>\r\nNOOP\r\nRCPT TO:<ok@x>\r\n"),
            std::vector<std::string>{"ok@x"});
  EXPECT_EQ(peek("RCPT TO:<c@exampl\re.>\nRCPT TO:<ok@x>\r\n"), std::vector<std::string>{"ok@x"});  // bare CR
  EXPECT_EQ(peek(""), std::vector<std::string>{});
  EXPECT_EQ(peek(std::string(10000, 'x') + "\r\nRCPT TO:<far@x>\r\n"), std::vector<std::string>{});
}

}  // namespace
}  // namespace mxdp::smtp
