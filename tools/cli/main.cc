// corral-cli: a zkCli-like command line for any ZooKeeper-protocol server.
//
//   corral-cli -server 127.0.0.1:2181 ls /           # one command, then exit
//   corral-cli -server 127.0.0.1:2181                # interactive
//
// Exit status: 0 on success, 1 when a command fails (one line on stderr),
// 2 for a usage error.
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "corral/blocking_client.h"
#include "corral/recipes/znodes.h"
#include "corral/version.h"
#include "tools/cli/acl_text.h"
#include "tools/cli/recipe_commands.h"

namespace {

using corral::Client;
using corral::cli::format_acl;
using corral::cli::format_stat;
using corral::cli::parse_acl;

std::mutex output_mutex;

void out(const std::string& text) {
  std::lock_guard lock(output_mutex);
  std::fputs(text.c_str(), stdout);
  std::fflush(stdout);
}

// A failed command: the message is what the user sees, on one line.
struct CommandError {
  std::string message;
};

std::string describe(const std::error_code& ec, const std::string& path) {
  switch (static_cast<corral::Error>(ec.value())) {
    case corral::Error::noNode: return "Node does not exist: " + path;
    case corral::Error::nodeExists: return "Node already exists: " + path;
    case corral::Error::notEmpty: return "Node not empty: " + path;
    case corral::Error::badVersion: return "version No is not valid : " + path;
    case corral::Error::noAuth: return "Insufficient permission : " + path;
    case corral::Error::invalidAcl: return "Invalid ACL : " + path;
    case corral::Error::noChildrenForEphemerals: return "Ephemerals cannot have children: " + path;
    case corral::Error::badArguments: return "Path must be valid: " + path;
    default: return ec.message() + ": " + path;
  }
}

void check(const std::error_code& ec, const std::string& path) {
  if (ec) throw CommandError{describe(ec, path)};
}

// Splits a command line into words; "double" and 'single' quotes group.
std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (char c : line) {
    if (quote) {
      if (c == quote) {
        quote = 0;
      } else {
        word += c;
      }
    } else if (c == '"' || c == '\'') {
      quote = c;
      in_word = true;
    } else if (c == ' ' || c == '\t') {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (in_word) words.push_back(std::move(word));
  return words;
}

// Options ("-s", "-v 3") and positional arguments of one command.
struct Args {
  std::map<std::string, std::string> options;
  std::vector<std::string> positional;
  bool has(const std::string& o) const { return options.count(o) > 0; }
};

Args parse_args(const std::vector<std::string>& words, const std::vector<std::string>& with_value) {
  Args a;
  for (std::size_t i = 1; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (w.size() > 1 && w[0] == '-' && a.positional.empty()) {
      if (std::find(with_value.begin(), with_value.end(), w) != with_value.end()) {
        if (i + 1 >= words.size()) throw CommandError{"option " + w + " needs a value"};
        a.options[w] = words[++i];
      } else {
        a.options[w] = "";
      }
    } else {
      a.positional.push_back(w);
    }
  }
  return a;
}

int32_t to_int(const std::string& text, const char* what) {
  try {
    std::size_t used = 0;
    const long v = std::stol(text, &used);
    if (used != text.size()) throw std::invalid_argument(text);
    return static_cast<int32_t>(v);
  } catch (const std::exception&) {
    throw CommandError{std::string("invalid ") + what + " '" + text + "'"};
  }
}

const std::string& need(const Args& a, std::size_t i, const char* usage) {
  if (a.positional.size() <= i) throw CommandError{std::string("usage: ") + usage};
  return a.positional[i];
}

std::string event_line(const corral::WatchedEvent& e) {
  static const std::map<int, const char*> types = {{-1, "None"},
                                                   {1, "NodeCreated"},
                                                   {2, "NodeDeleted"},
                                                   {3, "NodeDataChanged"},
                                                   {4, "NodeChildrenChanged"},
                                                   {5, "DataWatchRemoved"},
                                                   {6, "ChildWatchRemoved"},
                                                   {7, "PersistentWatchRemoved"}};
  const auto t = types.find(static_cast<int>(e.type));
  return std::string("WatchedEvent type:") + (t == types.end() ? "?" : t->second) +
         " path:" + (e.path.empty() ? "null" : e.path) + "\n";
}

corral::Watcher printing_watcher() {
  return [](const corral::WatchedEvent& e) { out("\nWATCHER::\n" + event_line(e)); };
}

void list_recursive(Client& c, const std::string& path) {
  std::error_code ec;
  const auto kids = c.children(path, {}, ec);
  check(ec, path);
  for (const auto& k : kids.names) {
    const std::string child = corral::recipes::join(path, k);
    out(child + "\n");
    list_recursive(c, child);
  }
}

void delete_all(Client& c, const std::string& path) {
  std::error_code ec;
  const auto kids = c.children(path, {}, ec);
  if (ec == corral::Error::noNode) return;
  check(ec, path);
  for (const auto& k : kids.names) delete_all(c, corral::recipes::join(path, k));
  if (path == "/") return;
  c.remove(path, -1, ec);
  if (ec != corral::Error::noNode) check(ec, path);
}

const char* help_text =
    "commands:\n"
    "  ls [-s] [-w] [-R] path\n"
    "  get [-s] [-w] path\n"
    "  set [-s] [-v version] path data\n"
    "  create [-s] [-e] [-c] [-t ttl] path [data] [acl]\n"
    "  delete [-v version] path\n"
    "  deleteall path\n"
    "  stat [-w] path\n"
    "  getAcl [-s] path\n"
    "  setAcl [-s] [-v version] path acl        (acl: scheme:id:perms,...)\n"
    "  addauth scheme auth\n"
    "  sync path\n"
    "  watch [-R] [-n count] path               (persistent watch; prints events)\n"
    "  getEphemerals [prefix]\n"
    "  getAllChildrenNumber path\n"
    "  whoami\n"
    "  quit\n"
    "as the only command (not interactive):\n"
    "  lock PATH [-- command args...]           (hold the lock while the command runs)\n"
    "  elect PATH VALUE [-- command args...]    (lead while the command runs)\n";

// Runs one command; returns false for "quit".
bool execute(corral::BlockingClient& zk, const std::vector<std::string>& words, bool interactive) {
  if (words.empty()) return true;
  const std::string& cmd = words[0];
  if (cmd == "quit" || cmd == "exit") return false;
  if (cmd == "help") {
    out(help_text);
    return true;
  }
  if (cmd == "ls") {
    const Args a = parse_args(words, {});
    const std::string path = need(a, 0, "ls [-s] [-w] [-R] path");
    zk.call([&](Client& c) {
      if (a.has("-R")) {
        out(path + "\n");
        list_recursive(c, path);
        return;
      }
      std::error_code ec;
      const auto kids = c.children(path, a.has("-w") ? printing_watcher() : corral::Watcher{}, ec);
      check(ec, path);
      std::string line = "[";
      for (std::size_t i = 0; i < kids.names.size(); ++i) line += (i ? ", " : "") + kids.names[i];
      out(line + "]\n");
      if (a.has("-s")) out(format_stat(kids.stat));
    });
  } else if (cmd == "get") {
    const Args a = parse_args(words, {});
    const std::string path = need(a, 0, "get [-s] [-w] path");
    zk.call([&](Client& c) {
      std::error_code ec;
      const auto d = c.get(path, a.has("-w") ? printing_watcher() : corral::Watcher{}, ec);
      check(ec, path);
      out(d.data + "\n");
      if (a.has("-s")) out(format_stat(d.stat));
    });
  } else if (cmd == "set") {
    const Args a = parse_args(words, {"-v"});
    const std::string path = need(a, 0, "set [-s] [-v version] path data");
    const std::string data = need(a, 1, "set [-s] [-v version] path data");
    const int32_t version = a.has("-v") ? to_int(a.options.at("-v"), "version") : -1;
    zk.call([&](Client& c) {
      std::error_code ec;
      const auto s = c.set(path, data, version, ec);
      check(ec, path);
      if (a.has("-s")) out(format_stat(s));
    });
  } else if (cmd == "create") {
    const Args a = parse_args(words, {"-t"});
    const std::string path = need(a, 0, "create [-s] [-e] [-c] [-t ttl] path [data] [acl]");
    corral::CreateOptions o;
    const bool seq = a.has("-s");
    if (a.has("-c")) {
      o.container = true;
    } else if (a.has("-t")) {
      o.mode = seq ? corral::CreateMode::persistentSequentialWithTtl : corral::CreateMode::persistentWithTtl;
      o.ttl_ms = to_int(a.options.at("-t"), "ttl");
    } else if (a.has("-e")) {
      o.mode = seq ? corral::CreateMode::ephemeralSequential : corral::CreateMode::ephemeral;
    } else if (seq) {
      o.mode = corral::CreateMode::persistentSequential;
    }
    if (a.positional.size() > 2) {
      std::string error;
      auto acl = parse_acl(a.positional[2], error);
      if (!acl) throw CommandError{error};
      o.acl = std::move(*acl);
    }
    const std::string data = a.positional.size() > 1 ? a.positional[1] : "";
    zk.call([&](Client& c) {
      std::error_code ec;
      const auto created = c.create(path, data, o, ec);
      check(ec, path);
      out("Created " + created.path + "\n");
    });
  } else if (cmd == "delete") {
    const Args a = parse_args(words, {"-v"});
    const std::string path = need(a, 0, "delete [-v version] path");
    const int32_t version = a.has("-v") ? to_int(a.options.at("-v"), "version") : -1;
    zk.call([&](Client& c) {
      std::error_code ec;
      c.remove(path, version, ec);
      check(ec, path);
    });
  } else if (cmd == "deleteall" || cmd == "rmr") {
    const Args a = parse_args(words, {});
    const std::string path = need(a, 0, "deleteall path");
    zk.call([&](Client& c) { delete_all(c, path); });
  } else if (cmd == "stat") {
    const Args a = parse_args(words, {});
    const std::string path = need(a, 0, "stat [-w] path");
    zk.call([&](Client& c) {
      std::error_code ec;
      const auto s = c.exists(path, a.has("-w") ? printing_watcher() : corral::Watcher{}, ec);
      check(ec, path);
      if (!s) throw CommandError{describe(corral::Error::noNode, path)};
      out(format_stat(*s));
    });
  } else if (cmd == "getAcl") {
    const Args a = parse_args(words, {});
    const std::string path = need(a, 0, "getAcl [-s] path");
    zk.call([&](Client& c) {
      std::error_code ec;
      const auto r = c.get_acl(path, ec);
      check(ec, path);
      out(format_acl(r.acl));
      if (a.has("-s")) out(format_stat(r.stat));
    });
  } else if (cmd == "setAcl") {
    const Args a = parse_args(words, {"-v"});
    const std::string path = need(a, 0, "setAcl [-s] [-v version] path acl");
    std::string error;
    const auto acl = parse_acl(need(a, 1, "setAcl [-s] [-v version] path acl"), error);
    if (!acl) throw CommandError{error};
    const int32_t version = a.has("-v") ? to_int(a.options.at("-v"), "version") : -1;
    zk.call([&](Client& c) {
      std::error_code ec;
      const auto s = c.set_acl(path, *acl, version, ec);
      check(ec, path);
      if (a.has("-s")) out(format_stat(s));
    });
  } else if (cmd == "addauth") {
    const Args a = parse_args(words, {});
    const std::string scheme = need(a, 0, "addauth scheme auth");
    const std::string auth = a.positional.size() > 1 ? a.positional[1] : "";
    zk.call([&](Client& c) {
      std::error_code ec;
      c.add_auth(scheme, auth, ec);
      if (ec) throw CommandError{"authentication failed: " + ec.message()};
    });
  } else if (cmd == "sync") {
    const Args a = parse_args(words, {});
    const std::string path = need(a, 0, "sync path");
    zk.call([&](Client& c) {
      std::error_code ec;
      c.sync(path, ec);
      check(ec, path);
      out("Sync is OK\n");
    });
  } else if (cmd == "watch") {
    const Args a = parse_args(words, {"-n"});
    const std::string path = need(a, 0, "watch [-R] [-n count] path");
    const int32_t count = a.has("-n") ? to_int(a.options.at("-n"), "count") : (interactive ? 0 : 1);
    auto seen = std::make_shared<std::atomic<int>>(0);
    auto done = std::make_shared<boost::fibers::promise<void>>();
    zk.call([&](Client& c) {
      std::error_code ec;
      c.add_watch(
          path, a.has("-R") ? corral::wire::AddWatchMode::persistentRecursive : corral::wire::AddWatchMode::persistent,
          [seen, done, count](const corral::WatchedEvent& e) {
            out(event_line(e));
            if (count > 0 && ++*seen == count) done->set_value();
          },
          ec);
      check(ec, path);
    });
    if (count > 0) done->get_future().get();
  } else if (cmd == "getEphemerals") {
    const Args a = parse_args(words, {});
    const std::string prefix = a.positional.empty() ? "/" : a.positional[0];
    zk.call([&](Client& c) {
      std::error_code ec;
      const auto list = c.ephemerals(prefix, ec);
      check(ec, prefix);
      std::string line = "[";
      for (std::size_t i = 0; i < list.size(); ++i) line += (i ? ", " : "") + list[i];
      out(line + "]\n");
    });
  } else if (cmd == "getAllChildrenNumber") {
    const Args a = parse_args(words, {});
    const std::string path = need(a, 0, "getAllChildrenNumber path");
    zk.call([&](Client& c) {
      std::error_code ec;
      const int32_t n = c.all_children_number(path, ec);
      check(ec, path);
      out(std::to_string(n) + "\n");
    });
  } else if (cmd == "whoami") {
    zk.call([&](Client& c) {
      std::error_code ec;
      for (const auto& info : c.who_am_i(ec)) out("Auth scheme: " + info.authScheme + "\nUser: " + info.user + "\n");
      check(ec, "whoami");
    });
  } else {
    throw CommandError{"unknown command '" + cmd + "' (try help)"};
  }
  return true;
}

// The usage and the commands: on stdout with status 0 when asked for (--help),
// on stderr with status 2 after a bad command line.
int usage(bool asked = false) {
  std::fprintf(asked ? stdout : stderr,
               "usage: corral-cli [-server host:port[,host:port...][/chroot]] [-timeout ms] [command args...]\n"
               "       corral-cli --version | --help\n%s",
               help_text);
  return asked ? 0 : 2;
}

}  // namespace

int main(int argc, char** argv) {
  corral::ClientOptions options;
  options.connect_string = "127.0.0.1:2181";
  std::vector<std::string> command;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (command.empty() && (a == "-server" || a == "--server") && i + 1 < argc) {
      options.connect_string = argv[++i];
    } else if (command.empty() && (a == "-timeout" || a == "--timeout") && i + 1 < argc) {
      try {
        options.session_timeout = std::chrono::milliseconds(std::stoi(argv[++i]));
      } catch (const std::exception&) {
        return usage();
      }
    } else if (command.empty() && (a == "-h" || a == "--help")) {
      return usage(true);
    } else if (command.empty() && a == "--version") {
      std::printf("corral-cli %s\n", CORRAL_VERSION);
      return 0;
    } else {
      command.push_back(a);
    }
  }

