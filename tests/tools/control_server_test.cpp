#include "tools/mxdp/control_server.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

namespace mxdp::cli {
namespace {

std::string temp_socket() {
  return "/tmp/mxdp-ctl-test-" + std::to_string(::getpid()) + ".sock";
}

TEST(ControlServer, AnswersEachCommand) {
  ControlServer server;
  std::string path = temp_socket();
  ASSERT_EQ(server.start(path, [](std::string_view line) { return "got " + std::string(line); }), "");
  std::string answer;
  ASSERT_TRUE(control_request(path, "move a@b shard 2", answer));
  EXPECT_EQ(answer, "got move a@b shard 2\n");
  ASSERT_TRUE(control_request(path, "counters", answer));
  EXPECT_EQ(answer, "got counters\n");
  server.stop();
  EXPECT_FALSE(control_request(path, "counters", answer));
  EXPECT_NE(answer.find("is `mxdp serve` running?"), std::string::npos);
}

}  // namespace
}  // namespace mxdp::cli
