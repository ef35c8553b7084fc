#include "tests/smtp/transcript.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#ifndef MXDP_SMTP_TRANSCRIPTS
#error "MXDP_SMTP_TRANSCRIPTS must name the transcripts directory"
#endif

namespace mxdp::smtp::test {

std::string unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 >= s.size()) {
      out += s[i];
      continue;
    }
    const char e = s[++i];
    switch (e) {
      case 'r':
        out += '\r';
        break;
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case 'x':
        out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
        i += 2;
        break;
      default:
        out += e;
    }
  }
  return out;
}

Transcript load_transcript(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw std::runtime_error("cannot open " + path);
  Transcript t;
  t.name = std::filesystem::path(path).stem().string();
  std::string line;
  while (std::getline(f, line)) {
    if (line.empty() || line[0] == '#') continue;
    const std::string_view tag = std::string_view(line).substr(0, 3);
    const std::string rest = line.size() > 3 ? line.substr(3) : std::string();
    if (line[0] == '@') {
      const std::size_t eq = line.find('=');
      const std::string key = line.substr(2, eq - 2);
      const std::string value = line.substr(eq + 1);
      if (key == "sink") {
        t.verdict = value == "tempfail"   ? Verdict::kTempFail
                    : value == "permfail" ? Verdict::kPermFail
                                          : Verdict::kAccept;
      } else if (key == "max_recipients") {
        t.config.max_recipients = std::stoul(value);
      } else if (key == "max_errors") {
        t.config.max_errors = std::stoul(value);
      } else if (key == "max_message_size") {
        t.config.max_message_size = std::stoull(value);
      } else if (key == "max_command_line") {
        t.config.max_command_line = std::stoul(value);
      } else if (key == "max_text_line") {
        t.config.max_text_line = std::stoul(value);
      } else {
        throw std::runtime_error(path + ": unknown setting " + key);
      }
    } else if (tag == "C: ") {
      t.client += unescape(rest) + "\r\n";
    } else if (tag == "C< ") {
      t.client += unescape(rest);
    } else if (tag == "S: ") {
      t.server += rest + "\r\n";
    } else if (tag == "D: ") {
      const std::size_t a = rest.find('|');
      const std::size_t b = rest.find('|', a + 1);
      if (a == std::string::npos || b == std::string::npos) throw std::runtime_error(path + ": bad D: line");
      Delivery d;
      d.from = rest.substr(0, a);
      std::string to = rest.substr(a + 1, b - a - 1);
      std::size_t p = 0;
      while (p <= to.size() && !to.empty()) {
        const std::size_t c = std::min(to.find(',', p), to.size());
        d.to.push_back(to.substr(p, c - p));
        p = c + 1;
      }
      d.body = unescape(rest.substr(b + 1));
      t.deliveries.push_back(std::move(d));
    } else if (line == "= close") {
      t.expect_close = true;
    } else {
      throw std::runtime_error(path + ": cannot read line: " + line);
    }
  }
  return t;
}

std::vector<std::string> transcript_files() {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(MXDP_SMTP_TRANSCRIPTS)) {
    if (e.path().extension() == ".txt") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace mxdp::smtp::test
