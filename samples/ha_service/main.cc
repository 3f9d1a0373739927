// ha_service: several instances of a service elect a leader; only the leader
// does the work, and every write it makes carries its fencing token and is
// guarded by its election node, so a deposed leader cannot write any more.
// Kill the leader (kill -9) and another instance takes over once the dead
// one's session expires.
//
//   corral-sample-ha-service --connect 127.0.0.1:2181 --id a   (start 2 or 3 of these)
#include <boost/fiber/operations.hpp>
#include <chrono>
#include <string>

#include "corral/client.h"
#include "corral/recipes/leader_election.h"
#include "corral/recipes/znodes.h"
#include "corral/runtime.h"
#include "samples/common/sample_options.h"

using namespace std::chrono_literals;
namespace samples = corral::samples;

int main(int argc, char** argv) {
  const samples::Options opt(argc, argv,
                             "corral-sample-ha-service --connect HOSTS --id NAME [--path /samples/ha] "
                             "[--session-ms 2000] [--work-ms 500] [--seconds N]");
  const std::string id = opt.get("id", "instance");
  const std::string path = opt.get("path", "/samples/ha");
  const long seconds = opt.number("seconds", 0);
  samples::install_stop_handler();
  int status = 0;
  corral::Runtime rt;
  rt.run([&] {
    try {
      corral::ClientOptions o;
      o.connect_string = opt.get("connect", "127.0.0.1:2181");
      o.session_timeout = std::chrono::milliseconds(opt.number("session-ms", 2000));
      o.renew_expired_session = true;  // a service lives on after an expiry
      corral::Client client(rt, o);
      client.connect(30s);
      corral::recipes::LeaderLatch latch(client, path + "/election", id);
      latch.on_change([&](corral::recipes::LeadershipChange c, int64_t token) {
        samples::say(id, std::string(corral::recipes::to_string(c)) +
                             (token != 0 ? " (fencing token " + std::to_string(token) + ")" : ""));
      });
      latch.start();
      samples::say(
          id, "joined the election; leader now: " + [&] {
            const std::string l = latch.leader_id();
            return l.empty() ? std::string("nobody") : l;
          }());
      const auto started = std::chrono::steady_clock::now();
      const auto work = std::chrono::milliseconds(opt.number("work-ms", 500));
      long step = 0;
      bool was_leader = false;
      std::error_code ec;
      corral::recipes::ensure_path(client, path, ec);
      client.create(path + "/work", "", {}, ec);  // nodeExists is fine
      while (!samples::stop_requested &&
             (seconds == 0 || std::chrono::steady_clock::now() - started < std::chrono::seconds(seconds))) {
        if (latch.is_leader() && !was_leader) {
          // How long the service went without a leader's work: since the
          // previous leader's last write (the server's clock stamps mtime).
          const auto stat = client.exists(path + "/work");
          const auto now =
              std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
                  .count();
          if (stat && stat->version > 0) {
            samples::say(
                id, "took over " + std::to_string(now - stat->mtime) + " ms after the previous leader's last write");
          }
        }
        was_leader = latch.is_leader();
        if (latch.is_leader()) {
          // The leader's work: a write that applies only while it still leads.
          const int64_t token = latch.token();
          auto txn = latch.guarded();
          txn.set(path + "/work", id + " step " + std::to_string(++step) + " token " + std::to_string(token));
          client.multi(txn, ec);
          samples::say(id, ec ? "write refused (" + ec.message() + "): no longer leader"
                              : "leader: did step " + std::to_string(step) + " with token " + std::to_string(token));
        }
        boost::this_fiber::sleep_for(work);
      }
      latch.resign();
      client.close();
      samples::say(id, "stopped");
    } catch (const std::exception& e) {
      samples::say(id, std::string("error: ") + e.what());
      status = 1;
    }
  });
  return status;
}