  // lock/elect hold a recipe while a command runs (recipe_commands.h).
  if (!command.empty() && corral::cli::is_recipe_command(command[0])) {
    return corral::cli::run_recipe_command(options, command);
  }

  std::optional<corral::BlockingClient> zk;
  try {
    zk.emplace(options, options.session_timeout);
  } catch (const std::system_error& e) {
    std::fprintf(stderr, "corral-cli: cannot connect to %s: %s\n", options.connect_string.c_str(),
                 e.code().message().c_str());
    return 1;
  }

  const auto run = [&](const std::vector<std::string>& words, bool interactive) -> std::optional<bool> {
    try {
      return execute(*zk, words, interactive);
    } catch (const CommandError& e) {
      std::fprintf(stderr, "%s\n", e.message.c_str());
    } catch (const std::system_error& e) {
      std::fprintf(stderr, "%s\n", e.code().message().c_str());
    }
    return std::nullopt;
  };

  if (!command.empty()) return run(command, false) ? 0 : 1;

  const bool tty = isatty(STDIN_FILENO);
  int status = 0;
  std::string line;
  for (int n = 0;; ++n) {
    if (tty) out("[corral: " + options.connect_string + " " + std::to_string(n) + "] ");
    if (!std::getline(std::cin, line)) break;
    const auto result = run(split(line), true);
    if (!result) {
      status = 1;
    } else if (!*result) {
      break;
    }
  }
  return status;
}
