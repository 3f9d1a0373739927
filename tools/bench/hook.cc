#include "tools/bench/hook.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace corral::bench {

HookResult run_hook(const std::string& command, std::chrono::milliseconds timeout) {
  const pid_t pid = fork();
  if (pid < 0) return {false, std::string("fork: ") + std::strerror(errno)};
  if (pid == 0) {
    setpgid(0, 0);
    dup2(STDERR_FILENO, STDOUT_FILENO);
    // Nothing of ours leaks into the hook (or a server it starts): a copy of
    // a client socket would keep that connection open after we close it.
    const long max_fd = sysconf(_SC_OPEN_MAX);
    for (long fd = 3; fd < (max_fd > 0 ? max_fd : 1024); ++fd) close(static_cast<int>(fd));
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  setpgid(pid, pid);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {true, {}};
      if (WIFEXITED(status)) return {false, "hook exited with status " + std::to_string(WEXITSTATUS(status))};
      return {false, "hook killed by signal " + std::to_string(WTERMSIG(status))};
    }
    if (r < 0 && errno != EINTR) return {false, std::string("waitpid: ") + std::strerror(errno)};
    if (std::chrono::steady_clock::now() >= deadline) {
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      return {false, "hook did not finish within " + std::to_string(timeout.count()) + " ms"};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

}  // namespace corral::bench
