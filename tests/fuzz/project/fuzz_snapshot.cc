// Fuzz target: the snapshot reader, and loading what it reads into the core
// the way the server recovers (StandaloneServer::recover).
//
// Input: [flags][snapshot file]. flags:
//   bit 0  rewrite the CRCs so the records reach the protobuf parsers
//   bit 1  load through FileSnapshotStore::load_newest_valid, with a valid
//          older snapshot (zxid 1) next to the fuzzed one (named after its
//          header's zxid), instead of read_snapshot
//   bits 2-7  the server id (2 * bits + 1) of the core the snapshot is loaded into
//
// Checks: reading either works or throws CorruptionError or std::system_error
// (error.h); nothing else, no crash, no UB. When it works: on_begin came
// before any record, with the summary's zxid; the summary counts the records
// handed out since the last on_begin; a store with a valid snapshot never
// fails to load, and when it falls back to it, what it hands out after the
// last on_begin is exactly that snapshot. Then the records are loaded into a
// ServerCore, whose tree must keep its invariants, also after the core
// starts, expires every restored session and applies the closes.
#include <cstdint>
#include <exception>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "ensemble/core/server_core.h"
#include "ensemble/storage/error.h"
#include "ensemble/storage/file_snapshot.h"
#include "fuzz_check.h"
#include "storage_fuzz_util.h"
#include "tree_check.h"

namespace storage = corral::storage;
namespace ens = corral::ensemble;
namespace wire = corral::wire;

