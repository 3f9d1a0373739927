// corral::recipes::SharedCounter — an int32 every client sees and changes
// (Apache Curator's SharedCount, same znode, so C++ and Java processes share
// one counter):
//
//   <path>    a persistent node holding the count as 4 bytes, big-endian,
//             two's complement (Curator's SharedCount.toBytes); created with
//             the seed value by the first start(), its parents as containers
//
//   recipes::SharedCounter hits(client, "/stats/hits", 0);
//   hits.start();                                  // create if absent, read, watch
//   hits.add(1);                                   // compare-and-set, retried
//   hits.count();                                  // the last value seen (kept current)
//   hits.add_listener([](int32_t n) { ... });      // every change seen
//
// Changes are version-checked: try_set(previous, n) writes only if the node
// still has previous.version (Curator's trySetCount), and add(delta) reads,
// adds and try_sets until one wins (BADVERSION means another writer got
// there first: read again). Concurrent adds from any number of clients sum
// exactly.
//
// The cached value is kept current by a data watch and only moves forward (by
// the node's mzxid). Listeners run on the client's event fiber, once per
// change seen (several quick changes may be seen as one, as with any watch).
//
// Faults: while the connection is suspended the cached value may be stale;
// the client re-registers the watch on reconnect and changes made meanwhile
// are reported then. After expiry the watch is gone with the session; when a
// new session starts (reconnect_new_session(), or renew_expired_session) the
// counter reads the node again and re-arms its watch. A write whose reply is
// lost (connectionLoss) may or may not have been applied: add() and set()
// report connectionLoss rather than risk counting twice. The destructor
// stops the listeners; the node stays (it is shared state).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <system_error>

#include "corral/recipes/znodes.h"

namespace corral::recipes {

// A value with the znode version it was read at (Curator's VersionedValue).
struct VersionedCount {
  int32_t version = -1;  // -1: never read
  int32_t value = 0;
  int64_t mzxid = -1;
};

class SharedCounter {
 public:
  using Listener = std::function<void(int32_t count)>;

  SharedCounter(Client& client, std::string path, int32_t seed);
  ~SharedCounter();
  SharedCounter(const SharedCounter&) = delete;
  SharedCounter& operator=(const SharedCounter&) = delete;

  // Creates the node with the seed if it is absent, reads it and starts
  // watching it.
  void start(std::error_code& ec);
  void start();

  // The last value seen (no round trip).
  int32_t count() const;
  VersionedCount versioned() const;
  // The value on the server now (and the cache brought up to it).
  VersionedCount read(std::error_code& ec);
  VersionedCount read();

  // Unconditional write (Curator's setCount).
  void set(int32_t value, std::error_code& ec);
  void set(int32_t value);
  // Writes `value` only if the node is still at `previous.version`: false
  // (and the cache refreshed) if another write came first.
  bool try_set(const VersionedCount& previous, int32_t value, std::error_code& ec);
  bool try_set(const VersionedCount& previous, int32_t value);
  // Adds `delta` by compare-and-set until it applies; returns the new value.
  int32_t add(int32_t delta, std::error_code& ec);
  int32_t add(int32_t delta = 1);

  uint64_t add_listener(Listener listener);
  void remove_listener(uint64_t id);

  const std::string& path() const;

  // Curator's encoding of a count.
  static std::string encode(int32_t value);
  // bad_message if `bytes` is not 4 bytes long.
  static int32_t decode(std::string_view bytes, std::error_code& ec);

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace corral::recipes
