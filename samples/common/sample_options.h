// What every sample shares: "--name value" options, a stop signal, and
// timestamped output lines a reader (or scripts/run) can follow.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

namespace corral::samples {

class Options {
 public:
  // Every argument is "--name value" or a bare "--flag"; anything else exits 2.
  Options(int argc, char** argv, std::string_view usage);
  std::string get(const std::string& name, const std::string& fallback) const;
  long number(const std::string& name, long fallback) const;
  bool flag(const std::string& name) const { return values_.contains(name); }

 private:
  [[noreturn]] void fail(const std::string& why) const;
  std::map<std::string, std::string> values_;
  std::string usage_;
};

// Set by SIGINT/SIGTERM.
extern std::atomic<bool> stop_requested;
void install_stop_handler();

// "12:01:02.345 <name>: <text>" on stdout, flushed at once.
void say(std::string_view name, const std::string& text);

}  // namespace corral::samples
