#include "tools/cli/recipe_commands.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <boost/fiber/fiber.hpp>
#include <boost/fiber/operations.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <optional>
#include <stop_token>

#include "corral/recipes/leader_election.h"
#include "corral/recipes/lock.h"
#include "corral/runtime.h"

namespace corral::cli {

namespace {

using namespace std::chrono_literals;

std::atomic<int> stop_signal{0};
extern "C" void on_stop_signal(int sig) { stop_signal = sig; }

void catch_stop_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

int usage(const char* text) {
  std::fprintf(stderr, "usage: corral-cli [-server hosts] %s\n", text);
  return 2;
}

void say(const std::string& line) {
  std::fputs((line + "\n").c_str(), stdout);
  std::fflush(stdout);
}

// A command run while the lock/leadership is held.
class Child {
 public:
  // Starts argv with `env_name`=`env_value` added; false if it could not.
  bool start(const std::vector<std::string>& argv, const std::string& env_name, const std::string& env_value) {
    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
    env_strings.push_back(env_name + "=" + env_value);
    std::vector<char*> args, env;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    for (auto& e : env_strings) env.push_back(e.data());
    env.push_back(nullptr);
    const int rc = posix_spawnp(&pid_, args[0], nullptr, nullptr, args.data(), env.data());
    if (rc != 0) {
      std::fprintf(stderr, "corral-cli: cannot run %s: %s\n", argv[0].c_str(), std::strerror(rc));
      pid_ = -1;
      return false;
    }
    return true;
  }
  // Its exit status as a shell reports it, once it has ended.
  std::optional<int> poll() {
    int status = 0;
    if (pid_ <= 0 || waitpid(pid_, &status, WNOHANG) != pid_) return std::nullopt;
    pid_ = -1;
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 1;
  }
  void terminate() {
    if (pid_ > 0) kill(pid_, SIGTERM);
  }