namespace {

constexpr int64_t kOlderZxid = 1;

// What the callbacks received since the last on_begin.
struct Received {
  int begins = 0;
  int64_t zxid = 0;
  std::vector<storage::SnapshotNode> nodes;
  std::vector<storage::SnapshotSession> sessions;
  bool same_records(const Received& o) const { return zxid == o.zxid && nodes == o.nodes && sessions == o.sessions; }
};

storage::SnapshotCallbacks callbacks_into(Received& r) {
  storage::SnapshotCallbacks cb;
  cb.on_begin = [&r](int64_t z) {
    ++r.begins;
    r.zxid = z;
    r.nodes.clear();
    r.sessions.clear();
  };
  cb.on_node = [&r](storage::SnapshotNode&& n) {
    FUZZ_CHECK(r.begins > 0, "a node before on_begin");
    r.nodes.push_back(std::move(n));
  };
  cb.on_session = [&r](storage::SnapshotSession&& s) {
    FUZZ_CHECK(r.begins > 0, "a session before on_begin");
    r.sessions.push_back(std::move(s));
  };
  return cb;
}

// A valid snapshot written by the real writer, and what reading it gives.
struct Older {
  std::string bytes;
  Received contents;
};

const Older& older() {
  static const Older o = [] {
    const auto dir = corral::fuzz::fresh_dir("snapshot-older");
    storage::SnapshotWriter w(dir, kOlderZxid);
    const wire::AclList open{{wire::perms::all, {"world", "anyone"}}};
    w.add_node({"/", "", open, 0, 0, 1, 0, 0, 0, 1, 0, 0});
    w.add_node({"/old", "data", open, 1, 1, 1, 5, 5, 0, 0, 0, 0});
    w.add_node({"/old/e", "", open, 1, 1, 1, 5, 5, 0, 0, 0, 0x0100000000000001});
    w.add_session({0x0100000000000001, 6000, std::string(16, 'p')});
    w.commit();
    Older out;
    std::FILE* f = std::fopen(w.path().c_str(), "rb");
    FUZZ_CHECK(f != nullptr, "cannot read back %s", w.path().c_str());
    char buf[4096];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) out.bytes.append(buf, n);
    std::fclose(f);
    storage::read_snapshot(w.path(), callbacks_into(out.contents));
    return out;
  }();
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  corral::fuzz::keep_stderr();
  (void)older();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t flags = data[0];
  std::string file(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (flags & 1) corral::fuzz::fix_crcs(file);
  const auto dir = corral::fuzz::fresh_dir("snapshot");
  const int64_t zxid = corral::fuzz::header_zxid(file, 2);
  const bool with_store = flags & 2;

  Received got;
  storage::SnapshotSummary summary;
  try {
    if (with_store) {
      const auto snaps = dir / "corral-1";
      corral::fuzz::fs::create_directories(snaps);
      corral::fuzz::write_file(snaps / storage::SnapshotWriter::file_name(kOlderZxid), older().bytes);
      corral::fuzz::write_file(snaps / storage::SnapshotWriter::file_name(zxid), file);
      storage::FileSnapshotStore store(dir);
      const storage::SnapshotLoad load = store.load_newest_valid(callbacks_into(got));
      FUZZ_CHECK(load.loaded.has_value(), "a store with snapshots loads none without an error");
      summary = *load.loaded;
      if (summary.zxid == kOlderZxid && zxid != kOlderZxid) {
        FUZZ_CHECK(got.same_records(older().contents),
                   "falling back to the older snapshot, the callbacks got %zu nodes and %zu sessions after the last "
                   "on_begin; the older snapshot has %zu and %zu",
                   got.nodes.size(), got.sessions.size(), older().contents.nodes.size(),
                   older().contents.sessions.size());
      }
    } else {
      const auto file_path = dir / storage::SnapshotWriter::file_name(zxid);
      corral::fuzz::write_file(file_path, file);
      summary = storage::read_snapshot(file_path, callbacks_into(got));
    }
  } catch (const storage::CorruptionError& e) {
    FUZZ_CHECK(!with_store || zxid == kOlderZxid, "the store refused to load although a valid snapshot is there: %s",
               e.what());
    return 0;  // refused, as documented
  } catch (const std::system_error&) {
    return 0;
  } catch (const std::exception& e) {
    FUZZ_CHECK(false, "reading a snapshot threw an undocumented exception: %s", e.what());
  }
  FUZZ_CHECK(got.begins >= 1 && got.zxid == summary.zxid, "on_begin called %d times, last zxid %lld, summary %lld",
             got.begins, (long long)got.zxid, (long long)summary.zxid);
  FUZZ_CHECK(summary.nodes == got.nodes.size() && summary.sessions == got.sessions.size(),
             "summary counts %llu nodes and %llu sessions, %zu and %zu handed out", (unsigned long long)summary.nodes,
             (unsigned long long)summary.sessions, got.nodes.size(), got.sessions.size());

  // Load it as the server does, serve from it: start, let every restored
  // session expire, apply the closes.
  if (summary.zxid == INT64_MAX && corral::fuzz::known_bug("zxid-max")) return 0;
  ens::CoreConfig config;
  config.server_id = (flags >> 2) * 2 + 1;  // odd ids 1..127
  ens::ServerCore core(config);
  ens::DataTree& tree = core.tree();
  for (const auto& n : got.nodes) {
    const wire::Stat stat{n.czxid,    n.mzxid,           n.ctime, n.mtime, n.version, n.cversion,
                          n.aversion, n.ephemeral_owner, 0,       0,       n.pzxid};
    (void)tree.load_node(ens::NodeImage{n.path, n.data, &n.acl, stat});
  }
  for (const auto& s : got.sessions) core.restore_session(s.id, s.timeout_ms, s.password);
  tree.set_last_zxid(summary.zxid);
  corral::fuzz::check_tree(tree, "tree loaded from a snapshot");

  const int64_t start = 1'700'000'000'000;
  const int64_t later = start + (int64_t{1} << 40);
  try {
    core.start(start);
  } catch (const std::runtime_error&) {
    return 0;  // a recovered zxid with no room left is refused, as documented
  }
  core.tick(later);
  ens::Effects e = core.take_effects();
  if (!e.log.empty()) core.synced(e.log.back().zxid(), later);
  (void)core.take_effects();
  corral::fuzz::check_tree(tree, "tree after the restored sessions expired");
  return 0;
}
