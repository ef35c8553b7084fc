#include "tools/mxdp/serve_config.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace mxdp::cli {
namespace {

std::string write_temp(const std::string& text) {
  static int n = 0;
  std::string path =
      "/tmp/mxdp-config-test-" + std::to_string(::getpid()) + "-" + std::to_string(n++) + ".toml";
  std::ofstream(path) << text;
  return path;
}

TEST(ServeConfig, ExampleFileLoadsWithDefaults) {
  ServeConfig c;
  ASSERT_EQ(load_serve_config(MXDP_SOURCE_ROOT_STR "/docs/mxdp.example.toml", c), "");
  ServeConfig d;
  EXPECT_EQ(c.listen, d.listen);
  EXPECT_EQ(c.smtp.max_recipients, d.smtp.max_recipients);
  EXPECT_EQ(c.smtp.max_message_size, d.smtp.max_message_size);
  EXPECT_EQ(c.relay.max_attempts, d.relay.max_attempts);
}

TEST(ServeConfig, OverridesOnlyWhatIsGiven) {
  ServeConfig c;
  ASSERT_EQ(
      load_serve_config(write_temp("[serve]\nlisten = \"0.0.0.0:25\"\n[smtp]\nmax_recipients = 50\n"), c),
      "");
  EXPECT_EQ(c.listen, "0.0.0.0:25");
  EXPECT_EQ(c.smtp.max_recipients, 50u);
  EXPECT_EQ(c.smtp.max_text_line, 1000u);
}

TEST(ServeConfig, ErrorsNameTheProblem) {
  ServeConfig c;
  EXPECT_NE(load_serve_config(write_temp("[serve]\nlisen = \"x\"\n"), c).find("unknown key 'lisen'"),
            std::string::npos);
  EXPECT_NE(load_serve_config(write_temp("[smtp]\nmax_recipients = \"many\"\n"), c).find("wrong type"),
            std::string::npos);
  EXPECT_NE(load_serve_config(write_temp("[serve\n"), c).find(":1:"), std::string::npos);
  EXPECT_NE(load_serve_config("/nonexistent/mxdp.toml", c), "");
}

}  // namespace
}  // namespace mxdp::cli
