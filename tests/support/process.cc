#include "tests/support/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "tests/support/wait.h"

namespace corral::test {

Process::Process(const std::vector<std::string>& argv, const std::filesystem::path& output) {
  if (argv.empty()) throw std::invalid_argument("Process: empty argv");
  // Everything the child needs is prepared before fork: after it, only
  // async-signal-safe calls (the test process may have threads).
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const std::string out = output.string();
  const pid_t parent = ::getpid();

  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(126);  // the parent is already gone
    const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
    }
    const int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  pid_ = pid;
}

Process::~Process() { kill(); }

bool Process::reap(bool block) {
  if (status_ || pid_ <= 0) return true;
  int status = 0;
  for (;;) {
    const pid_t r = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
    if (r == pid_) {
      status_ = status;
      return true;
    }
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {  // not our child any more (should not happen); treat as gone
      status_ = -1;
      return true;
    }
    return false;
  }
}

bool Process::alive() { return !reap(false); }

void Process::signal(int sig) {
  if (alive()) ::kill(pid_, sig);
}

bool Process::stopped() const {
  if (pid_ <= 0 || status_) return false;
  std::error_code ec;
  const std::filesystem::path tasks = "/proc/" + std::to_string(pid_) + "/task";
  bool any = false;
  for (const auto& task : std::filesystem::directory_iterator(tasks, ec)) {
    std::ifstream in(task.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto close = stat.rfind(')');  // the command name may hold spaces and parentheses
    if (close == std::string::npos || close + 2 >= stat.size()) return false;
    if (stat[close + 2] != 'T' && stat[close + 2] != 't') return false;
    any = true;
  }
  return any && !ec;
}

void Process::kill() {
  if (pid_ <= 0 || status_) return;
  ::kill(pid_, SIGKILL);
  reap(true);
}

std::optional<int> Process::wait(std::chrono::milliseconds timeout) {
  wait_until([&] { return !alive(); }, timeout, 2ms);
  return status_;
}

std::string describe_wait_status(int status) {
  if (WIFEXITED(status)) return "exited with " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "wait status " + std::to_string(status);
}

}  // namespace corral::test
