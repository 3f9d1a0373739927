// Cross-checks corral::wire against the official ZooKeeper C client's own jute
// serializers (libzookeeper_mt, the `serialize_<Record>` / `deserialize_<Record>`
// functions over a buffer archive).
//
// For every record both sides define, and for the same values:
//   * the bytes we encode equal the bytes the C client encodes;
//   * we decode the C client's bytes back to the same values, consuming all of them;
//   * the C client decodes our bytes back to the same values, consuming all of them;
//   * every strict prefix of the bytes is refused by our decoder, and by the C
//     client's too for records without vectors (see CORRAL_C_VECTORS).
// Multi requests and responses have no public C serializer (zookeeper.c builds
// them inline from MultiHeader plus per-op records); they are composed here the
// same way from the C serializers.
//
// The C client's strings are NUL-terminated `char*`, so string (ustring) fields
// are never given NULs here; buffers are, freely.
#include <gtest/gtest.h>
#include <zookeeper/proto.h>
#include <zookeeper/recordio.h>
#include <zookeeper/zookeeper.h>
#include <zookeeper/zookeeper.jute.h>

#include <cstdint>
#include <deque>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "corral/wire/error.h"
#include "corral/wire/protocol.h"
#include "corral/wire/records.h"

namespace {

namespace w = corral::wire;

constexpr int32_t kI32Min = std::numeric_limits<int32_t>::min();
constexpr int32_t kI32Max = std::numeric_limits<int32_t>::max();
constexpr int64_t kI64Min = std::numeric_limits<int64_t>::min();
constexpr int64_t kI64Max = std::numeric_limits<int64_t>::max();

// ---- sample values ----------------------------------------------------------

template <class T>
const T& pick(const std::vector<T>& v, std::size_t i) {
  return v[i % v.size()];
}

std::string all_byte_values(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i * 7 + 3);
  return s;
}

// String (ustring) fields: no NULs, but high bytes and non-ASCII are fine.
const std::vector<std::string> kStrings = {
    "",
    "/",
    "/a",
    "/zoo/keeper/node-0000000001",
    "/\xc3\xbcn\xc3\xaf/\xe6\x97\xa5\xe6\x9c\xac",  // "/ünï/日本"
    "/\x01\x7f\x80\xfe\xff",
    "/" + std::string(300, 'p'),  // longer than the C archive's initial 128 bytes
    "digest",
};

// Buffer fields: anything, NULs included.
const std::vector<std::string> kBlobs = {
    "",
    std::string(1, '\0'),
    std::string("\0\x01\x02\xff\0", 5),
    "plain text",
    all_byte_values(4096),
    std::string(16, '\0'),
    std::string("\xff\xff\xff\xff", 4),  // looks like a null length
};

const std::vector<int32_t> kI32 = {0, 1, -1, 0x01020304, kI32Min, kI32Max, -101, 31};
const std::vector<int64_t> kI64 = {0, 1, -1, 0x0102030405060708, kI64Min, kI64Max, 0x7f00000000000001, -0x100000000};

const std::vector<std::vector<std::string>> kStringLists = {
    {},
    {""},
    {"a"},
    {"/a", "/b/c", "", "\xc3\xbc", std::string(200, 'x')},
    [] {
      std::vector<std::string> v;
      for (int i = 0; i < 100; ++i) v.push_back("/n-" + std::to_string(i));
      return v;
    }(),
};

const std::vector<w::AclList> kAclLists = {
    {},
    {w::Acl{w::perms::all, w::Id{"world", "anyone"}}},
    {w::Acl{w::perms::read | w::perms::admin, w::Id{"digest", "user:Zm9vYmFy="}}, w::Acl{0, w::Id{"ip", "10.0.0.0/8"}},
     w::Acl{-1, w::Id{"sasl", "\xc3\xbc"}}, w::Acl{kI32Min, w::Id{"", ""}}},
};

w::Stat make_stat(std::size_t i) {
  return w::Stat{pick(kI64, i),     pick(kI64, i + 1), pick(kI64, i + 2), pick(kI64, i + 3),
                 pick(kI32, i),     pick(kI32, i + 1), pick(kI32, i + 2), pick(kI64, i + 4),
                 pick(kI32, i + 3), pick(kI32, i + 4), pick(kI64, i + 5)};
}

constexpr std::size_t kSamples = 8;

// Builds kSamples values of a record, the i-th from the i-th picks.
template <class T, class F>
std::vector<T> samples(F make) {
  std::vector<T> out;
  for (std::size_t i = 0; i < kSamples; ++i) out.push_back(make(i));
  return out;
}

std::string hex(std::string_view s) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i) out.push_back(i % 32 == 0 ? '\n' : ' ');
    const auto b = static_cast<unsigned char>(s[i]);
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

// ---- C views of our values, and back ------------------------------------------

// Owns the pointer arrays that C views of our records point into; the strings
// themselves stay in our record, which outlives the view.
class Keep {
 public:
  char* str(const std::string& s) {
    EXPECT_EQ(s.find('\0'), std::string::npos) << "a C string cannot hold a NUL";
    return const_cast<char*>(s.c_str());
  }
  ::buffer buf(const std::string& s) { return ::buffer{static_cast<int32_t>(s.size()), const_cast<char*>(s.data())}; }
  ::Id id(const w::Id& v) { return ::Id{str(v.scheme), str(v.id)}; }
  ::ACL acl(const w::Acl& v) { return ::ACL{v.perms, id(v.id)}; }
  ::ClientInfo client_info(const w::ClientInfo& v) { return ::ClientInfo{str(v.authScheme), str(v.user)}; }
  ::String_vector strings(const std::vector<std::string>& v) {
    auto& a = strings_.emplace_back();
    for (const auto& s : v) a.push_back(str(s));
    return ::String_vector{static_cast<int32_t>(v.size()), a.data()};
  }
  ::ACL_vector acls(const w::AclList& v) {
    auto& a = acls_.emplace_back();
    for (const auto& e : v) a.push_back(acl(e));
    return ::ACL_vector{static_cast<int32_t>(v.size()), a.data()};
  }
  ::ClientInfo_vector client_infos(const std::vector<w::ClientInfo>& v) {
    auto& a = infos_.emplace_back();
    for (const auto& e : v) a.push_back(client_info(e));
    return ::ClientInfo_vector{static_cast<int32_t>(v.size()), a.data()};
  }

 private:
  std::deque<std::vector<char*>> strings_;
  std::deque<std::vector<::ACL>> acls_;
  std::deque<std::vector<::ClientInfo>> infos_;
};

::Stat c_stat(const w::Stat& s) {
  return ::Stat{s.czxid,    s.mzxid,          s.ctime,      s.mtime,       s.version, s.cversion,
                s.aversion, s.ephemeralOwner, s.dataLength, s.numChildren, s.pzxid};
}

std::string ours(const char* s) { return s ? std::string(s) : std::string(); }
std::string ours(const ::buffer& b) {
  return b.len > 0 && b.buff ? std::string(b.buff, static_cast<std::size_t>(b.len)) : "";
}
w::Id ours(const ::Id& v) { return w::Id{ours(v.scheme), ours(v.id)}; }
w::Acl ours(const ::ACL& v) { return w::Acl{v.perms, ours(v.id)}; }
w::ClientInfo ours(const ::ClientInfo& v) { return w::ClientInfo{ours(v.authScheme), ours(v.user)}; }
w::Stat ours(const ::Stat& s) {
  return w::Stat{s.czxid,    s.mzxid,          s.ctime,      s.mtime,       s.version, s.cversion,
                 s.aversion, s.ephemeralOwner, s.dataLength, s.numChildren, s.pzxid};
}
std::vector<std::string> ours(const ::String_vector& v) {
  std::vector<std::string> out;
  for (int32_t i = 0; i < v.count; ++i) out.push_back(ours(v.data[i]));
  return out;
}
w::AclList ours(const ::ACL_vector& v) {
  w::AclList out;
  for (int32_t i = 0; i < v.count; ++i) out.push_back(ours(v.data[i]));
  return out;
}
std::vector<w::ClientInfo> ours(const ::ClientInfo_vector& v) {
  std::vector<w::ClientInfo> out;
  for (int32_t i = 0; i < v.count; ++i) out.push_back(ours(v.data[i]));
  return out;
}

// ---- one bridge per C record: our type, conversions both ways, samples --------

template <class CT>
struct Bridge;

// Marks a record holding a vector. The C client's generated vector
// deserializers lose errors (`rc = in->end_vector(in, tag)` overwrites the
// element's failure), so on truncated input it carries on and reads later
// bytes as vector counts: it may then report success, or calloc gigabytes.
// Truncated bytes are therefore only fed to its decoder for the other records.
#define CORRAL_C_VECTORS static constexpr bool c_vector_lose_errors = true;
template <class B>
constexpr bool c_decoder_refuses_truncation() {
  return !requires { B::c_vector_lose_errors; };
}

