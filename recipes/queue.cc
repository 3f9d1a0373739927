#include "corral/recipes/queue.h"

#include "recipes/throwing.h"

#include <algorithm>
#include <cstdio>
#include <mutex>

#include "recipes/signal.h"

namespace corral::recipes {
namespace {

constexpr std::string_view item_prefix = "queue-";

// Curator's ItemSerializer.
constexpr uint32_t envelope_version = 0x00010001;
constexpr char item_opcode = 0x01;
constexpr char eof_opcode = 0x02;

void put_be32(std::string& out, uint32_t v) {
  out.push_back(static_cast<char>(v >> 24));
  out.push_back(static_cast<char>(v >> 16));
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

bool get_be32(std::string_view& in, uint32_t& v) {
  if (in.size() < 4) return false;
  v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(in[static_cast<std::size_t>(i)]);
  in.remove_prefix(4);
  return true;
}

std::vector<std::string> sorted_items(std::vector<std::string> names) {
  std::erase_if(names, [](const std::string& n) { return !n.starts_with(item_prefix); });
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

// The child watch of one listing: set when the items changed since.
struct QueueBase::Listing {
  bool changed = false;
  Signal signal;
};

std::string QueueBase::encode_item(std::string_view item) {
  std::string out;
  out.reserve(item.size() + 10);
  put_be32(out, envelope_version);
  out.push_back(item_opcode);
  put_be32(out, static_cast<uint32_t>(item.size()));
  out.append(item);
  out.push_back(eof_opcode);
  return out;
}

std::optional<std::vector<std::string>> QueueBase::decode_items(std::string_view data) {
  uint32_t version = 0;
  if (!get_be32(data, version) || version != envelope_version) return std::nullopt;
  std::vector<std::string> items;
  while (true) {
    if (data.empty()) return std::nullopt;
    const char op = data.front();
    data.remove_prefix(1);
    if (op == eof_opcode) return items;  // Curator ignores what follows; so do we
    uint32_t size = 0;
    if (op != item_opcode || !get_be32(data, size) || size > data.size() || size > 0x7fffffffu) return std::nullopt;
    items.emplace_back(data.substr(0, size));
    data.remove_prefix(size);
  }
}

std::string QueueBase::priority_text(int32_t priority) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%s%08X", priority >= 0 ? "1" : "0",
                static_cast<unsigned>(static_cast<uint32_t>(priority)));
  return buf;
}

QueueBase::QueueBase(Client& client, std::string path, bool priority, QueueOptions options)
    : client_(client),
      path_(std::move(path)),
      receipt_path_(join(path_, protected_prefix(new_protected_id()) + "receipt")),
      priority_(priority),
      options_(options) {}

QueueBase::~QueueBase() {
  if (!receipt_exists_) return;
  if (client_.state() != SessionState::connected && client_.state() != SessionState::reconnected) return;
  std::error_code ignored;
  client_.remove(receipt_path_, -1, ignored);
}

bool QueueBase::retry_after(std::error_code& ec, Clock::time_point deadline) {
  if (retry_after_connection_loss(client_, ec, deadline)) return true;
  if (ec == Error::sessionExpired) receipt_exists_ = false;  // it went with the session
  return false;
}

void QueueBase::ensure_receipt(Clock::time_point deadline, std::error_code& ec) {
  ec.clear();
  if (receipt_exists_) return;
  CreateOptions ephemeral;
  ephemeral.mode = CreateMode::ephemeral;
  while (true) {
    client_.create(receipt_path_, "0", ephemeral, ec);
    if (!ec) {
      receipt_exists_ = true;
      last_op_ = 0;
      return;
    }
    if (ec == Error::noNode) {
      ensure_path(client_, path_, ec);
      if (!ec) continue;
    }
    if (ec == Error::nodeExists) {
      // An earlier try whose reply was lost: it is ours if our session owns it.
      const auto stat = client_.exists(receipt_path_, {}, ec);
      if (!ec && !stat) continue;
      if (!ec) {
        if (stat->ephemeralOwner != client_.session_id()) {
          ec = Error::nodeExists;
          return;
        }
        receipt_exists_ = true;
        std::error_code rec;
        const auto d = client_.get(receipt_path_, {}, rec);
        last_op_ = rec ? 0 : std::strtoull(d.data.c_str(), nullptr, 10);
        return;
      }
    }
    if (!retry_after(ec, deadline)) return;
  }
}

std::vector<MultiResult> QueueBase::commit(const std::function<void(Transaction&)>& ops, Clock::time_point deadline,
                                           bool& applied, std::error_code& ec) {
  std::unique_lock lock(commit_mutex_);
  applied = false;
  while (true) {
    ensure_receipt(deadline, ec);
    if (ec) return {};
    const std::string id = std::to_string(++last_op_);
    Transaction t;
    t.set(receipt_path_, id, -1);
    ops(t);
    auto results = client_.multi(t, ec);
    if (!ec) {
      applied = true;
      results.erase(results.begin());
      return results;
    }
    if (ec == Error::connectionLoss) {
      // Did it commit? Our receipt says: it holds the id of our last commit.
      ++lost_replies_;
      while (true) {
        ec = Error::connectionLoss;
        if (!retry_after(ec, deadline)) return {};
        std::error_code rec;
        client_.sync(path_, rec);
        const auto d = rec ? NodeData{} : client_.get(receipt_path_, {}, rec);
        if (rec == Error::connectionLoss) continue;
        if (rec == Error::noNode || rec == Error::sessionExpired) {
          // The session that sent it is gone, and its receipt with it.
          receipt_exists_ = false;
          ec = Error::sessionExpired;
          return {};
        }
        if (rec) {
          ec = rec;
          return {};
        }
        if (d.data == id) {
          applied = true;
          ec.clear();
          return {};
        }
        break;  // not applied: again
      }
      continue;
    }
    if (!results.empty() && results.front().err == static_cast<int32_t>(Error::noNode)) {
      receipt_exists_ = false;  // a new session: make the receipt again
      continue;
    }
    if (ec == Error::sessionExpired) receipt_exists_ = false;
    if (!results.empty()) results.erase(results.begin());
    return results;
  }
}

void QueueBase::put_named(std::string_view name, const std::vector<std::string_view>& items, Clock::time_point deadline,
                          std::error_code& ec) {
  ec.clear();
  const std::string prefix = join(path_, name);
  CreateOptions sequential;
  sequential.mode = CreateMode::persistentSequential;
  std::size_t i = 0;
  while (i < items.size()) {
    std::size_t bytes = 0;
    std::size_t j = i;
    for (; j < items.size() && j - i < options_.max_items_per_transaction; ++j) {
      const std::size_t cost = items[j].size() + prefix.size() + 64;
      if (j > i && bytes + cost > options_.max_bytes_per_transaction) break;
      bytes += cost;
    }
    bool applied = false;
    commit(
        [&](Transaction& t) {
          for (std::size_t k = i; k < j; ++k) t.create(prefix, encode_item(items[k]), sequential);
        },
        deadline, applied, ec);
    if (ec) return;
    i = j;
  }
}

void QueueBase::relist(std::error_code& ec) {
  auto listing = std::make_shared<Listing>();
  const Watcher watcher = [listing](const WatchedEvent&) {
    listing->changed = true;
    listing->signal.notify();
  };
  while (true) {
    auto kids = client_.children(path_, watcher, ec);
    if (ec == Error::noNode) {
      // No queue yet (or the container went): wait for it to appear.
      const auto there = client_.exists(path_, watcher, ec);
      if (ec) return;
      if (there) continue;
      kids.names.clear();
    } else if (ec) {
      return;
    }
    auto items = sorted_items(std::move(kids.names));
    // Items another consumer took may still be listed for a moment (its
    // delete is decided but not yet visible to reads): skip them until a
    // listing no longer has them, rather than lose the race again and again.
    // (For a second at most: a delete that never happens, say a proposal lost
    // with a leader, must not hide an item from us for good.)
    const auto now = Clock::now();
    std::erase_if(taken_by_others_, [&](const auto& entry) {
      return now - entry.second > std::chrono::seconds(1) ||
             !std::binary_search(items.begin(), items.end(), entry.first);
    });
    std::erase_if(items, [&](const std::string& name) { return taken_by_others_.contains(name); });
    cache_.assign(items.begin(), items.end());
    listing_ = std::move(listing);
    taken_since_listing_ = 0;
    return;
  }
}

bool QueueBase::needs_listing() const {
  if (cache_.empty() || !listing_) return true;
  return priority_ && listing_->changed && taken_since_listing_ >= options_.min_items_before_refresh;
}

std::vector<std::string> QueueBase::try_take(std::size_t max, Clock::time_point deadline, std::error_code& ec) {
  std::vector<std::string> out;
  while (!buffered_.empty() && out.size() < max) {
    out.push_back(std::move(buffered_.front()));
    buffered_.pop_front();
  }
  if (!out.empty()) return out;
  ensure_receipt(deadline, ec);
  if (ec) return {};
  // Items others took before us are skipped cheaply: read a few ahead.
  constexpr std::size_t lookahead = 4;
  while (true) {
    if (needs_listing()) {
      relist(ec);
      if (ec || cache_.empty()) return {};
    }
    const std::size_t look = std::min(cache_.size(), max + lookahead);
    std::vector<boost::fibers::future<Result<NodeData>>> reads;
    reads.reserve(look);
    for (std::size_t i = 0; i < look; ++i) reads.push_back(client_.async_get(join(path_, cache_[i])));
    struct Candidate {
      std::string name;
      std::string data;
    };
    std::vector<Candidate> got;
    std::vector<std::string> gone;
    for (std::size_t i = 0; i < look; ++i) {
      auto r = reads[i].get();
      if (r.error == Error::noNode) {
        gone.push_back(cache_[i]);
      } else if (r.error) {
        if (!ec) ec = r.error;
      } else if (got.size() < max) {
        got.push_back({cache_[i], std::move(r.value.data)});
      }
    }
    if (ec) return {};
    const auto drop = [&](const std::string& name) {
      if (const auto it = std::find(cache_.begin(), cache_.end(), name); it != cache_.end()) cache_.erase(it);
    };
    for (const auto& g : gone) drop(g);
    // Delete them in one transaction; when one went meanwhile, without it.
    while (!got.empty()) {
      bool applied = false;
      const auto results = commit(
          [&](Transaction& t) {
            for (const auto& c : got) t.remove(join(path_, c.name), -1);
          },
          deadline, applied, ec);
      if (applied) {
        std::vector<std::string> items;
        for (auto& c : got) {
          drop(c.name);
          if (auto decoded = decode_items(c.data)) {
            for (auto& item : *decoded) items.push_back(std::move(item));
          } else {
            items.push_back(std::move(c.data));
          }
        }
        taken_since_listing_ += static_cast<int>(got.size());
        for (auto& item : items) {
          if (out.size() < max) {
            out.push_back(std::move(item));
          } else {
            buffered_.push_back(std::move(item));
          }
        }
        if (!out.empty()) return out;
        break;  // only empty Curator nodes: look again
      }
      if (!ec) return {};
      std::size_t lost = results.size();
      for (std::size_t i = 0; i < results.size() && i < got.size(); ++i) {
        if (results[i].err == static_cast<int32_t>(Error::noNode)) {
          lost = i;
          break;
        }
      }
      if (lost == results.size()) return {};  // not a race: give the error back
      ec.clear();
      taken_by_others_.emplace(got[lost].name, Clock::now());
      drop(got[lost].name);  // another consumer took it
      got.erase(got.begin() + static_cast<std::ptrdiff_t>(lost));
    }
  }
}

std::vector<std::string> QueueBase::take_batch(std::size_t max, Clock::time_point deadline, std::error_code& ec) {
  ec.clear();
  if (max == 0) return {};
  while (true) {
    std::shared_ptr<Listing> wait_on;
    {
      std::unique_lock lock(take_mutex_);
      auto out = try_take(max, deadline, ec);
      if (!out.empty()) {
        ec.clear();
        return out;
      }
      wait_on = listing_;
    }
    if (ec) {
      if (retry_after(ec, deadline)) continue;
      return {};
    }
    // Empty: wait for the child watch of our listing.
    if (!wait_on || !wait_on->signal.wait_until(deadline)) {
      ec = Error::operationTimeout;
      return {};
    }
  }
}

std::optional<std::string> QueueBase::take(Clock::time_point deadline, std::error_code& ec) {
  auto items = take_batch(1, deadline, ec);
  if (items.empty()) return std::nullopt;
  return std::move(items.front());
}

std::optional<std::string> QueueBase::take(std::chrono::milliseconds timeout) {
  return or_throw_unless_timeout("take from", path_,
                                 [&](std::error_code& ec) { return take(Clock::now() + timeout, ec); });
}

std::string QueueBase::take() {
  // Without a deadline it returns an item or fails.
  return *or_throw("take from", path_, [&](std::error_code& ec) { return take(Clock::time_point::max(), ec); });
}

std::optional<std::string> QueueBase::poll() { return take(std::chrono::milliseconds(0)); }

std::vector<std::string> QueueBase::take_batch(std::size_t max, std::chrono::milliseconds timeout) {
  return or_throw_unless_timeout("take from", path_,
                                 [&](std::error_code& ec) { return take_batch(max, Clock::now() + timeout, ec); });
}

std::optional<std::string> QueueBase::peek(std::error_code& ec) {
  ec.clear();
  const auto deadline = Clock::now() + client_.negotiated_timeout();
  std::unique_lock lock(take_mutex_);
  if (!buffered_.empty()) return buffered_.front();
  while (true) {
    if (needs_listing()) {
      relist(ec);
      if (ec) {
        if (retry_after(ec, deadline)) continue;
        return std::nullopt;
      }
      if (cache_.empty()) return std::nullopt;
    }
    auto d = client_.get(join(path_, cache_.front()), {}, ec);
    if (ec == Error::noNode) {
      cache_.pop_front();
      continue;
    }
    if (ec) {
      if (retry_after(ec, deadline)) continue;
      return std::nullopt;
    }
    auto decoded = decode_items(d.data);
    if (!decoded) return std::move(d.data);
    if (decoded->empty()) {
      cache_.pop_front();  // an empty Curator node: nothing to see
      continue;
    }
    return std::move(decoded->front());
  }
}

std::optional<std::string> QueueBase::peek() {
  return or_throw("peek at", path_, [&](std::error_code& ec) { return peek(ec); });
}

std::size_t QueueBase::size(std::error_code& ec) {
  auto kids = client_.children(path_, {}, ec);
  if (ec == Error::noNode) {
    ec.clear();
    return 0;
  }
  return sorted_items(std::move(kids.names)).size();
}

std::size_t QueueBase::size() {
  return or_throw("size of", path_, [&](std::error_code& ec) { return size(ec); });
}

// ---- Queue ----------------------------------------------------------------------------

Queue::Queue(Client& client, std::string path, QueueOptions options)
    : QueueBase(client, std::move(path), false, options) {}

void Queue::put(std::string_view item, Clock::time_point deadline, std::error_code& ec) {
  put_named(item_prefix, {item}, deadline, ec);
}

void Queue::put(std::string_view item) {
  or_throw("put into", path(), [&](std::error_code& ec) { put(item, Clock::time_point::max(), ec); });
}

void Queue::put_all(const std::vector<std::string>& items, Clock::time_point deadline, std::error_code& ec) {
  put_named(item_prefix, {items.begin(), items.end()}, deadline, ec);
}

void Queue::put_all(const std::vector<std::string>& items) {
  or_throw("put into", path(), [&](std::error_code& ec) { put_all(items, Clock::time_point::max(), ec); });
}

// ---- PriorityQueue --------------------------------------------------------------------

PriorityQueue::PriorityQueue(Client& client, std::string path, QueueOptions options)
    : QueueBase(client, std::move(path), true, options) {}

void PriorityQueue::put(std::string_view item, int32_t priority, Clock::time_point deadline, std::error_code& ec) {
  put_named(std::string(item_prefix) + priority_text(priority), {item}, deadline, ec);
}

void PriorityQueue::put(std::string_view item, int32_t priority) {
  or_throw("put into", path(), [&](std::error_code& ec) { put(item, priority, Clock::time_point::max(), ec); });
}

void PriorityQueue::put_all(const std::vector<std::string>& items, int32_t priority, Clock::time_point deadline,
                            std::error_code& ec) {
  put_named(std::string(item_prefix) + priority_text(priority), {items.begin(), items.end()}, deadline, ec);
}

void PriorityQueue::put_all(const std::vector<std::string>& items, int32_t priority) {
  or_throw("put into", path(), [&](std::error_code& ec) { put_all(items, priority, Clock::time_point::max(), ec); });
}

}  // namespace corral::recipes
