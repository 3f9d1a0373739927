// corral::recipes::Configuration — configuration with a ready znode, the
// pattern of the ZooKeeper paper (§2.4, "Configuration Management" and the
// new-leader example): a writer removes `ready`, changes the configuration
// znodes, and creates `ready` again; readers use the configuration only while
// `ready` exists, so they never act on a half-written one.
//
//   recipes::Configuration config(client, "/app/config");
//   config.publish({{"db", "10.0.0.7:5432"}, {"pool", "32"}});      // a writer
//   auto snap = config.snapshot();                                  // a reader
//   config.add_listener([](const recipes::ConfigSnapshot& s) { ... });
//   config.start();                              // follow every new publication
//
// Znodes (all persistent):
//   <path>          data: the last claimed generation, decimal ("17")
//   <path>/<key>    data: the value's bytes, one znode per key
//   <path>/ready    data: the generation of the values below it ("17");
//                   exists only while the values are complete
// Keys are single znode names; "ready" is reserved. Curator has no such
// recipe; the layout is the paper's.
//
// Writing (publish): read <path> (generation g, version v) and the keys there
// are; then, when the whole change fits in one multi (max_multi_bytes), one
// multi does it all: setData <path> "g+1" at version v, delete ready, create /
// set / delete the keys, create ready "g+1". A bigger change is written as
// the paper writes it, in steps: (1) a multi that claims generation g+1
// (setData <path> at version v) and deletes ready; (2) the key changes, in
// multis of at most max_multi_bytes, each starting with a check that <path>
// is still at version v+1, sent together; (3) a multi that checks <path> again
// and creates ready "g+1". A writer whose claim was overtaken by another
// writer's (badVersion) starts again from the top after a random pause that
// grows with each retry (up to 100 ms), so concurrent writers take turns
// instead of undoing each other forever, and the last one wins; because every key change checks the claim, a
// superseded writer changes nothing once overtaken, and ready only ever
// appears over one writer's complete set of values. A writer that dies between
// (1) and (3) leaves no ready: readers keep their last snapshot until the next
// publication (the paper's "not finalized" configuration).
//
// Reading (snapshot): getData ready (its generation and czxid), list <path>
// and read every key (pipelined), then look at ready again; if ready is gone
// or is another incarnation (its czxid changed) the values may mix two
// publications and the read starts again. Since every key change happens
// while ready is absent or in the multi that replaces it, the same ready
// before and after means no key changed in between: the snapshot is one
// publication's values exactly. This does not rely on watch-before-read
// ordering of notifications.
//
// Following (start, current, listeners): a persistent watch on <path>/ready;
// each event (and each reset after a reconnect or a new session) leads to a
// snapshot read, and listeners hear each snapshot whose ready is newer (czxid)
// than the last one they heard, so generations only increase. Listeners run
// on the Configuration's own fiber.
//
// Faults: while the connection is suspended, snapshot() and publish() wait
// for it (until their deadline) and current() keeps the last snapshot. After
// a reconnect the watch is back but ZooKeeper does not replay missed events,
// so the configuration is read again. On session expiry nothing is lost (the
// znodes are persistent); following resumes when the client has a new session.
// A publish whose reply was lost is done again from the top: readers may see
// the same values under two generations (never a mix). Errors: operationTimeout
// (deadline), sessionExpired, badArguments (a bad key), noAuth and the like.
// Everything runs on the Client's runtime thread; close (or destroy) the
// object before its Client, and not from inside its listeners.
#pragma once

#include <boost/fiber/condition_variable.hpp>
#include <boost/fiber/mutex.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "corral/recipes/persistent_watcher.h"
#include "corral/recipes/znodes.h"

namespace corral::recipes {

using ConfigValues = std::map<std::string, std::string>;

// One publication's values, read consistently.
struct ConfigSnapshot {
  uint64_t generation = 0;  // what ready said
  int64_t ready_zxid = 0;   // the czxid of the ready node it was read under
  ConfigValues values;      // key -> bytes

  // The value of `key`, if the publication has it.
  std::optional<std::string_view> get(std::string_view key) const;
};

struct ConfigurationOptions {
  // The largest multi publish() sends (estimated request bytes); a change
  // that does not fit is written in steps. ZooKeeper's jute.maxbuffer
  // (1 MiB by default) bounds a request; stay well below it.
  std::size_t max_multi_bytes = std::size_t{256} * 1024;
};

class Configuration {
 public:
  using Listener = std::function<void(const ConfigSnapshot&)>;

  Configuration(Client& client, std::string path, ConfigurationOptions options = {});
  ~Configuration();
  Configuration(const Configuration&) = delete;
  Configuration& operator=(const Configuration&) = delete;

  // ---- writing ----------------------------------------------------------------
  // Makes `values` the configuration (keys not in it are deleted) and returns
  // its generation. Creates <path> and its parents if needed.
  uint64_t publish(const ConfigValues& values, Clock::time_point deadline, std::error_code& ec);
  uint64_t publish(const ConfigValues& values, std::chrono::milliseconds timeout = std::chrono::seconds(30));

  // ---- reading ------------------------------------------------------------------
  // A consistent snapshot now; blocks the fiber while there is no ready (a
  // write in progress, or nothing published yet) until the deadline
  // (operationTimeout).
  ConfigSnapshot snapshot(Clock::time_point deadline, std::error_code& ec);
  ConfigSnapshot snapshot(std::chrono::milliseconds timeout = std::chrono::seconds(30));

  // ---- following ----------------------------------------------------------------
  // Starts following: current() and the listeners then see each new
  // publication. Does not wait for one (see wait_until).
  void start();
  // Stops following (removes the watch); no listener is called afterwards.
  void close();
  // The latest snapshot followed (nullopt before the first).
  std::optional<ConfigSnapshot> current() const { return current_; }
  // Blocks the fiber until `pred(current())` holds (true) or `deadline`.
  bool wait_until(const std::function<bool(const std::optional<ConfigSnapshot>&)>& pred, Clock::time_point deadline);
  // Listeners run on the Configuration's fiber; the id removes one again.
  uint64_t add_listener(Listener listener);
  void remove_listener(uint64_t id);

  const std::string& path() const { return path_; }
  std::string ready_path() const { return join(path_, "ready"); }

 private:
  enum class Read { done, absent, raced };
  // One attempt at a consistent read.
  Read try_snapshot(ConfigSnapshot& out, std::error_code& ec);
  // One attempt at a publication: true when done (or failed: ec), false to
  // start again (overtaken or raced).
  bool try_publish(const ConfigValues& values, uint64_t& generation, std::error_code& ec);
  void handle(const std::vector<WatchNotice>& batch);

  Client& client_;
  std::string path_;
  ConfigurationOptions options_;
  PersistentWatcher watcher_;
  std::optional<ConfigSnapshot> current_;
  std::map<uint64_t, Listener> listeners_;
  uint64_t last_listener_ = 0;
  boost::fibers::mutex mutex_;
  boost::fibers::condition_variable changed_;
};

}  // namespace corral::recipes
