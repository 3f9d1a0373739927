// Fuzz target: FileTxnLog recovery over segment files of arbitrary content.
//
// Input: [flags] then 1 to 3 segments; every segment but the last is preceded
// by its length (2 bytes, big-endian). flags:
//   bit 0     rewrite the CRCs so the records reach the Txn parser
//   bits 1-2  number of segments - 1 (3 means 1)
//   bit 3     after recovery, append a txn, sync, and reopen
//   bit 4     after recovery, truncate_after() the middle txn, and reopen
//   bit 5     name each segment one past its header's zxid (a mismatch)
// A segment is named after the zxid in its header, as the log names them.
//
// Checks: opening the log either works or throws CorruptionError or
// std::system_error (error.h); nothing else, no crash, no UB. When it works:
// replay() visits txns in strictly increasing zxid order and replay(after)
// visits exactly the later ones; last_zxid() is the last txn's; the log opens
// again without complaint and holds the same txns (recovery is idempotent);
// an append after recovery, and a truncation, survive a reopen.
#include <algorithm>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "ensemble/storage/error.h"
#include "ensemble/storage/file_txn_log.h"
#include "fuzz_check.h"
#include "storage_fuzz_util.h"
#include "txn.pb.h"

namespace storage = corral::storage;
using corral::fuzz::fs::path;

namespace {

std::vector<std::string> all_txns(storage::FileTxnLog& log, int64_t after, std::vector<int64_t>* zxids = nullptr) {
  std::vector<std::string> out;
  int64_t prev = after;
  const uint64_t n = log.replay(after, [&](const corral::proto::Txn& t) {
    FUZZ_CHECK(t.zxid() > prev, "replay(%lld) visits zxid %lld after %lld", (long long)after, (long long)t.zxid(),
               (long long)prev);
    prev = t.zxid();
    if (zxids) zxids->push_back(t.zxid());
    out.push_back(t.SerializeAsString());
  });
  FUZZ_CHECK(n == out.size(), "replay says %llu txns, visited %zu", (unsigned long long)n, out.size());
  return out;
}

// Everything after a successful recovery: any exception here is a bug.
void after_recovery(std::unique_ptr<storage::FileTxnLog> recovered, const path& dir, uint8_t flags) {
  std::vector<int64_t> zxids;
  std::vector<std::string> txns;
  int64_t last = 0;
  {
    storage::FileTxnLog& log = *recovered;
    const auto starts = log.segment_starts();
    FUZZ_CHECK(std::adjacent_find(starts.begin(), starts.end(), std::greater_equal<>()) == starts.end(),
               "segment starts out of order");
    txns = all_txns(log, 0, &zxids);
    last = log.last_zxid();
    if (!zxids.empty())
      FUZZ_CHECK(last == zxids.back(), "last_zxid %lld, last txn %lld", (long long)last, (long long)zxids.back());
    if (!zxids.empty()) {
      const std::size_t mid = zxids.size() / 2;
      const auto tail = all_txns(log, zxids[mid]);
      FUZZ_CHECK(tail.size() == zxids.size() - mid - 1, "replay(%lld) visits %zu of %zu", (long long)zxids[mid],
                 tail.size(), zxids.size() - mid - 1);
    }
    recovered.reset();
  }
  {
    // Recovery left a clean log: opening it again changes nothing.
    storage::FileTxnLog again(dir);
    FUZZ_CHECK(again.last_zxid() == last, "reopened log: last_zxid %lld, was %lld", (long long)again.last_zxid(),
               (long long)last);
    FUZZ_CHECK(all_txns(again, 0) == txns, "reopened log holds other txns");
  }
  if ((flags & 8) && last >= 0 && last < INT64_MAX) {
    corral::proto::Txn t;
    t.set_zxid(last + 1);
    t.set_session_id(7);
    t.add_ops()->mutable_delete_()->set_path("/appended");
    {
      storage::FileTxnLog log(dir, storage::FileTxnLog::Options{4096, 4096});
      log.append(t);
      log.sync();
    }
    storage::FileTxnLog log(dir);
    auto got = all_txns(log, 0);
    txns.push_back(t.SerializeAsString());
    FUZZ_CHECK(got == txns && log.last_zxid() == last + 1, "an append after recovery did not survive a reopen");
  } else if ((flags & 16) && zxids.size() >= 2) {
    const int64_t cut = zxids[zxids.size() / 2];
    {
      storage::FileTxnLog log(dir);
      log.truncate_after(cut);
      FUZZ_CHECK(log.last_zxid() == cut, "truncate_after(%lld) left last_zxid %lld", (long long)cut,
                 (long long)log.last_zxid());
    }
    storage::FileTxnLog log(dir);
    txns.resize(zxids.size() / 2 + 1);
    FUZZ_CHECK(all_txns(log, 0) == txns, "truncate_after(%lld) did not survive a reopen", (long long)cut);
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  corral::fuzz::keep_stderr();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t flags = data[0];
  std::size_t pos = 1;
  const int count = 1 + ((flags >> 1) & 3) % 3;
  const path root = corral::fuzz::fresh_dir("txnlog");
  const path dir = root / "corral-1";
  corral::fuzz::fs::create_directories(dir);
  for (int k = 0; k < count; ++k) {
    std::size_t len = size - pos;
    if (k + 1 < count) {
      if (size - pos < 2) break;
      len = std::min<std::size_t>((std::size_t{data[pos]} << 8) | data[pos + 1], size - pos - 2);
      pos += 2;
    }
    std::string seg(reinterpret_cast<const char*>(data) + pos, len);
    pos += len;
    if (flags & 1) corral::fuzz::fix_crcs(seg);
    int64_t name = corral::fuzz::header_zxid(seg, k + 1);
    if (flags & 32) name = static_cast<int64_t>(static_cast<uint64_t>(name) + 1);
    corral::fuzz::write_file(dir / storage::detail::zxid_file_name("log.", name), seg);
  }

  std::unique_ptr<storage::FileTxnLog> log;
  try {
    log = std::make_unique<storage::FileTxnLog>(root, storage::FileTxnLog::Options{4096, 4096});
  } catch (const storage::CorruptionError&) {
    return 0;  // refused, as documented
  } catch (const std::system_error&) {
    return 0;
  } catch (const std::exception& e) {
    FUZZ_CHECK(false, "recovery threw an undocumented exception: %s", e.what());
  }
  try {
    after_recovery(std::move(log), root, flags);
  } catch (const std::exception& e) {
    FUZZ_CHECK(false, "a recovered log failed: %s", e.what());
  }
  return 0;
}