 private:
  pid_t pid_ = -1;
};

// While held: runs the command (or waits for a signal) on this fiber, polling
// every 20 ms so the client's fibers keep the session alive. `lost()` says
// the hold ended under us.
int hold(const std::vector<std::string>& command, const std::string& env_name, const std::string& node,
         const std::function<bool()>& lost) {
  Child child;
  if (!command.empty() && !child.start(command, env_name, node)) return 1;
  while (true) {
    if (!command.empty()) {
      if (auto status = child.poll()) return *status;
    } else if (stop_signal != 0) {
      return 0;
    }
    if (lost()) {
      child.terminate();
      // Reap it (bounded: it was told to stop), then report the loss.
      for (int i = 0; i < 250 && !command.empty() && !child.poll(); ++i) boost::this_fiber::sleep_for(20ms);
      return 1;
    }
    boost::this_fiber::sleep_for(20ms);
  }
}

// Runs `wait` on this fiber. A stop signal meanwhile (the handler only sets
// a flag) makes another fiber call `interrupt`, which must end the wait. The
// wait itself has no deadline: a waiter keeps its one place in the queue.
template <class Wait, class Interrupt>
bool wait_until_stopped(Wait wait, Interrupt interrupt) {
  bool waiting = true;
  boost::fibers::fiber watcher([&] {
    while (waiting && stop_signal == 0) boost::this_fiber::sleep_for(20ms);
    if (waiting) interrupt();
  });
  const bool done = wait();
  waiting = false;
  watcher.join();
  return done;
}

// Splits "PATH [VALUE] [-- command...]".
bool split_command(const std::vector<std::string>& words, std::size_t positional, std::vector<std::string>& args,
                   std::vector<std::string>& command) {
  std::size_t i = 1;
  for (; i < words.size() && words[i] != "--"; ++i) args.push_back(words[i]);
  if (i < words.size()) {
    command.assign(words.begin() + static_cast<std::ptrdiff_t>(i) + 1, words.end());
    if (command.empty()) return false;
  }
  return args.size() == positional;
}

int run_lock(Client& c, const std::string& path, const std::vector<std::string>& command) {
  recipes::Lock lock(c, path);
  bool expired = false;
  lock.on_lost([&](SessionState s) {
    if (s == SessionState::suspended) std::fprintf(stderr, "corral-cli: connection suspended; the lock may be lost\n");
    if (s == SessionState::expired) expired = true;
  });
  std::error_code ec;
  std::stop_source stop;
  const bool held =
      wait_until_stopped([&] { return lock.acquire(recipes::Clock::time_point::max(), ec, stop.get_token()); },
                         [&] { stop.request_stop(); });
  if (!held) {
    if (ec == std::errc::operation_canceled) return 1;  // stopped while waiting; our node is gone
    std::fprintf(stderr, "corral-cli: lock %s: %s\n", path.c_str(), ec.message().c_str());
    return 1;
  }
  const std::string node = lock.our_path();
  say(node);
  const int status = hold(command, "CORRAL_LOCK_NODE", node, [&] { return expired; });
  if (expired) std::fprintf(stderr, "corral-cli: session expired: lost the lock %s\n", path.c_str());
  lock.release(ec);
  if (ec) std::fprintf(stderr, "corral-cli: unlock %s: %s\n", path.c_str(), ec.message().c_str());
  return status;
}

int run_elect(Client& c, const std::string& path, const std::string& value, const std::vector<std::string>& command) {
  recipes::LeaderLatch latch(c, path, value);
  bool lost = false;
  latch.on_change([&](recipes::LeadershipChange change, int64_t) {
    using recipes::LeadershipChange;
    if (change == LeadershipChange::suspended) {
      std::fprintf(stderr, "corral-cli: connection suspended; leadership in doubt\n");
    } else if (change == LeadershipChange::expired || change == LeadershipChange::deleted) {
      lost = true;
    }
  });
  std::error_code ec;
  const bool leader = wait_until_stopped([&] { return latch.campaign(recipes::Clock::time_point::max(), ec); },
                                         [&] {
                                           std::error_code ignored;  // errors show in the final resign below
                                           latch.resign(ignored);
                                         });
  if (!leader) {
    if (ec == std::errc::operation_canceled) return 1;  // stopped while waiting; resigned
    std::fprintf(stderr, "corral-cli: elect %s: %s\n", path.c_str(), ec.message().c_str());
    return 1;
  }
  const std::string node = latch.our_node();
  say(node);
  say(value);
  const int status = hold(command, "CORRAL_LEADER_NODE", node, [&] { return lost; });
  if (lost) std::fprintf(stderr, "corral-cli: lost the leadership of %s\n", path.c_str());
  latch.resign(ec);
  if (ec) std::fprintf(stderr, "corral-cli: resign %s: %s\n", path.c_str(), ec.message().c_str());
  return lost ? 1 : status;
}

}  // namespace

bool is_recipe_command(const std::string& name) { return name == "lock" || name == "elect"; }

int run_recipe_command(const ClientOptions& options, const std::vector<std::string>& words) {
  const bool elect = words.at(0) == "elect";
  std::vector<std::string> args, command;
  if (!split_command(words, elect ? 2 : 1, args, command)) {
    return usage(elect ? "elect PATH VALUE [-- command args...]" : "lock PATH [-- command args...]");
  }
  catch_stop_signals();
  int status = 1;
  Runtime rt;
  rt.run([&] {
    Client c(rt, options);
    std::error_code ec;
    c.connect(options.session_timeout, ec);
    if (ec) {
      std::fprintf(stderr, "corral-cli: cannot connect to %s: %s\n", options.connect_string.c_str(),
                   ec.message().c_str());
      return;
    }
    try {
      status = elect ? run_elect(c, args[0], args[1], command) : run_lock(c, args[0], command);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "corral-cli: %s\n", e.what());
      status = 1;
    }
    c.close();
  });
  return status;
}

}  // namespace corral::cli
