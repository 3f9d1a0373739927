// corral::recipes::Queue and PriorityQueue — distributed FIFO and priority
// queues of persistent sequential znodes (Apache Curator's DistributedQueue
// and DistributedPriorityQueue: same names, same item encoding).
//
//   recipes::Queue jobs(client, "/jobs/queue");
//   jobs.put("resize 42.png");                          // any process
//   if (auto job = jobs.take(std::chrono::seconds(5)))  // blocks this fiber while empty
//     run(*job);
//   auto some = jobs.take_batch(100, std::chrono::seconds(1));   // up to 100 in one transaction
//
//   recipes::PriorityQueue urgent(client, "/jobs/urgent");
//   urgent.put("page ops", -10);                        // lower numbers come out first
//
// Znodes:
//   <path>                       a container (goes away when empty)
//   <path>/queue-<seq>           an item (Queue)
//   <path>/queue-<p><seq>        an item (PriorityQueue): <p> is Curator's
//                                priority text, "1"/"0" for >= 0 / < 0 and
//                                the priority as 8 hex digits, so names sort
//                                by priority, then by arrival
//   <path>/_c_<uuid>-receipt     ephemeral, one per object: the id of this
//                                object's last committed transaction
// Items are taken in the order of their names (Curator sorts the same way).
// An item's data is Curator's ItemSerializer envelope (version 0x00010001,
// 0x01 <int32 length> <bytes> per item, 0x02), so Curator producers and
// consumers can share the queue; a Curator node holding several items
// (putMulti) is taken whole by one consumer, which returns them one by one;
// data that is not an envelope is returned as it is. Other children
// (receipts, foreign nodes) are ignored, as Curator ignores ours.
//
// Taking: read the head item's data, then delete it; the delete decides who
// gets it, so with any number of consumers each item is taken exactly once.
// Each put and take is one transaction that also writes our receipt node:
// when a reply is lost, the receipt read after the reconnect says whether it
// was applied, so a put is never doubled nor lost and a taken item never
// lost nor taken twice.
//
// Cost: the sorted list of items is cached and only listed again when this
// object has used it up (a FIFO queue's new items always sort after it), so
// a long queue costs one listing, then one read and one transaction per take
// (or per batch: take_batch reads its items in one pipelined round trip and
// deletes them in one transaction). A priority queue lists again after a
// change (a put may sort first), once at least min_items_before_refresh items
// were taken from the listing (Curator's minItemsBeforeRefresh; 0: strictly
// by priority). Consumers all try the head first, so k consumers racing for
// one item spend k reads and k transactions on it: one wins; the losers skip
// that name in later listings (another consumer's delete can be decided at
// the server before reads stop showing the item) instead of retrying it.
// A consumer waiting on an empty queue holds one child watch on <path>; any
// change of the children (a put, a take, a receipt made or removed) wakes
// every waiting consumer once, each lists once, one takes the item and the
// rest go back to waiting. That is unavoidable without a consumer registry:
// one event and one listing per waiting consumer per change of an empty
// queue (the test counts them on the wire: 4 waiters and 4 puts cost about
// 20 events and 20 listings).
//
// Faults:
//   * Connection suspended: calls wait for the reconnect (until their
//     deadline) and go on; a waiting take keeps waiting (its watch is re-armed
//     after the reconnect). Nothing is leaked: items are persistent, the
//     receipt is ephemeral.
//   * Session expired: calls fail with sessionExpired; the receipt is gone
//     and made again with the next session, so the object can be used again.
//     A transaction whose reply was lost when the session expired cannot be
//     resolved: a put may or may not have been queued, a take's items may have
//     been deleted (at most once: they are never delivered twice).
//   * Lost replies: resolved by the receipt, as above.
//
// Put from any fiber; take, take_batch and peek on one object run one fiber
// at a time (others wait their turn; nobody holds the turn while waiting for
// items). The destructor removes the receipt; items are the queue's and stay.
#pragma once

#include <boost/fiber/mutex.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "corral/recipes/znodes.h"

namespace corral::recipes {

struct QueueOptions {
  // Priority queues: take at least this many items from one listing before a
  // change makes us list again. 0: always list again after a change.
  int min_items_before_refresh = 0;
  // put_all: at most this many items, and about this many bytes, per
  // transaction (a transaction must fit in the server's jute.maxbuffer).
  std::size_t max_items_per_transaction = 1000;
  std::size_t max_bytes_per_transaction = std::size_t{512} * 1024;
};

// What Queue and PriorityQueue share: taking, peeking, sizes, the receipt.
class QueueBase {
 public:
  ~QueueBase();
  QueueBase(const QueueBase&) = delete;
  QueueBase& operator=(const QueueBase&) = delete;

