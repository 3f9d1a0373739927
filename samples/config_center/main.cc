// config_center: a publisher changes an application's configuration with the
// ready-znode pattern; subscribers print consistent snapshots only — every
// value of a snapshot carries the same generation, never a mix of two.
//
//   corral-sample-config-center --connect HOSTS --publish 20 --keys 5     (the publisher)
//   corral-sample-config-center --connect HOSTS --subscribe --name s1     (a subscriber)
#include <boost/fiber/operations.hpp>
#include <chrono>
#include <string>

#include "corral/client.h"
#include "corral/recipes/configuration.h"
#include "corral/runtime.h"
#include "samples/common/sample_options.h"

using namespace std::chrono_literals;
namespace samples = corral::samples;

int main(int argc, char** argv) {
  const samples::Options opt(argc, argv,
                             "corral-sample-config-center --connect HOSTS (--publish N [--keys K] [--every-ms 100] | "
                             "--subscribe [--name S] [--seconds 10]) [--path /samples/config]");
  const std::string path = opt.get("path", "/samples/config");
  const std::string name = opt.get("name", opt.flag("subscribe") ? "subscriber" : "publisher");
  samples::install_stop_handler();
  int status = 0;
  corral::Runtime rt;
  rt.run([&] {
    try {
      corral::ClientOptions o;
      o.connect_string = opt.get("connect", "127.0.0.1:2181");
      o.session_timeout = 5s;
      corral::Client client(rt, o);
      client.connect(30s);
      corral::recipes::Configuration config(client, path);
      if (opt.flag("publish")) {
        const long n = opt.number("publish", 10), keys = opt.number("keys", 5);
        for (long round = 1; round <= n && !samples::stop_requested; ++round) {
          corral::recipes::ConfigValues values;
          for (long k = 0; k < keys; ++k) values["key-" + std::to_string(k)] = "version " + std::to_string(round);
          const uint64_t g = config.publish(values);
          samples::say(name, "published generation " + std::to_string(g) + ": " + std::to_string(keys) +
                                 " keys = \"version " + std::to_string(round) + "\"");
          boost::this_fiber::sleep_for(std::chrono::milliseconds(opt.number("every-ms", 100)));
        }
      } else {
        long seen = 0, mixed = 0;
        config.add_listener([&](const corral::recipes::ConfigSnapshot& s) {
          std::string first;
          bool consistent = true;
          for (const auto& [k, v] : s.values) {
            if (first.empty()) first = v;
            consistent = consistent && v == first;
          }
          ++seen;
          if (!consistent) ++mixed;
          samples::say(name, "generation " + std::to_string(s.generation) + ": " + std::to_string(s.values.size()) +
                                 " keys, all \"" + first + "\"" + (consistent ? "" : "  <-- MIXED"));
        });
        config.start();
        samples::say(name, "following " + path);
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(opt.number("seconds", 10));
        while (!samples::stop_requested && std::chrono::steady_clock::now() < until) boost::this_fiber::sleep_for(50ms);
        config.close();
        samples::say(name, std::to_string(seen) + " snapshots, " + std::to_string(mixed) + " mixed");
        if (mixed > 0) status = 1;
      }
      client.close();
    } catch (const std::exception& e) {
      samples::say(name, std::string("error: ") + e.what());
      status = 1;
    }
  });
  return status;
}
