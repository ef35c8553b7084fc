#pragma once
// The admin thread behind `mxdp ctl`: a Unix stream socket that takes one
// command per line and answers each with one or more lines ending in a line
// "." (so a client knows where an answer ends). Runs on its own thread, off
// the data path: directory moves it performs publish new entries that the
// lcores pick up lock-free (routing/, hazard pointers).

#include <atomic>
#include <functional>
#include <string>
#include <string_view>
#include <thread>

namespace mxdp::cli {

class ControlServer {
 public:
  // Answers a command line; the text is sent back followed by "\n.\n".
  using CommandHandler = std::function<std::string(std::string_view line)>;

  ControlServer() = default;
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Binds the socket (replacing a stale one) and starts the thread.
  // Returns an error text, or "" on success.
  // `tick` (optional) runs on the admin thread about every 100 ms: the place
  // for admin work off the data path, such as reclaiming retired entries.
  std::string start(const std::string& path, CommandHandler handler, std::function<void()> tick = {});
  void stop();

 private:
  void serve();
  void serve_client(int fd);

  std::string path_;
  int listen_fd_ = -1;
  std::atomic<bool> stop_{false};
  CommandHandler handler_;
  std::function<void()> tick_;
  std::thread thread_;
};

// Client side: sends one command, returns the answer (without the final ".").
// Returns false and fills `answer` with the error when the server is absent.
bool control_request(const std::string& path, std::string_view command, std::string& answer);

}  // namespace mxdp::cli
