// membership: services join a group with their address as member data and
// leave it when they stop (or vanish with their session when they die); a
// watcher prints the live member list at every change.
//
//   corral-sample-membership --connect HOSTS --join web-1 --data 10.0.0.1:80   (a member)
//   corral-sample-membership --connect HOSTS --watch                           (the watcher)
#include <boost/fiber/operations.hpp>
#include <chrono>
#include <string>

#include "corral/client.h"
#include "corral/recipes/group_membership.h"
#include "corral/runtime.h"
#include "samples/common/sample_options.h"

using namespace std::chrono_literals;
namespace samples = corral::samples;
using corral::recipes::GroupMembership;

namespace {

std::string list(const GroupMembership::Members& members) {
  std::string out = std::to_string(members.size()) + " member(s):";
  for (const auto& [id, data] : members) out += " " + id + (data.empty() ? "" : "=" + data);
  return out;
}

std::string_view kind(GroupMembership::Change::Kind k) {
  switch (k) {
    case GroupMembership::Change::Kind::joined: return "joined";
    case GroupMembership::Change::Kind::left: return "left";
    case GroupMembership::Change::Kind::updated: return "updated";
  }
  return "?";
}

}  // namespace

int main(int argc, char** argv) {
  const samples::Options opt(argc, argv,
                             "corral-sample-membership --connect HOSTS (--join ID [--data TEXT] | --watch) "
                             "[--path /samples/members] [--session-ms 2000] [--seconds N]");
  const std::string path = opt.get("path", "/samples/members");
  const long seconds = opt.number("seconds", 0);
  const bool watching = opt.flag("watch");
  const std::string name = watching ? "watcher" : opt.get("join", "member");
  samples::install_stop_handler();
  int status = 0;
  corral::Runtime rt;
  rt.run([&] {
    try {
      corral::ClientOptions o;
      o.connect_string = opt.get("connect", "127.0.0.1:2181");
      o.session_timeout = std::chrono::milliseconds(opt.number("session-ms", 2000));
      o.renew_expired_session = true;
      corral::Client client(rt, o);
      client.connect(30s);
      GroupMembership group(client, path);
      if (!watching) {
        group.join(name, opt.get("data", ""));
        samples::say(name, "joined " + path);
      } else {
        group.wait_synced(corral::recipes::Clock::now() + 30s);
        samples::say(name, list(group.members()));
      }
      const auto started = std::chrono::steady_clock::now();
      while (!samples::stop_requested &&
             (seconds == 0 || std::chrono::steady_clock::now() - started < std::chrono::seconds(seconds))) {
        auto change = group.next_change(200ms);
        if (change && watching) {
          samples::say(name, change->id + " " + std::string(kind(change->kind)) + " -> " + list(group.members()));
        }
      }
      group.leave();
      client.close();
      if (!watching) samples::say(name, "left");
    } catch (const std::exception& e) {
      samples::say(name, std::string("error: ") + e.what());
      status = 1;
    }
  });
  return status;
}