#define CORRAL_C_RECORD(T)                                                     \
  static constexpr const char* name = #T;                                      \
  static int ser(::oarchive* oa, ::T* v) { return serialize_##T(oa, #T, v); }  \
  static int de(::iarchive* ia, ::T* v) { return deserialize_##T(ia, #T, v); } \
  static void release(::T* v) { deallocate_##T(v); }

template <>
struct Bridge<::Id> {
  CORRAL_C_RECORD(Id)
  using Ours = w::Id;
  static ::Id to_c(const Ours& v, Keep& k) { return k.id(v); }
  static Ours to_ours(const ::Id& v) { return ours(v); }
  static std::vector<Ours> samples() {
    return ::samples<Ours>([](std::size_t i) { return Ours{pick(kStrings, i), pick(kStrings, i + 3)}; });
  }
};

template <>
struct Bridge<::ACL> {
  CORRAL_C_RECORD(ACL)
  using Ours = w::Acl;
  static ::ACL to_c(const Ours& v, Keep& k) { return k.acl(v); }
  static Ours to_ours(const ::ACL& v) { return ours(v); }
  static std::vector<Ours> samples() {
    return ::samples<Ours>([](std::size_t i) {
      return Ours{pick(kI32, i), w::Id{pick(kStrings, i + 1), pick(kStrings, i + 2)}};
    });
  }
};

template <>
struct Bridge<::Stat> {
  CORRAL_C_RECORD(Stat)
  using Ours = w::Stat;
  static ::Stat to_c(const Ours& v, Keep&) { return c_stat(v); }
  static Ours to_ours(const ::Stat& v) { return ours(v); }
  static std::vector<Ours> samples() { return ::samples<Ours>(make_stat); }
};

template <>
struct Bridge<::ClientInfo> {
  CORRAL_C_RECORD(ClientInfo)
  using Ours = w::ClientInfo;
  static ::ClientInfo to_c(const Ours& v, Keep& k) { return k.client_info(v); }
  static Ours to_ours(const ::ClientInfo& v) { return ours(v); }
  static std::vector<Ours> samples() {
    return ::samples<Ours>([](std::size_t i) { return Ours{pick(kStrings, i + 5), pick(kStrings, i)}; });
  }
};

template <>
struct Bridge<::WhoAmIResponse> {
  CORRAL_C_RECORD(WhoAmIResponse)
  CORRAL_C_VECTORS
  using Ours = w::WhoAmIResponse;
  static ::WhoAmIResponse to_c(const Ours& v, Keep& k) { return ::WhoAmIResponse{k.client_infos(v.clientInfo)}; }
  static Ours to_ours(const ::WhoAmIResponse& v) { return Ours{ours(v.clientInfo)}; }
  static std::vector<Ours> samples() {
    return ::samples<Ours>([](std::size_t i) {
      Ours r;
      for (std::size_t j = 0; j < i % 4; ++j)
        r.clientInfo.push_back({pick(kStrings, i + j), pick(kStrings, i + 2 * j)});
      return r;
    });
  }
};

template <>
struct Bridge<::SetWatches> {
  CORRAL_C_RECORD(SetWatches)
  CORRAL_C_VECTORS
  using Ours = w::SetWatches;
  static ::SetWatches to_c(const Ours& v, Keep& k) {
    return ::SetWatches{v.relativeZxid, k.strings(v.dataWatches), k.strings(v.existWatches), k.strings(v.childWatches)};
  }
  static Ours to_ours(const ::SetWatches& v) {
    return Ours{v.relativeZxid, ours(v.dataWatches), ours(v.existWatches), ours(v.childWatches)};
  }
  static std::vector<Ours> samples() {
    return ::samples<Ours>([](std::size_t i) {
      return Ours{pick(kI64, i), pick(kStringLists, i), pick(kStringLists, i + 1), pick(kStringLists, i + 3)};
    });
  }
};

template <>
struct Bridge<::SetWatches2> {
  CORRAL_C_RECORD(SetWatches2)
  CORRAL_C_VECTORS
  using Ours = w::SetWatches2;
  static ::SetWatches2 to_c(const Ours& v, Keep& k) {
    return ::SetWatches2{v.relativeZxid,
                         k.strings(v.dataWatches),
                         k.strings(v.existWatches),
                         k.strings(v.childWatches),
                         k.strings(v.persistentWatches),
                         k.strings(v.persistentRecursiveWatches)};
  }
  static Ours to_ours(const ::SetWatches2& v) {
    return Ours{v.relativeZxid,       ours(v.dataWatches),       ours(v.existWatches),
                ours(v.childWatches), ours(v.persistentWatches), ours(v.persistentRecursiveWatches)};
  }
  static std::vector<Ours> samples() {
    return ::samples<Ours>([](std::size_t i) {
      return Ours{pick(kI64, i),
                  pick(kStringLists, i),
                  pick(kStringLists, i + 1),
                  pick(kStringLists, i + 2),
                  pick(kStringLists, i + 3),
                  pick(kStringLists, i + 4)};
    });
  }
};

template <>
struct Bridge<::RequestHeader> {
  CORRAL_C_RECORD(RequestHeader)
  using Ours = w::RequestHeader;
  static ::RequestHeader to_c(const Ours& v, Keep&) { return ::RequestHeader{v.xid, v.type}; }
  static Ours to_ours(const ::RequestHeader& v) { return Ours{v.xid, v.type}; }
  static std::vector<Ours> samples() {
    std::vector<Ours> out = ::samples<Ours>([](std::size_t i) { return Ours{pick(kI32, i), pick(kI32, i + 2)}; });
    out.push_back({w::xid::ping, static_cast<int32_t>(w::OpCode::ping)});
    out.push_back({w::xid::auth, static_cast<int32_t>(w::OpCode::auth)});
    out.push_back({w::xid::set_watches, static_cast<int32_t>(w::OpCode::setWatches2)});
    out.push_back({7, static_cast<int32_t>(w::OpCode::closeSession)});
    return out;
  }
};

template <>
struct Bridge<::MultiHeader> {
  CORRAL_C_RECORD(MultiHeader)
  using Ours = w::MultiHeader;
  static ::MultiHeader to_c(const Ours& v, Keep&) { return ::MultiHeader{v.type, v.done ? 1 : 0, v.err}; }
  static Ours to_ours(const ::MultiHeader& v) { return Ours{v.type, v.done != 0, v.err}; }
  static std::vector<Ours> samples() {
    return ::samples<Ours>([](std::size_t i) { return Ours{pick(kI32, i), i % 2 == 1, pick(kI32, i + 3)}; });
  }
};

template <>
struct Bridge<::AuthPacket> {
  CORRAL_C_RECORD(AuthPacket)
  using Ours = w::AuthPacket;
  static ::AuthPacket to_c(const Ours& v, Keep& k) { return ::AuthPacket{v.type, k.str(v.scheme), k.buf(v.auth)}; }
  static Ours to_ours(const ::AuthPacket& v) { return Ours{v.type, ours(v.scheme), ours(v.auth)}; }
  static std::vector<Ours> samples() {
    return ::samples<Ours>([](std::size_t i) { return Ours{pick(kI32, i), pick(kStrings, i + 7), pick(kBlobs, i)}; });
  }
};

template <>
struct Bridge<::ReplyHeader> {
  CORRAL_C_RECORD(ReplyHeader)
  using Ours = w::ReplyHeader;
  static ::ReplyHeader to_c(const Ours& v, Keep&) { return ::ReplyHeader{v.xid, v.zxid, v.err}; }
  static Ours to_ours(const ::ReplyHeader& v) { return Ours{v.xid, v.zxid, v.err}; }
  static std::vector<Ours> samples() {
    return ::samples<Ours>([](std::size_t i) { return Ours{pick(kI32, i), pick(kI64, i), pick(kI32, i + 5)}; });
  }
};

// C records of the shape {path, watch}.
template <class CT>
struct PathWatchBridge {
  using Ours = w::PathWatchRequest;
  static CT to_c(const Ours& v, Keep& k) { return CT{k.str(v.path), v.watch ? 1 : 0}; }
  static Ours to_ours(const CT& v) { return Ours{ours(v.path), v.watch != 0}; }
  static std::vector<Ours> samples() {
    return ::samples<Ours>([](std::size_t i) { return Ours{pick(kStrings, i), i % 2 == 0}; });
  }
};
template <>
struct Bridge<::GetDataRequest> : PathWatchBridge<::GetDataRequest> {
  CORRAL_C_RECORD(GetDataRequest)
};
template <>
struct Bridge<::ExistsRequest> : PathWatchBridge<::ExistsRequest> {
  CORRAL_C_RECORD(ExistsRequest)
};
template <>
struct Bridge<::GetChildrenRequest> : PathWatchBridge<::GetChildrenRequest> {
  CORRAL_C_RECORD(GetChildrenRequest)
};
template <>
struct Bridge<::GetChildren2Request> : PathWatchBridge<::GetChildren2Request> {
  CORRAL_C_RECORD(GetChildren2Request)
};

// C records made of one path.
template <class CT>
struct PathBridge {
  using Ours = w::PathRecord;
  static CT to_c(const Ours& v, Keep& k) { return CT{k.str(v.path)}; }
  static Ours to_ours(const CT& v) { return Ours{ours(v.path)}; }
  static std::vector<Ours> samples() {
    return ::samples<Ours>([](std::size_t i) { return Ours{pick(kStrings, i)}; });
  }
};
template <>
struct Bridge<::GetAllChildrenNumberRequest> : PathBridge<::GetAllChildrenNumberRequest> {
  CORRAL_C_RECORD(GetAllChildrenNumberRequest)
};
template <>
struct Bridge<::SyncRequest> : PathBridge<::SyncRequest> {
  CORRAL_C_RECORD(SyncRequest)
};
template <>
struct Bridge<::SyncResponse> : PathBridge<::SyncResponse> {
  CORRAL_C_RECORD(SyncResponse)
};
template <>
struct Bridge<::GetACLRequest> : PathBridge<::GetACLRequest> {
  CORRAL_C_RECORD(GetACLRequest)
};
template <>
struct Bridge<::CreateResponse> : PathBridge<::CreateResponse> {
  CORRAL_C_RECORD(CreateResponse)
};

template <>
struct Bridge<::GetEphemeralsRequest> {  // the field is `prefixPath` upstream
  CORRAL_C_RECORD(GetEphemeralsRequest)
  using Ours = w::GetEphemeralsRequest;
  static ::GetEphemeralsRequest to_c(const Ours& v, Keep& k) { return ::GetEphemeralsRequest{k.str(v.path)}; }
  static Ours to_ours(const ::GetEphemeralsRequest& v) { return Ours{ours(v.prefixPath)}; }
  static std::vector<Ours> samples() { return PathBridge<::SyncRequest>::samples(); }
};

template <>
struct Bridge<::SetDataRequest> {
  CORRAL_C_RECORD(SetDataRequest)
  using Ours = w::SetDataRequest;
  static ::SetDataRequest to_c(const Ours& v, Keep& k) {
    return ::SetDataRequest{k.str(v.path), k.buf(v.data), v.version};
  }
  static Ours to_ours(const ::SetDataRequest& v) { return Ours{ours(v.path), ours(v.data), v.version}; }
  static std::vector<Ours> samples() {
    return ::samples<Ours>([](std::size_t i) { return Ours{pick(kStrings, i), pick(kBlobs, i), pick(kI32, i + 2)}; });
  }
};

// C records made of one Stat.
template <class CT>
struct StatBridge {
  using Ours = w::StatResponse;
  static CT to_c(const Ours& v, Keep&) { return CT{c_stat(v.stat)}; }
  static Ours to_ours(const CT& v) { return Ours{ours(v.stat)}; }
  static std::vector<Ours> samples() {
    return ::samples<Ours>([](std::size_t i) { return Ours{make_stat(i)}; });
  }
};
template <>
struct Bridge<::SetDataResponse> : StatBridge<::SetDataResponse> {
  CORRAL_C_RECORD(SetDataResponse)
};
template <>
struct Bridge<::SetACLResponse> : StatBridge<::SetACLResponse> {
  CORRAL_C_RECORD(SetACLResponse)
};
template <>
struct Bridge<::ExistsResponse> : StatBridge<::ExistsResponse> {
  CORRAL_C_RECORD(ExistsResponse)
};

template <>
struct Bridge<::CreateRequest> {
  CORRAL_C_RECORD(CreateRequest)
  CORRAL_C_VECTORS
  using Ours = w::CreateRequest;
  static ::CreateRequest to_c(const Ours& v, Keep& k) {
    return ::CreateRequest{k.str(v.path), k.buf(v.data), k.acls(v.acl), v.flags};
  }
  static Ours to_ours(const ::CreateRequest& v) { return Ours{ours(v.path), ours(v.data), ours(v.acl), v.flags}; }
  static std::vector<Ours> samples() {
    return ::samples<Ours>([](std::size_t i) {
      return Ours{pick(kStrings, i), pick(kBlobs, i + 1), pick(kAclLists, i), pick(kI32, i)};
    });
  }
};

template <>
struct Bridge<::CreateTTLRequest> {
  CORRAL_C_RECORD(CreateTTLRequest)
  CORRAL_C_VECTORS
  using Ours = w::CreateTTLRequest;
  static ::CreateTTLRequest to_c(const Ours& v, Keep& k) {
    return ::CreateTTLRequest{k.str(v.path), k.buf(v.data), k.acls(v.acl), v.flags, v.ttl};
  }
  static Ours to_ours(const ::CreateTTLRequest& v) {
    return Ours{ours(v.path), ours(v.data), ours(v.acl), v.flags, v.ttl};
  }
  static std::vector<Ours> samples() {
    return ::samples<Ours>([](std::size_t i) {
      return Ours{pick(kStrings, i + 1), pick(kBlobs, i), pick(kAclLists, i + 1), pick(kI32, i + 1), pick(kI64, i)};
    });
  }
};

// C records of the shape {path, version}.
template <class CT>
struct PathVersionBridge {
  using Ours = w::PathVersionRequest;
  static CT to_c(const Ours& v, Keep& k) { return CT{k.str(v.path), v.version}; }
  static Ours to_ours(const CT& v) { return Ours{ours(v.path), v.version}; }
  static std::vector<Ours> samples() {
    return ::samples<Ours>([](std::size_t i) { return Ours{pick(kStrings, i), pick(kI32, i + 1)}; });
  }
};
template <>
struct Bridge<::DeleteRequest> : PathVersionBridge<::DeleteRequest> {
  CORRAL_C_RECORD(DeleteRequest)
};
template <>
struct Bridge<::CheckVersionRequest> : PathVersionBridge<::CheckVersionRequest> {
  CORRAL_C_RECORD(CheckVersionRequest)
};

template <>
struct Bridge<::SetACLRequest> {
  CORRAL_C_RECORD(SetACLRequest)
  CORRAL_C_VECTORS
  using Ours = w::SetACLRequest;
  static ::SetACLRequest to_c(const Ours& v, Keep& k) {
    return ::SetACLRequest{k.str(v.path), k.acls(v.acl), v.version};
  }
  static Ours to_ours(const ::SetACLRequest& v) { return Ours{ours(v.path), ours(v.acl), v.version}; }
  static std::vector<Ours> samples() {
    return ::samples<Ours>([](std::size_t i) {
      return Ours{pick(kStrings, i), pick(kAclLists, i + 2), pick(kI32, i + 4)};
    });
  }
};

template <>
struct Bridge<::GetACLResponse> {
  CORRAL_C_RECORD(GetACLResponse)
  CORRAL_C_VECTORS
  using Ours = w::GetACLResponse;
  static ::GetACLResponse to_c(const Ours& v, Keep& k) { return ::GetACLResponse{k.acls(v.acl), c_stat(v.stat)}; }
  static Ours to_ours(const ::GetACLResponse& v) { return Ours{ours(v.acl), ours(v.stat)}; }
  static std::vector<Ours> samples() {
    return ::samples<Ours>([](std::size_t i) { return Ours{pick(kAclLists, i), make_stat(i)}; });
  }
};

template <>
struct Bridge<::AddWatchRequest> {
  CORRAL_C_RECORD(AddWatchRequest)
  using Ours = w::AddWatchRequest;
  static ::AddWatchRequest to_c(const Ours& v, Keep& k) { return ::AddWatchRequest{k.str(v.path), v.mode}; }
  static Ours to_ours(const ::AddWatchRequest& v) { return Ours{ours(v.path), v.mode}; }
  static std::vector<Ours> samples() {
    return ::samples<Ours>([](std::size_t i) { return Ours{pick(kStrings, i), pick(kI32, i)}; });
  }
};

// C records of the shape {path, type}.
template <class CT>
struct PathTypeBridge {
  using Ours = w::PathTypeRequest;
  static CT to_c(const Ours& v, Keep& k) { return CT{k.str(v.path), v.type}; }
  static Ours to_ours(const CT& v) { return Ours{ours(v.path), v.type}; }
  static std::vector<Ours> samples() {
    return ::samples<Ours>([](std::size_t i) { return Ours{pick(kStrings, i + 2), pick(kI32, i + 3)}; });
  }
};
template <>
struct Bridge<::CheckWatchesRequest> : PathTypeBridge<::CheckWatchesRequest> {
  CORRAL_C_RECORD(CheckWatchesRequest)
};
template <>
struct Bridge<::RemoveWatchesRequest> : PathTypeBridge<::RemoveWatchesRequest> {
  CORRAL_C_RECORD(RemoveWatchesRequest)
};

template <>
struct Bridge<::WatcherEvent> {
  CORRAL_C_RECORD(WatcherEvent)
  using Ours = w::WatcherEvent;
  static ::WatcherEvent to_c(const Ours& v, Keep& k) { return ::WatcherEvent{v.type, v.state, k.str(v.path)}; }
  static Ours to_ours(const ::WatcherEvent& v) { return Ours{v.type, v.state, ours(v.path)}; }
  static std::vector<Ours> samples() {
    return ::samples<Ours>([](std::size_t i) { return Ours{pick(kI32, i), pick(kI32, i + 1), pick(kStrings, i)}; });
  }
};

template <>
struct Bridge<::ErrorResponse> {
  CORRAL_C_RECORD(ErrorResponse)
  using Ours = w::ErrorResponse;
  static ::ErrorResponse to_c(const Ours& v, Keep&) { return ::ErrorResponse{v.err}; }
  static Ours to_ours(const ::ErrorResponse& v) { return Ours{v.err}; }
  static std::vector<Ours> samples() {
    return ::samples<Ours>([](std::size_t i) { return Ours{pick(kI32, i)}; });
  }
};

template <>
struct Bridge<::Create2Response> {
  CORRAL_C_RECORD(Create2Response)
  using Ours = w::Create2Response;
  static ::Create2Response to_c(const Ours& v, Keep& k) { return ::Create2Response{k.str(v.path), c_stat(v.stat)}; }
  static Ours to_ours(const ::Create2Response& v) { return Ours{ours(v.path), ours(v.stat)}; }
  static std::vector<Ours> samples() {
    return ::samples<Ours>([](std::size_t i) { return Ours{pick(kStrings, i), make_stat(i + 1)}; });
  }
};

template <>
struct Bridge<::GetDataResponse> {
  CORRAL_C_RECORD(GetDataResponse)
  using Ours = w::GetDataResponse;
  static ::GetDataResponse to_c(const Ours& v, Keep& k) { return ::GetDataResponse{k.buf(v.data), c_stat(v.stat)}; }
  static Ours to_ours(const ::GetDataResponse& v) { return Ours{ours(v.data), ours(v.stat)}; }
  static std::vector<Ours> samples() {
    return ::samples<Ours>([](std::size_t i) { return Ours{pick(kBlobs, i), make_stat(i + 2)}; });
  }
};

template <>
struct Bridge<::GetChildrenResponse> {
  CORRAL_C_RECORD(GetChildrenResponse)
  CORRAL_C_VECTORS
  using Ours = w::GetChildrenResponse;
  static ::GetChildrenResponse to_c(const Ours& v, Keep& k) { return ::GetChildrenResponse{k.strings(v.children)}; }
  static Ours to_ours(const ::GetChildrenResponse& v) { return Ours{ours(v.children)}; }
  static std::vector<Ours> samples() {
    return ::samples<Ours>([](std::size_t i) { return Ours{pick(kStringLists, i)}; });
  }
};

template <>
struct Bridge<::GetEphemeralsResponse> {  // the field is `ephemerals` upstream
  CORRAL_C_RECORD(GetEphemeralsResponse)
  CORRAL_C_VECTORS
  using Ours = w::GetEphemeralsResponse;
  static ::GetEphemeralsResponse to_c(const Ours& v, Keep& k) { return ::GetEphemeralsResponse{k.strings(v.children)}; }
  static Ours to_ours(const ::GetEphemeralsResponse& v) { return Ours{ours(v.ephemerals)}; }
  static std::vector<Ours> samples() { return Bridge<::GetChildrenResponse>::samples(); }
};

template <>
struct Bridge<::GetAllChildrenNumberResponse> {
  CORRAL_C_RECORD(GetAllChildrenNumberResponse)
  using Ours = w::GetAllChildrenNumberResponse;
  static ::GetAllChildrenNumberResponse to_c(const Ours& v, Keep&) {
    return ::GetAllChildrenNumberResponse{v.totalNumber};
  }
  static Ours to_ours(const ::GetAllChildrenNumberResponse& v) { return Ours{v.totalNumber}; }
  static std::vector<Ours> samples() {
    return ::samples<Ours>([](std::size_t i) { return Ours{pick(kI32, i)}; });
  }
};

template <>
struct Bridge<::GetChildren2Response> {
  CORRAL_C_RECORD(GetChildren2Response)
  CORRAL_C_VECTORS
  using Ours = w::GetChildren2Response;
  static ::GetChildren2Response to_c(const Ours& v, Keep& k) {
    return ::GetChildren2Response{k.strings(v.children), c_stat(v.stat)};
  }
  static Ours to_ours(const ::GetChildren2Response& v) { return Ours{ours(v.children), ours(v.stat)}; }
  static std::vector<Ours> samples() {
    return ::samples<Ours>([](std::size_t i) { return Ours{pick(kStringLists, i), make_stat(i + 3)}; });
  }
};

// The connect records differ from ours by the trailing readOnly flag; they get
// tests of their own below and only need the C codec here.
template <>
struct Bridge<::ConnectRequest> {
  CORRAL_C_RECORD(ConnectRequest)
};
template <>
struct Bridge<::ConnectResponse> {
  CORRAL_C_RECORD(ConnectResponse)
};

#undef CORRAL_C_RECORD
#undef CORRAL_C_VECTORS

// ---- running the C client's codec ------------------------------------------------

template <class CT>
std::string c_encode(CT v) {
  ::oarchive* oa = create_buffer_oarchive();
  EXPECT_EQ(Bridge<CT>::ser(oa, &v), 0);
  std::string out(get_buffer(oa), static_cast<std::size_t>(get_buffer_len(oa)));
  close_buffer_oarchive(&oa, 1);
  return out;
}

// How many bytes an iarchive has not read yet (read one byte at a time
// through the archive's own interface until it reports E2BIG).
std::size_t unread(::iarchive* ia) {
  std::size_t n = 0;
  int32_t b = 0;
  while (ia->deserialize_Bool(ia, "rest", &b) == 0) ++n;
  return n;
}

// A record decoded by the C client; frees what the C decoder allocated.
template <class CT>
struct CDecoded {
  explicit CDecoded(std::string bytes) : in(std::move(bytes)) {
    ::iarchive* ia = create_buffer_iarchive(in.data(), static_cast<int>(in.size()));
    rc = Bridge<CT>::de(ia, &value);
    left = unread(ia);
    close_buffer_iarchive(&ia);
  }
  ~CDecoded() { Bridge<CT>::release(&value); }
  CDecoded(const CDecoded&) = delete;
  CDecoded& operator=(const CDecoded&) = delete;

  std::string in;
  CT value{};
  int rc = 0;
  std::size_t left = 0;
};

template <class T>
struct OursDecoded {
  explicit OursDecoded(std::string_view bytes) {
    w::JuteReader r(bytes);
    w::decode(r, value);
    ok = r.ok();
    at_end = r.at_end();
  }
  T value{};
  bool ok = false;
  bool at_end = false;
};

// ---- the checks, for every record --------------------------------------------

template <class CT>
class CrossCheck : public ::testing::Test {};

using CRecords =
    ::testing::Types<::Id, ::ACL, ::Stat, ::ClientInfo, ::WhoAmIResponse, ::SetWatches, ::SetWatches2, ::RequestHeader,
                     ::MultiHeader, ::AuthPacket, ::ReplyHeader, ::GetDataRequest, ::ExistsRequest,
                     ::GetChildrenRequest, ::GetChildren2Request, ::GetAllChildrenNumberRequest, ::SyncRequest,
                     ::SyncResponse, ::GetACLRequest, ::CreateResponse, ::GetEphemeralsRequest, ::SetDataRequest,
                     ::SetDataResponse, ::SetACLResponse, ::ExistsResponse, ::CreateRequest, ::CreateTTLRequest,
                     ::DeleteRequest, ::CheckVersionRequest, ::SetACLRequest, ::GetACLResponse, ::AddWatchRequest,
                     ::CheckWatchesRequest, ::RemoveWatchesRequest, ::WatcherEvent, ::ErrorResponse, ::Create2Response,
                     ::GetDataResponse, ::GetChildrenResponse, ::GetEphemeralsResponse, ::GetAllChildrenNumberResponse,
                     ::GetChildren2Response>;

struct CRecordName {
  template <class CT>
  static std::string GetName(int) {
    return Bridge<CT>::name;
  }
};
TYPED_TEST_SUITE(CrossCheck, CRecords, CRecordName);

TYPED_TEST(CrossCheck, OurBytesEqualTheCClients) {
  using B = Bridge<TypeParam>;
  const auto values = B::samples();
  for (std::size_t i = 0; i < values.size(); ++i) {
    SCOPED_TRACE(testing::Message() << B::name << " sample " << i);
    Keep keep;
    EXPECT_EQ(hex(w::encode_to_string(values[i])), hex(c_encode<TypeParam>(B::to_c(values[i], keep))));
  }
}

TYPED_TEST(CrossCheck, WeDecodeTheCClientsBytes) {
  using B = Bridge<TypeParam>;
  const auto values = B::samples();
  for (std::size_t i = 0; i < values.size(); ++i) {
    SCOPED_TRACE(testing::Message() << B::name << " sample " << i);
    Keep keep;
    const std::string bytes = c_encode<TypeParam>(B::to_c(values[i], keep));
    const OursDecoded<typename B::Ours> d(bytes);
    EXPECT_TRUE(d.ok);
    EXPECT_TRUE(d.at_end);
    EXPECT_TRUE(d.value == values[i]);
  }
}

TYPED_TEST(CrossCheck, TheCClientDecodesOurBytes) {
  using B = Bridge<TypeParam>;
  const auto values = B::samples();
  for (std::size_t i = 0; i < values.size(); ++i) {
    SCOPED_TRACE(testing::Message() << B::name << " sample " << i);
    const std::string bytes = w::encode_to_string(values[i]);
    const CDecoded<TypeParam> d(bytes);
    ASSERT_EQ(d.rc, 0);
    EXPECT_EQ(d.left, 0u);
    EXPECT_TRUE(B::to_ours(d.value) == values[i]);
    // And the C client writes back exactly what it read.
    EXPECT_EQ(hex(c_encode<TypeParam>(d.value)), hex(bytes));
  }
}

TYPED_TEST(CrossCheck, BothRefuseEveryTruncation) {
  using B = Bridge<TypeParam>;
  const auto values = B::samples();
  for (std::size_t i = 0; i < values.size(); ++i) {
    const std::string bytes = w::encode_to_string(values[i]);
    if (bytes.size() > 1024) continue;  // quadratic; the short samples cover every field
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      SCOPED_TRACE(testing::Message() << B::name << " sample " << i << " cut at " << n << " of " << bytes.size());
      const std::string cut = bytes.substr(0, n);
      EXPECT_FALSE(OursDecoded<typename B::Ours>(cut).ok);
      if constexpr (c_decoder_refuses_truncation<B>()) {
        EXPECT_NE(CDecoded<TypeParam>(cut).rc, 0);
      }
    }
  }
}

// ---- nulls: the C client can write them, we never do; we read them as empty ---

TEST(WireVsCClient, NullStringFromTheCClientReadsAsEmpty) {
  ::WatcherEvent c{3, 3, nullptr};
  const std::string bytes = c_encode(c);
  EXPECT_EQ(hex(bytes), hex(std::string("\0\0\0\x03\0\0\0\x03\xff\xff\xff\xff", 12)));
  const OursDecoded<w::WatcherEvent> d(bytes);
  EXPECT_TRUE(d.ok);
  EXPECT_TRUE(d.at_end);
  EXPECT_TRUE(d.value == (w::WatcherEvent{3, 3, ""}));
}

TEST(WireVsCClient, NullBufferFromTheCClientReadsAsEmpty) {
  const w::Stat stat = make_stat(2);
  ::GetDataResponse c{::buffer{-1, nullptr}, c_stat(stat)};
  const std::string bytes = c_encode(c);
  ASSERT_EQ(bytes.substr(0, 4), std::string("\xff\xff\xff\xff", 4));
  const OursDecoded<w::GetDataResponse> d(bytes);
  EXPECT_TRUE(d.ok);
  EXPECT_TRUE(d.at_end);
  EXPECT_TRUE(d.value == (w::GetDataResponse{"", stat}));
}

TEST(WireVsCClient, NullVectorsFromTheCClientReadAsEmpty) {
  const w::Stat stat = make_stat(5);
  ::GetChildren2Response c{::String_vector{-1, nullptr}, c_stat(stat)};
  const std::string bytes = c_encode(c);
  ASSERT_EQ(bytes.substr(0, 4), std::string("\xff\xff\xff\xff", 4));
  const OursDecoded<w::GetChildren2Response> d(bytes);
  EXPECT_TRUE(d.ok);
  EXPECT_TRUE(d.at_end);
  EXPECT_TRUE(d.value == (w::GetChildren2Response{{}, stat}));

  ::GetACLResponse a{::ACL_vector{-1, nullptr}, c_stat(stat)};
  const OursDecoded<w::GetACLResponse> da(c_encode(a));
  EXPECT_TRUE(da.ok);
  EXPECT_TRUE(da.at_end);
  EXPECT_TRUE(da.value == (w::GetACLResponse{{}, stat}));
}

// ---- the connect handshake ------------------------------------------------------
//
// The installed C client's zookeeper.jute (3.8.0) has no `readOnly` in
// ConnectRequest/ConnectResponse: the flag is one byte after the record, which
// zookeeper.c writes by hand (serialize_prime_connect) and reads by hand
// (deserialize_prime_response). So: our record without the flag is the C
// record; with it, the C record plus that one byte.

struct ConnectSample {
  int32_t protocolVersion;
  int64_t lastZxidSeen;
  int32_t timeOut;
  int64_t sessionId;
  std::string passwd;
};

std::vector<ConnectSample> connect_samples() {
  std::vector<ConnectSample> out;
  for (std::size_t i = 0; i < kSamples; ++i)
    out.push_back({pick(kI32, i), pick(kI64, i), pick(kI32, i + 1), pick(kI64, i + 2), pick(kBlobs, i + 5)});
  return out;
}

TEST(WireVsCClient, ConnectRequest) {
  for (const auto& s : connect_samples()) {
    SCOPED_TRACE(testing::Message() << "passwd " << hex(s.passwd).substr(0, 48));
    Keep keep;
    const std::string c_bytes =
        c_encode(::ConnectRequest{s.protocolVersion, s.lastZxidSeen, s.timeOut, s.sessionId, keep.buf(s.passwd)});

    const w::ConnectRequest without{s.protocolVersion, s.lastZxidSeen, s.timeOut, s.sessionId, s.passwd, false, false};
    EXPECT_EQ(hex(w::encode_to_string(without)), hex(c_bytes));
    const OursDecoded<w::ConnectRequest> d(c_bytes);
    EXPECT_TRUE(d.ok);
    EXPECT_TRUE(d.at_end);
    EXPECT_TRUE(d.value == without);

    for (const bool ro : {false, true}) {
      const w::ConnectRequest with{s.protocolVersion, s.lastZxidSeen, s.timeOut, s.sessionId, s.passwd, ro, true};
      const std::string c_with = c_bytes + (ro ? '\1' : '\0');
      EXPECT_EQ(hex(w::encode_to_string(with)), hex(c_with));
      const OursDecoded<w::ConnectRequest> dw(c_with);
      EXPECT_TRUE(dw.ok);
      EXPECT_TRUE(dw.at_end);
      EXPECT_TRUE(dw.value == with);

      const std::string our_bytes = w::encode_to_string(with);
      std::string in = our_bytes;
      ::iarchive* ia = create_buffer_iarchive(in.data(), static_cast<int>(in.size()));
      ::ConnectRequest c{};
      EXPECT_EQ(deserialize_ConnectRequest(ia, "connect", &c), 0);
      EXPECT_EQ(c.protocolVersion, s.protocolVersion);
      EXPECT_EQ(c.lastZxidSeen, s.lastZxidSeen);
      EXPECT_EQ(c.timeOut, s.timeOut);
      EXPECT_EQ(c.sessionId, s.sessionId);
      EXPECT_EQ(hex(ours(c.passwd)), hex(s.passwd));
      int32_t flag = -1;
      EXPECT_EQ(ia->deserialize_Bool(ia, "readOnly", &flag), 0);
      EXPECT_EQ(flag, ro ? 1 : 0);
      EXPECT_EQ(unread(ia), 0u);
      deallocate_ConnectRequest(&c);
      close_buffer_iarchive(&ia);
    }
  }
}

// zookeeper.c sends a fixed 45-byte handshake (HANDSHAKE_REQ_SIZE): the record
// with a 16-byte password, then the flag.
TEST(WireVsCClient, ConnectRequestIsTheCClientsFortyFiveByteHandshake) {
  const w::ConnectRequest r{0, 0x1234, 30000, 0, std::string(16, '\0'), true, true};
  EXPECT_EQ(w::encode_to_string(r).size(), 45u);
}

TEST(WireVsCClient, ConnectResponse) {
  for (const auto& s : connect_samples()) {
    SCOPED_TRACE(testing::Message() << "passwd " << hex(s.passwd).substr(0, 48));
    Keep keep;
    const std::string c_bytes =
        c_encode(::ConnectResponse{s.protocolVersion, s.timeOut, s.sessionId, keep.buf(s.passwd)});
    for (const bool ro : {false, true}) {
      const w::ConnectResponse r{s.protocolVersion, s.timeOut, s.sessionId, s.passwd, ro};
      const std::string c_with = c_bytes + (ro ? '\1' : '\0');
      EXPECT_EQ(hex(w::encode_to_string(r)), hex(c_with));
      const OursDecoded<w::ConnectResponse> d(c_with);
      EXPECT_TRUE(d.ok);
      EXPECT_TRUE(d.at_end);
      EXPECT_TRUE(d.value == r);

      std::string in = w::encode_to_string(r);
      ::iarchive* ia = create_buffer_iarchive(in.data(), static_cast<int>(in.size()));
      ::ConnectResponse c{};
      EXPECT_EQ(deserialize_ConnectResponse(ia, "connect", &c), 0);
      EXPECT_EQ(c.protocolVersion, s.protocolVersion);
      EXPECT_EQ(c.timeOut, s.timeOut);
      EXPECT_EQ(c.sessionId, s.sessionId);
      EXPECT_EQ(hex(ours(c.passwd)), hex(s.passwd));
      int32_t flag = -1;
      EXPECT_EQ(ia->deserialize_Bool(ia, "readOnly", &flag), 0);
      EXPECT_EQ(flag, ro ? 1 : 0);
      EXPECT_EQ(unread(ia), 0u);
      deallocate_ConnectResponse(&c);
      close_buffer_iarchive(&ia);
    }
  }
}

// ---- multi ----------------------------------------------------------------------
//
// zoo_amulti writes, per op, MultiHeader{type, 0, -1} and the op's request
// record, then MultiHeader{-1, 1, -1}; deserialize_multi reads MultiHeader,
// an ErrorResponse when type is -1, the op's response record otherwise, until
// `done`. The C client itself only puts create, createContainer, delete,
// setData and check in a multi; create2, createTTL and the multiRead ops
// (getData, getChildren) are composed here from the same serializers.

std::string c_multi_request(const std::vector<w::MultiOp>& ops) {
  ::oarchive* oa = create_buffer_oarchive();
  Keep k;
  for (const auto& op : ops) {
    ::MultiHeader h{static_cast<int32_t>(op.type), 0, -1};
    EXPECT_EQ(serialize_MultiHeader(oa, "multiheader", &h), 0);
    switch (op.type) {
      case w::OpCode::create:
      case w::OpCode::create2:
      case w::OpCode::createContainer: {
        ::CreateRequest req{k.str(op.path), k.buf(op.data), k.acls(op.acl), op.flags};
        EXPECT_EQ(serialize_CreateRequest(oa, "req", &req), 0);
        break;
      }
      case w::OpCode::createTTL: {
        ::CreateTTLRequest req{k.str(op.path), k.buf(op.data), k.acls(op.acl), op.flags, op.ttl};
        EXPECT_EQ(serialize_CreateTTLRequest(oa, "req", &req), 0);
        break;
      }
      case w::OpCode::remove: {
        ::DeleteRequest req{k.str(op.path), op.version};
        EXPECT_EQ(serialize_DeleteRequest(oa, "req", &req), 0);
        break;
      }
      case w::OpCode::check: {
        ::CheckVersionRequest req{k.str(op.path), op.version};
        EXPECT_EQ(serialize_CheckVersionRequest(oa, "req", &req), 0);
        break;
      }
      case w::OpCode::setData: {
        ::SetDataRequest req{k.str(op.path), k.buf(op.data), op.version};
        EXPECT_EQ(serialize_SetDataRequest(oa, "req", &req), 0);
        break;
      }
      case w::OpCode::getData: {
        ::GetDataRequest req{k.str(op.path), 0};
        EXPECT_EQ(serialize_GetDataRequest(oa, "req", &req), 0);
        break;
      }
      case w::OpCode::getChildren: {
        ::GetChildrenRequest req{k.str(op.path), 0};
        EXPECT_EQ(serialize_GetChildrenRequest(oa, "req", &req), 0);
        break;
      }
      default: ADD_FAILURE() << "no such multi op in this test";
    }
  }
  ::MultiHeader end{-1, 1, -1};
  EXPECT_EQ(serialize_MultiHeader(oa, "multiheader", &end), 0);
  std::string out(get_buffer(oa), static_cast<std::size_t>(get_buffer_len(oa)));
  close_buffer_oarchive(&oa, 1);
  return out;
}

// Reads a multi request with the C client's deserializers, the way the
// server's MultiOperationRecord reads it.
bool c_read_multi_request(std::string bytes, std::vector<w::MultiOp>& ops) {
  ::iarchive* ia = create_buffer_iarchive(bytes.data(), static_cast<int>(bytes.size()));
  bool ok = true;
  ::MultiHeader h{};
  ok = deserialize_MultiHeader(ia, "multiheader", &h) == 0;
  while (ok && !h.done) {
    EXPECT_EQ(h.err, -1);
    w::MultiOp op;
    op.type = static_cast<w::OpCode>(h.type);
    switch (op.type) {
      case w::OpCode::create:
      case w::OpCode::create2:
      case w::OpCode::createContainer: {
        ::CreateRequest req{};
        ok = deserialize_CreateRequest(ia, "req", &req) == 0;
        op.path = ours(req.path);
        op.data = ours(req.data);
        op.acl = ours(req.acl);
        op.flags = req.flags;
        deallocate_CreateRequest(&req);
        break;
      }
      case w::OpCode::createTTL: {
        ::CreateTTLRequest req{};
        ok = deserialize_CreateTTLRequest(ia, "req", &req) == 0;
        op.path = ours(req.path);
        op.data = ours(req.data);
        op.acl = ours(req.acl);
        op.flags = req.flags;
        op.ttl = req.ttl;
        deallocate_CreateTTLRequest(&req);
        break;
      }
      case w::OpCode::remove:
      case w::OpCode::check: {
        ::CheckVersionRequest req{};
        ok = deserialize_CheckVersionRequest(ia, "req", &req) == 0;
        op.path = ours(req.path);
        op.version = req.version;
        deallocate_CheckVersionRequest(&req);
        break;
      }
      case w::OpCode::setData: {
        ::SetDataRequest req{};
        ok = deserialize_SetDataRequest(ia, "req", &req) == 0;
        op.path = ours(req.path);
        op.data = ours(req.data);
        op.version = req.version;
        deallocate_SetDataRequest(&req);
        break;
      }
      case w::OpCode::getData:
      case w::OpCode::getChildren: {
        ::GetDataRequest req{};
        ok = deserialize_GetDataRequest(ia, "req", &req) == 0;
        EXPECT_EQ(req.watch, 0);
        op.path = ours(req.path);
        deallocate_GetDataRequest(&req);
        break;
      }
      default: ok = false;
    }
    ops.push_back(std::move(op));
    ok = ok && deserialize_MultiHeader(ia, "multiheader", &h) == 0;
  }
  ok = ok && h.type == -1 && h.err == -1 && unread(ia) == 0;
  close_buffer_iarchive(&ia);
  return ok;
}

std::vector<std::vector<w::MultiOp>> multi_request_samples() {
  using w::OpCode;
  const w::AclList open = kAclLists[1];
  const w::AclList mixed = kAclLists[2];
  return {
      {},
      // What zoo_amulti itself sends.
      {
          {OpCode::create, "/a", std::string("\0d\xff", 3), open, 0, -1, -1},
          {OpCode::create, "/a/seq-", "", mixed, 3, -1, -1},
          {OpCode::createContainer, "/c", "x", {}, 4, -1, -1},
          {OpCode::remove, "/b", "", {}, 0, -1, -1},
          {OpCode::remove, "/b2", "", {}, 0, -1, kI32Max},
          {OpCode::setData, "/a", all_byte_values(1000), {}, 0, -1, 7},
          {OpCode::setData, "/e", "", {}, 0, -1, kI32Min},
          {OpCode::check, "/a", "", {}, 0, -1, 0},
          {OpCode::check, "/\xc3\xbc", "", {}, 0, -1, -1},
      },
      // create2 and createTTL.
      {
          {OpCode::create2, "/p", "v", open, 1, -1, -1},
          {OpCode::createTTL, "/t", "ttl", mixed, 5, 1000, -1},
          {OpCode::createTTL, "/t2", "", open, 6, w::max_ttl_ms, -1},
      },
      // multiRead.
      {
          {OpCode::getData, "/a", "", {}, 0, -1, -1},
          {OpCode::getChildren, "/", "", {}, 0, -1, -1},
          {OpCode::getData, "/" + std::string(500, 'z'), "", {}, 0, -1, -1},
      },
  };
}

TEST(WireVsCClient, MultiRequest) {
  const auto all = multi_request_samples();
  for (std::size_t i = 0; i < all.size(); ++i) {
    SCOPED_TRACE(testing::Message() << "multi sample " << i);
    const w::MultiRequest ours_req{all[i]};
    const std::string c_bytes = c_multi_request(all[i]);
    const std::string our_bytes = w::encode_to_string(ours_req);
    EXPECT_EQ(hex(our_bytes), hex(c_bytes));

    const OursDecoded<w::MultiRequest> d(c_bytes);
    EXPECT_TRUE(d.ok);
    EXPECT_TRUE(d.at_end);
    EXPECT_TRUE(d.value == ours_req);

    std::vector<w::MultiOp> c_ops;
    EXPECT_TRUE(c_read_multi_request(our_bytes, c_ops));
    EXPECT_TRUE(c_ops == all[i]);
  }
}

std::string c_multi_response(const std::vector<w::MultiResult>& results) {
  ::oarchive* oa = create_buffer_oarchive();
  Keep k;
  for (const auto& res : results) {
    ::MultiHeader h{static_cast<int32_t>(res.type), 0, res.type == w::OpCode::error ? res.err : 0};
    EXPECT_EQ(serialize_MultiHeader(oa, "multiheader", &h), 0);
    switch (res.type) {
      case w::OpCode::create: {
        ::CreateResponse r{k.str(res.path)};
        EXPECT_EQ(serialize_CreateResponse(oa, "res", &r), 0);
        break;
      }
      case w::OpCode::create2: {
        ::Create2Response r{k.str(res.path), c_stat(res.stat)};
        EXPECT_EQ(serialize_Create2Response(oa, "res", &r), 0);
        break;
      }
      case w::OpCode::setData: {
        ::SetDataResponse r{c_stat(res.stat)};
        EXPECT_EQ(serialize_SetDataResponse(oa, "res", &r), 0);
        break;
      }
      case w::OpCode::getData: {
        ::GetDataResponse r{k.buf(res.data), c_stat(res.stat)};
        EXPECT_EQ(serialize_GetDataResponse(oa, "res", &r), 0);
        break;
      }
      case w::OpCode::getChildren: {
        ::GetChildrenResponse r{k.strings(res.children)};
        EXPECT_EQ(serialize_GetChildrenResponse(oa, "res", &r), 0);
        break;
      }
      case w::OpCode::error: {
        ::ErrorResponse r{res.err};
        EXPECT_EQ(serialize_ErrorResponse(oa, "res", &r), 0);
        break;
      }
      default:  // delete, check: header only
        break;
    }
  }
  ::MultiHeader end{-1, 1, -1};
  EXPECT_EQ(serialize_MultiHeader(oa, "multiheader", &end), 0);
  std::string out(get_buffer(oa), static_cast<std::size_t>(get_buffer_len(oa)));
  close_buffer_oarchive(&oa, 1);
  return out;
}

// Reads a multi response the way zookeeper.c's deserialize_multi does.
bool c_read_multi_response(std::string bytes, std::vector<w::MultiResult>& results) {
  ::iarchive* ia = create_buffer_iarchive(bytes.data(), static_cast<int>(bytes.size()));
  ::MultiHeader h{};
  bool ok = deserialize_MultiHeader(ia, "multiheader", &h) == 0;
  while (ok && !h.done) {
    w::MultiResult res;
    res.type = static_cast<w::OpCode>(h.type);
    switch (res.type) {
      case w::OpCode::error: {
        ::ErrorResponse r{};
        ok = deserialize_ErrorResponse(ia, "error", &r) == 0;
        EXPECT_EQ(h.err, r.err);
        res.err = r.err;
        break;
      }
      case w::OpCode::create: {
        ::CreateResponse r{};
        ok = deserialize_CreateResponse(ia, "reply", &r) == 0;
        res.path = ours(r.path);
        deallocate_CreateResponse(&r);
        break;
      }
      case w::OpCode::create2: {
        ::Create2Response r{};
        ok = deserialize_Create2Response(ia, "reply", &r) == 0;
        res.path = ours(r.path);
        res.stat = ours(r.stat);
        deallocate_Create2Response(&r);
        break;
      }
      case w::OpCode::setData: {
        ::SetDataResponse r{};
        ok = deserialize_SetDataResponse(ia, "reply", &r) == 0;
        res.stat = ours(r.stat);
        break;
      }
      case w::OpCode::getData: {
        ::GetDataResponse r{};
        ok = deserialize_GetDataResponse(ia, "reply", &r) == 0;
        res.data = ours(r.data);
        res.stat = ours(r.stat);
        deallocate_GetDataResponse(&r);
        break;
      }
      case w::OpCode::getChildren: {
        ::GetChildrenResponse r{};
        ok = deserialize_GetChildrenResponse(ia, "reply", &r) == 0;
        res.children = ours(r.children);
        deallocate_GetChildrenResponse(&r);
        break;
      }
      case w::OpCode::remove:
      case w::OpCode::check: EXPECT_EQ(h.err, 0); break;
      default: ok = false;
    }
    results.push_back(std::move(res));
    ok = ok && deserialize_MultiHeader(ia, "multiheader", &h) == 0;
  }
  ok = ok && h.type == -1 && h.err == -1 && unread(ia) == 0;
  close_buffer_iarchive(&ia);
  return ok;
}

std::vector<std::vector<w::MultiResult>> multi_response_samples() {
  using w::OpCode;
  auto result = [](OpCode type) {
    w::MultiResult r;
    r.type = type;
    return r;
  };
  std::vector<std::vector<w::MultiResult>> out;
  out.push_back({});
  {
    std::vector<w::MultiResult> v;
    auto c = result(OpCode::create);
    c.path = "/a/seq-0000000007";
    v.push_back(c);
    auto c2 = result(OpCode::create2);
    c2.path = "/\xc3\xbc";
    c2.stat = make_stat(1);
    v.push_back(c2);
    v.push_back(result(OpCode::remove));
    v.push_back(result(OpCode::check));
    auto s = result(OpCode::setData);
    s.stat = make_stat(4);
    v.push_back(s);
    out.push_back(v);
  }
  {  // multiRead answers, with a per-op error among them
    std::vector<w::MultiResult> v;
    auto g = result(OpCode::getData);
    g.data = std::string("\0\x01\0", 3);
    g.stat = make_stat(6);
    v.push_back(g);
    auto big = result(OpCode::getData);
    big.data = all_byte_values(3000);
    big.stat = make_stat(7);
    v.push_back(big);
    auto ch = result(OpCode::getChildren);
    ch.children = kStringLists[3];
    v.push_back(ch);
    auto none = result(OpCode::getChildren);
    v.push_back(none);
    auto e = result(OpCode::error);
    e.err = static_cast<int32_t>(corral::Error::noNode);
    v.push_back(e);
    out.push_back(v);
  }
  {  // a failed multi: ok-then-rolled-back, the failure, and the rest
    std::vector<w::MultiResult> v;
    for (const int32_t err : {0, static_cast<int32_t>(corral::Error::badVersion),
                              static_cast<int32_t>(corral::Error::runtimeInconsistency), kI32Min}) {
      auto e = result(OpCode::error);
      e.err = err;
      v.push_back(e);
    }
    out.push_back(v);
  }
  return out;
}

TEST(WireVsCClient, MultiResponse) {
  const auto all = multi_response_samples();
  for (std::size_t i = 0; i < all.size(); ++i) {
    SCOPED_TRACE(testing::Message() << "multi response sample " << i);
    const w::MultiResponse ours_res{all[i]};
    const std::string c_bytes = c_multi_response(all[i]);
    const std::string our_bytes = w::encode_to_string(ours_res);
    EXPECT_EQ(hex(our_bytes), hex(c_bytes));

    const OursDecoded<w::MultiResponse> d(c_bytes);
    EXPECT_TRUE(d.ok);
    EXPECT_TRUE(d.at_end);
    EXPECT_TRUE(d.value == ours_res);

    std::vector<w::MultiResult> c_results;
    EXPECT_TRUE(c_read_multi_response(our_bytes, c_results));
    EXPECT_TRUE(c_results == all[i]);
  }
}

// ---- constants shared with the C client ------------------------------------------

TEST(WireVsCClient, OpCodesMatchProtoH) {
  using w::OpCode;
  EXPECT_EQ(static_cast<int32_t>(OpCode::notification), ZOO_NOTIFY_OP);
  EXPECT_EQ(static_cast<int32_t>(OpCode::create), ZOO_CREATE_OP);
  EXPECT_EQ(static_cast<int32_t>(OpCode::remove), ZOO_DELETE_OP);
  EXPECT_EQ(static_cast<int32_t>(OpCode::exists), ZOO_EXISTS_OP);
  EXPECT_EQ(static_cast<int32_t>(OpCode::getData), ZOO_GETDATA_OP);
  EXPECT_EQ(static_cast<int32_t>(OpCode::setData), ZOO_SETDATA_OP);
  EXPECT_EQ(static_cast<int32_t>(OpCode::getACL), ZOO_GETACL_OP);
  EXPECT_EQ(static_cast<int32_t>(OpCode::setACL), ZOO_SETACL_OP);
  EXPECT_EQ(static_cast<int32_t>(OpCode::getChildren), ZOO_GETCHILDREN_OP);
  EXPECT_EQ(static_cast<int32_t>(OpCode::sync), ZOO_SYNC_OP);
  EXPECT_EQ(static_cast<int32_t>(OpCode::ping), ZOO_PING_OP);
  EXPECT_EQ(static_cast<int32_t>(OpCode::getChildren2), ZOO_GETCHILDREN2_OP);
  EXPECT_EQ(static_cast<int32_t>(OpCode::check), ZOO_CHECK_OP);
  EXPECT_EQ(static_cast<int32_t>(OpCode::multi), ZOO_MULTI_OP);
  EXPECT_EQ(static_cast<int32_t>(OpCode::create2), ZOO_CREATE2_OP);
  EXPECT_EQ(static_cast<int32_t>(OpCode::reconfig), ZOO_RECONFIG_OP);
  EXPECT_EQ(static_cast<int32_t>(OpCode::checkWatches), ZOO_CHECK_WATCHES);
  EXPECT_EQ(static_cast<int32_t>(OpCode::removeWatches), ZOO_REMOVE_WATCHES);
  EXPECT_EQ(static_cast<int32_t>(OpCode::createContainer), ZOO_CREATE_CONTAINER_OP);
  EXPECT_EQ(static_cast<int32_t>(OpCode::deleteContainer), ZOO_DELETE_CONTAINER_OP);
  EXPECT_EQ(static_cast<int32_t>(OpCode::createTTL), ZOO_CREATE_TTL_OP);
  EXPECT_EQ(static_cast<int32_t>(OpCode::closeSession), ZOO_CLOSE_OP);
  EXPECT_EQ(static_cast<int32_t>(OpCode::auth), ZOO_SETAUTH_OP);
  EXPECT_EQ(static_cast<int32_t>(OpCode::setWatches), ZOO_SETWATCHES_OP);
  EXPECT_EQ(static_cast<int32_t>(OpCode::sasl), ZOO_SASL_OP);
}

TEST(WireVsCClient, PermsCreateModesEventsStatesMatchZookeeperH) {
  EXPECT_EQ(w::perms::read, ZOO_PERM_READ);
  EXPECT_EQ(w::perms::write, ZOO_PERM_WRITE);
  EXPECT_EQ(w::perms::create, ZOO_PERM_CREATE);
  EXPECT_EQ(w::perms::remove, ZOO_PERM_DELETE);
  EXPECT_EQ(w::perms::admin, ZOO_PERM_ADMIN);
  EXPECT_EQ(w::perms::all, ZOO_PERM_ALL);

  using w::CreateMode;
  EXPECT_EQ(static_cast<int32_t>(CreateMode::persistent), ZOO_PERSISTENT);
  EXPECT_EQ(static_cast<int32_t>(CreateMode::ephemeral), ZOO_EPHEMERAL);
  EXPECT_EQ(static_cast<int32_t>(CreateMode::persistentSequential), ZOO_PERSISTENT_SEQUENTIAL);
  EXPECT_EQ(static_cast<int32_t>(CreateMode::ephemeralSequential), ZOO_EPHEMERAL_SEQUENTIAL);
  EXPECT_EQ(static_cast<int32_t>(CreateMode::container), ZOO_CONTAINER);
  EXPECT_EQ(static_cast<int32_t>(CreateMode::persistentWithTtl), ZOO_PERSISTENT_WITH_TTL);
  EXPECT_EQ(static_cast<int32_t>(CreateMode::persistentSequentialWithTtl), ZOO_PERSISTENT_SEQUENTIAL_WITH_TTL);

  using w::EventType;
  EXPECT_EQ(static_cast<int32_t>(EventType::none), ZOO_SESSION_EVENT);
  EXPECT_EQ(static_cast<int32_t>(EventType::nodeCreated), ZOO_CREATED_EVENT);
  EXPECT_EQ(static_cast<int32_t>(EventType::nodeDeleted), ZOO_DELETED_EVENT);
  EXPECT_EQ(static_cast<int32_t>(EventType::nodeDataChanged), ZOO_CHANGED_EVENT);
  EXPECT_EQ(static_cast<int32_t>(EventType::nodeChildrenChanged), ZOO_CHILD_EVENT);

  // States that are also Java's KeeperState values. The C client's others are
  // its own (ZOO_AUTH_FAILED_STATE is -113 there, AuthFailed is 4 in Java).
  using w::KeeperState;
  EXPECT_EQ(static_cast<int32_t>(KeeperState::syncConnected), ZOO_CONNECTED_STATE);
  EXPECT_EQ(static_cast<int32_t>(KeeperState::connectedReadOnly), ZOO_READONLY_STATE);
  EXPECT_EQ(static_cast<int32_t>(KeeperState::expired), ZOO_EXPIRED_SESSION_STATE);

  EXPECT_EQ(static_cast<int32_t>(w::WatcherType::children), ZWATCHTYPE_CHILD);
  EXPECT_EQ(static_cast<int32_t>(w::WatcherType::data), ZWATCHTYPE_DATA);
  EXPECT_EQ(static_cast<int32_t>(w::WatcherType::any), ZWATCHTYPE_ANY);
}

TEST(WireVsCClient, ErrorCodesMatchZookeeperH) {
  using corral::Error;
  const std::pair<Error, int> pairs[] = {
      {Error::ok, ZOK},
      {Error::systemError, ZSYSTEMERROR},
      {Error::runtimeInconsistency, ZRUNTIMEINCONSISTENCY},
      {Error::dataInconsistency, ZDATAINCONSISTENCY},
      {Error::connectionLoss, ZCONNECTIONLOSS},
      {Error::marshallingError, ZMARSHALLINGERROR},
      {Error::unimplemented, ZUNIMPLEMENTED},
      {Error::operationTimeout, ZOPERATIONTIMEOUT},
      {Error::badArguments, ZBADARGUMENTS},
      {Error::newConfigNoQuorum, ZNEWCONFIGNOQUORUM},
      {Error::reconfigInProgress, ZRECONFIGINPROGRESS},
      {Error::apiError, ZAPIERROR},
      {Error::noNode, ZNONODE},
      {Error::noAuth, ZNOAUTH},
      {Error::badVersion, ZBADVERSION},
      {Error::noChildrenForEphemerals, ZNOCHILDRENFOREPHEMERALS},
      {Error::nodeExists, ZNODEEXISTS},
      {Error::notEmpty, ZNOTEMPTY},
      {Error::sessionExpired, ZSESSIONEXPIRED},
      {Error::invalidCallback, ZINVALIDCALLBACK},
      {Error::invalidAcl, ZINVALIDACL},
      {Error::authFailed, ZAUTHFAILED},
      {Error::sessionMoved, ZSESSIONMOVED},
      {Error::notReadOnly, ZNOTREADONLY},
      {Error::ephemeralOnLocalSession, ZEPHEMERALONLOCALSESSION},
      {Error::noWatcher, ZNOWATCHER},
      {Error::reconfigDisabled, ZRECONFIGDISABLED},
      {Error::sessionClosedRequireSaslAuth, ZSESSIONCLOSEDREQUIRESASLAUTH},
      {Error::throttledOp, ZTHROTTLEDOP},
  };
  for (const auto& [ours_code, c_code] : pairs) {
    EXPECT_EQ(static_cast<int>(ours_code), c_code) << corral::error_name(ours_code);
  }
}

}  // namespace
