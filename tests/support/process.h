// A child process that cannot outlive its test: SIGKILLed and reaped when the
// object goes away, and (PR_SET_PDEATHSIG) killed by the kernel if the test
// process dies first. Spawn it from the thread that will outlive it (the test's
// main thread): the death signal follows the thread that forked.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace corral::test {

class Process {
 public:
  // Starts argv[0] (a path) with argv; stdout and stderr go to `output`
  // (appended). Throws if fork fails; an exec failure shows as exit status 127.
  Process(const std::vector<std::string>& argv, const std::filesystem::path& output);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  // Running (not yet exited and reaped).
  bool alive();
  // Sends `sig` if the process is still running.
  void signal(int sig);
  // Every thread of it is stopped (SIGSTOP took effect everywhere: it reads
  // and writes nothing more until SIGCONT).
  bool stopped() const;
  // SIGKILL, then reap. Idempotent.
  void kill();
  // Waits up to `timeout` for the process to exit; its wait status
  // (see WIFEXITED, WEXITSTATUS), or nullopt if it is still running.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  // The wait status once reaped.
  std::optional<int> status() const { return status_; }

 private:
  bool reap(bool block);

  pid_t pid_ = -1;
  std::optional<int> status_;
};

// "exited with 1", "killed by signal 9".
std::string describe_wait_status(int status);

}  // namespace corral::test