  // Removes and returns the head item, waiting while the queue is empty until
  // `deadline` (then nullopt and ec = operationTimeout).
  std::optional<std::string> take(Clock::time_point deadline, std::error_code& ec);
  // nullopt on timeout; throws std::system_error on other errors.
  std::optional<std::string> take(std::chrono::milliseconds timeout);
  // Blocks until there is an item.
  std::string take();
  // Without waiting: nullopt when empty.
  std::optional<std::string> poll();

  // Removes and returns up to `max` items (in queue order) in one
  // transaction, waiting until there is at least one or `deadline` passes
  // (then empty and ec = operationTimeout).
  std::vector<std::string> take_batch(std::size_t max, Clock::time_point deadline, std::error_code& ec);
  std::vector<std::string> take_batch(std::size_t max, std::chrono::milliseconds timeout);

  // The head item, left in the queue; nullopt when empty.
  std::optional<std::string> peek(std::error_code& ec);
  std::optional<std::string> peek();

  // The number of items in the queue now (one listing).
  std::size_t size(std::error_code& ec);
  std::size_t size();

  const std::string& path() const { return path_; }
  // How many transaction replies were lost (connection dropped) and resolved
  // by reading the receipt.
  uint64_t lost_replies() const { return lost_replies_; }

  // Curator's ItemSerializer envelope of one item, and the items of one
  // (nullopt when `data` is not an envelope).
  static std::string encode_item(std::string_view item);
  static std::optional<std::vector<std::string>> decode_items(std::string_view data);
  // Curator's priority text: "1"/"0" for >= 0 / < 0, then 8 hex digits.
  static std::string priority_text(int32_t priority);

 protected:
  QueueBase(Client& client, std::string path, bool priority, QueueOptions options);

  // Creates `items` as <path>/<name><seq>, in order, a transaction at a time.
  void put_named(std::string_view name, const std::vector<std::string_view>& items, Clock::time_point deadline,
                 std::error_code& ec);

  Client& client_;

 private:
  struct Listing;

  // Runs the ops `ops` adds after a write of our receipt, in one
  // transaction; resolves a lost reply by reading the receipt. `applied`
  // tells whether it committed (results, without the receipt's, are empty
  // when the reply was lost).
  std::vector<MultiResult> commit(const std::function<void(Transaction&)>& ops, Clock::time_point deadline,
                                  bool& applied, std::error_code& ec);
  void ensure_receipt(Clock::time_point deadline, std::error_code& ec);
  bool retry_after(std::error_code& ec, Clock::time_point deadline);
  // Lists the items again, leaving a child watch.
  void relist(std::error_code& ec);
  bool needs_listing() const;
  // One attempt: items (up to `max`), or none and the listing to wait on.
  std::vector<std::string> try_take(std::size_t max, Clock::time_point deadline, std::error_code& ec);

  std::string path_;
  std::string receipt_path_;
  bool priority_;
  QueueOptions options_;
  bool receipt_exists_ = false;
  uint64_t last_op_ = 0;
  uint64_t lost_replies_ = 0;
  boost::fibers::mutex commit_mutex_;
  boost::fibers::mutex take_mutex_;
  std::deque<std::string> cache_;                             // item names, sorted; may hold items others took
  std::map<std::string, Clock::time_point> taken_by_others_;  // lost a race for these (when); skipped while listed
  std::shared_ptr<Listing> listing_;                          // the watch of the last listing
  int taken_since_listing_ = 0;
  std::deque<std::string> buffered_;  // taken already: the rest of a multi-item node
};

class Queue : public QueueBase {
 public:
  Queue(Client& client, std::string path, QueueOptions options = {});

  // Appends `item`: one transaction, exactly once (see the header comment).
  void put(std::string_view item, Clock::time_point deadline, std::error_code& ec);
  void put(std::string_view item);
  // Appends `items` in order, max_items_per_transaction per transaction
  // (each transaction atomic, its items consecutive).
  void put_all(const std::vector<std::string>& items, Clock::time_point deadline, std::error_code& ec);
  void put_all(const std::vector<std::string>& items);
};

class PriorityQueue : public QueueBase {
 public:
  PriorityQueue(Client& client, std::string path, QueueOptions options = {});

  // Lower numbers come out first; equal priorities in arrival order.
  void put(std::string_view item, int32_t priority, Clock::time_point deadline, std::error_code& ec);
  void put(std::string_view item, int32_t priority);
  void put_all(const std::vector<std::string>& items, int32_t priority, Clock::time_point deadline,
               std::error_code& ec);
  void put_all(const std::vector<std::string>& items, int32_t priority);
};

}  // namespace corral::recipes
