// The records of zookeeper.jute (3.8) that the client protocol uses.
//
// Each plain record lists its fields once, in wire order, in `fields()`; the
// generic encode/decode below walk that list, so a record's layout is stated in
// exactly one place. Records with a shape of their own (the connect request's
// optional trailing flag, multi requests and responses) have hand-written codecs
// in records.cc.
#pragma once

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "corral/wire/jute.h"
#include "corral/wire/protocol.h"

namespace corral::wire {

struct Id {
  std::string scheme;
  std::string id;
  static constexpr auto fields() { return std::tuple{&Id::scheme, &Id::id}; }
  friend bool operator==(const Id&, const Id&) = default;
};

struct Acl {
  int32_t perms = 0;
  Id id;
  static constexpr auto fields() { return std::tuple{&Acl::perms, &Acl::id}; }
  friend bool operator==(const Acl&, const Acl&) = default;
};
using AclList = std::vector<Acl>;

struct Stat {
  int64_t czxid = 0;
  int64_t mzxid = 0;
  int64_t ctime = 0;
  int64_t mtime = 0;
  int32_t version = 0;
  int32_t cversion = 0;
  int32_t aversion = 0;
  int64_t ephemeralOwner = 0;
  int32_t dataLength = 0;
  int32_t numChildren = 0;
  int64_t pzxid = 0;
  static constexpr auto fields() {
    return std::tuple{&Stat::czxid,      &Stat::mzxid,       &Stat::ctime,    &Stat::mtime,
                      &Stat::version,    &Stat::cversion,    &Stat::aversion, &Stat::ephemeralOwner,
                      &Stat::dataLength, &Stat::numChildren, &Stat::pzxid};
  }
  friend bool operator==(const Stat&, const Stat&) = default;
};

struct ClientInfo {
  std::string authScheme;
  std::string user;
  static constexpr auto fields() { return std::tuple{&ClientInfo::authScheme, &ClientInfo::user}; }
  friend bool operator==(const ClientInfo&, const ClientInfo&) = default;
};

// Old clients omit `readOnly`; `has_read_only` says whether it was on the wire.
struct ConnectRequest {
  int32_t protocolVersion = 0;
  int64_t lastZxidSeen = 0;
  int32_t timeOut = 0;
  int64_t sessionId = 0;
  std::string passwd;
  bool readOnly = false;
  bool has_read_only = true;
  friend bool operator==(const ConnectRequest&, const ConnectRequest&) = default;
};

struct ConnectResponse {
  int32_t protocolVersion = 0;
  int32_t timeOut = 0;
  int64_t sessionId = 0;
  std::string passwd;
  bool readOnly = false;
  static constexpr auto fields() {
    return std::tuple{&ConnectResponse::protocolVersion, &ConnectResponse::timeOut, &ConnectResponse::sessionId,
                      &ConnectResponse::passwd, &ConnectResponse::readOnly};
  }
  friend bool operator==(const ConnectResponse&, const ConnectResponse&) = default;
};

struct SetWatches {
  int64_t relativeZxid = 0;
  std::vector<std::string> dataWatches;
  std::vector<std::string> existWatches;
  std::vector<std::string> childWatches;
  static constexpr auto fields() {
    return std::tuple{&SetWatches::relativeZxid, &SetWatches::dataWatches, &SetWatches::existWatches,
                      &SetWatches::childWatches};
  }
  friend bool operator==(const SetWatches&, const SetWatches&) = default;
};

struct SetWatches2 {
  int64_t relativeZxid = 0;
  std::vector<std::string> dataWatches;
  std::vector<std::string> existWatches;
  std::vector<std::string> childWatches;
  std::vector<std::string> persistentWatches;
  std::vector<std::string> persistentRecursiveWatches;
  static constexpr auto fields() {
    return std::tuple{&SetWatches2::relativeZxid,      &SetWatches2::dataWatches,
                      &SetWatches2::existWatches,      &SetWatches2::childWatches,
                      &SetWatches2::persistentWatches, &SetWatches2::persistentRecursiveWatches};
  }
  friend bool operator==(const SetWatches2&, const SetWatches2&) = default;
};

struct RequestHeader {
  int32_t xid = 0;
  int32_t type = 0;
  static constexpr auto fields() { return std::tuple{&RequestHeader::xid, &RequestHeader::type}; }
  friend bool operator==(const RequestHeader&, const RequestHeader&) = default;
};

struct MultiHeader {
  int32_t type = 0;
  bool done = false;
  int32_t err = 0;
  static constexpr auto fields() { return std::tuple{&MultiHeader::type, &MultiHeader::done, &MultiHeader::err}; }
  friend bool operator==(const MultiHeader&, const MultiHeader&) = default;
};

struct AuthPacket {
  int32_t type = 0;
  std::string scheme;
  std::string auth;
  static constexpr auto fields() { return std::tuple{&AuthPacket::type, &AuthPacket::scheme, &AuthPacket::auth}; }
  friend bool operator==(const AuthPacket&, const AuthPacket&) = default;
};

struct ReplyHeader {
  int32_t xid = 0;
  int64_t zxid = 0;
  int32_t err = 0;
  static constexpr auto fields() { return std::tuple{&ReplyHeader::xid, &ReplyHeader::zxid, &ReplyHeader::err}; }
  friend bool operator==(const ReplyHeader&, const ReplyHeader&) = default;
};

// getData, exists, getChildren and getChildren2 requests share this shape.
struct PathWatchRequest {
  std::string path;
  bool watch = false;
  static constexpr auto fields() { return std::tuple{&PathWatchRequest::path, &PathWatchRequest::watch}; }
  friend bool operator==(const PathWatchRequest&, const PathWatchRequest&) = default;
};
using GetDataRequest = PathWatchRequest;
using ExistsRequest = PathWatchRequest;
using GetChildrenRequest = PathWatchRequest;
using GetChildren2Request = PathWatchRequest;

// Records made of one path: several requests, and the sync/create responses.
struct PathRecord {
  std::string path;
  static constexpr auto fields() { return std::tuple{&PathRecord::path}; }
  friend bool operator==(const PathRecord&, const PathRecord&) = default;
};
using GetAllChildrenNumberRequest = PathRecord;
using SyncRequest = PathRecord;
using SyncResponse = PathRecord;
using GetACLRequest = PathRecord;
using GetEphemeralsRequest = PathRecord;  // `prefixPath` upstream
using CreateResponse = PathRecord;

struct SetDataRequest {
  std::string path;
  std::string data;
  int32_t version = -1;
  static constexpr auto fields() {
    return std::tuple{&SetDataRequest::path, &SetDataRequest::data, &SetDataRequest::version};
  }
  friend bool operator==(const SetDataRequest&, const SetDataRequest&) = default;
};

// setData, setACL, exists and check answer with a lone Stat.
struct StatResponse {
  Stat stat;
  static constexpr auto fields() { return std::tuple{&StatResponse::stat}; }
  friend bool operator==(const StatResponse&, const StatResponse&) = default;
};
using SetDataResponse = StatResponse;
using SetACLResponse = StatResponse;
using ExistsResponse = StatResponse;

struct CreateRequest {
  std::string path;
  std::string data;
  AclList acl;
  int32_t flags = 0;
  static constexpr auto fields() {
    return std::tuple{&CreateRequest::path, &CreateRequest::data, &CreateRequest::acl, &CreateRequest::flags};
  }
  friend bool operator==(const CreateRequest&, const CreateRequest&) = default;
};

struct CreateTTLRequest {
  std::string path;
  std::string data;
  AclList acl;
  int32_t flags = 0;
  int64_t ttl = -1;
  static constexpr auto fields() {
    return std::tuple{&CreateTTLRequest::path, &CreateTTLRequest::data, &CreateTTLRequest::acl,
                      &CreateTTLRequest::flags, &CreateTTLRequest::ttl};
  }
  friend bool operator==(const CreateTTLRequest&, const CreateTTLRequest&) = default;
};

// delete and check requests share this shape.
struct PathVersionRequest {
  std::string path;
  int32_t version = -1;
  static constexpr auto fields() { return std::tuple{&PathVersionRequest::path, &PathVersionRequest::version}; }
  friend bool operator==(const PathVersionRequest&, const PathVersionRequest&) = default;
};
using DeleteRequest = PathVersionRequest;
using CheckVersionRequest = PathVersionRequest;

struct SetACLRequest {
  std::string path;
  AclList acl;
  int32_t version = -1;
  static constexpr auto fields() {
    return std::tuple{&SetACLRequest::path, &SetACLRequest::acl, &SetACLRequest::version};
  }
  friend bool operator==(const SetACLRequest&, const SetACLRequest&) = default;
};

struct AddWatchRequest {
  std::string path;
  int32_t mode = 0;
  static constexpr auto fields() { return std::tuple{&AddWatchRequest::path, &AddWatchRequest::mode}; }
  friend bool operator==(const AddWatchRequest&, const AddWatchRequest&) = default;
};

// checkWatches and removeWatches requests share this shape.
struct PathTypeRequest {
  std::string path;
  int32_t type = 0;
  static constexpr auto fields() { return std::tuple{&PathTypeRequest::path, &PathTypeRequest::type}; }
  friend bool operator==(const PathTypeRequest&, const PathTypeRequest&) = default;
};
using CheckWatchesRequest = PathTypeRequest;
using RemoveWatchesRequest = PathTypeRequest;

struct WatcherEvent {
  int32_t type = 0;
  int32_t state = 0;
  std::string path;
  static constexpr auto fields() { return std::tuple{&WatcherEvent::type, &WatcherEvent::state, &WatcherEvent::path}; }
  friend bool operator==(const WatcherEvent&, const WatcherEvent&) = default;
};

struct ErrorResponse {
  int32_t err = 0;
  static constexpr auto fields() { return std::tuple{&ErrorResponse::err}; }
  friend bool operator==(const ErrorResponse&, const ErrorResponse&) = default;
};

struct Create2Response {
  std::string path;
  Stat stat;
  static constexpr auto fields() { return std::tuple{&Create2Response::path, &Create2Response::stat}; }
  friend bool operator==(const Create2Response&, const Create2Response&) = default;
};

struct GetDataResponse {
  std::string data;
  Stat stat;
  static constexpr auto fields() { return std::tuple{&GetDataResponse::data, &GetDataResponse::stat}; }
  friend bool operator==(const GetDataResponse&, const GetDataResponse&) = default;
};

// getChildren, getEphemerals answer with a list of strings.
struct StringListResponse {
  std::vector<std::string> children;
  static constexpr auto fields() { return std::tuple{&StringListResponse::children}; }
  friend bool operator==(const StringListResponse&, const StringListResponse&) = default;
};
using GetChildrenResponse = StringListResponse;
using GetEphemeralsResponse = StringListResponse;

struct GetAllChildrenNumberResponse {
  int32_t totalNumber = 0;
  static constexpr auto fields() { return std::tuple{&GetAllChildrenNumberResponse::totalNumber}; }
  friend bool operator==(const GetAllChildrenNumberResponse&, const GetAllChildrenNumberResponse&) = default;
};

struct GetChildren2Response {
  std::vector<std::string> children;
  Stat stat;
  static constexpr auto fields() { return std::tuple{&GetChildren2Response::children, &GetChildren2Response::stat}; }
  friend bool operator==(const GetChildren2Response&, const GetChildren2Response&) = default;
};

struct GetACLResponse {
  AclList acl;
  Stat stat;
  static constexpr auto fields() { return std::tuple{&GetACLResponse::acl, &GetACLResponse::stat}; }
  friend bool operator==(const GetACLResponse&, const GetACLResponse&) = default;
};

struct WhoAmIResponse {
  std::vector<ClientInfo> clientInfo;
  static constexpr auto fields() { return std::tuple{&WhoAmIResponse::clientInfo}; }
  friend bool operator==(const WhoAmIResponse&, const WhoAmIResponse&) = default;
};

// One operation of a multi or multiRead request. The fields used depend on
// `type`: create/create2/createContainer (path, data, acl, flags), createTTL
// (also ttl), delete/check (path, version), setData (path, data, version),
// getData/getChildren (path).
struct MultiOp {
  OpCode type = OpCode::check;
  std::string path;
  std::string data;
  AclList acl;
  int32_t flags = 0;
  int64_t ttl = -1;
  int32_t version = -1;
  friend bool operator==(const MultiOp&, const MultiOp&) = default;
};

struct MultiRequest {
  std::vector<MultiOp> ops;
  friend bool operator==(const MultiRequest&, const MultiRequest&) = default;
};

// One result of a multi or multiRead. `type` is the op's result type:
// create (path), create2 (path, stat), delete and check (nothing), setData
// (stat), getData (data, stat), getChildren (children), error (err).
struct MultiResult {
  OpCode type = OpCode::error;
  int32_t err = 0;
  std::string path;
  std::string data;
  Stat stat;
  std::vector<std::string> children;
  friend bool operator==(const MultiResult&, const MultiResult&) = default;
};

struct MultiResponse {
  std::vector<MultiResult> results;
  friend bool operator==(const MultiResponse&, const MultiResponse&) = default;
};

// ---- generic codec ---------------------------------------------------------

template <class T>
concept PlainRecord = requires {
  T::fields();
};

inline void encode(JuteWriter& w, int32_t v) { w.i32(v); }
inline void encode(JuteWriter& w, int64_t v) { w.i64(v); }
inline void encode(JuteWriter& w, bool v) { w.boolean(v); }
inline void encode(JuteWriter& w, const std::string& v) { w.bytes(v); }
template <class T>
void encode(JuteWriter& w, const std::vector<T>& v);
template <PlainRecord T>
void encode(JuteWriter& w, const T& r) {
  std::apply([&](auto... member) { (encode(w, r.*member), ...); }, T::fields());
}
template <class T>
void encode(JuteWriter& w, const std::vector<T>& v) {
  w.i32(static_cast<int32_t>(v.size()));
  for (const auto& e : v) encode(w, e);
}

// The fewest bytes an encoded T can take; bounds vector lengths before allocation.
template <class T>
struct MinSize;
template <>
struct MinSize<int32_t> {
  static constexpr std::size_t value = 4;
};
template <>
struct MinSize<int64_t> {
  static constexpr std::size_t value = 8;
};
template <>
struct MinSize<bool> {
  static constexpr std::size_t value = 1;
};
template <>
struct MinSize<std::string> {
  static constexpr std::size_t value = 4;
};
template <class T>
struct MinSize<std::vector<T>> {
  static constexpr std::size_t value = 4;
};
template <PlainRecord T>
struct MinSize<T> {
  static constexpr std::size_t value = std::apply(
      [](auto... member) {
        return (std::size_t{0} + ... + MinSize<std::remove_cvref_t<decltype(std::declval<T>().*member)>>::value);
      },
      T::fields());
};

inline void decode(JuteReader& r, int32_t& v) { v = r.i32(); }
inline void decode(JuteReader& r, int64_t& v) { v = r.i64(); }
inline void decode(JuteReader& r, bool& v) { v = r.boolean(); }
inline void decode(JuteReader& r, std::string& v) { v = r.bytes(); }
template <class T>
void decode(JuteReader& r, std::vector<T>& v);
template <PlainRecord T>
void decode(JuteReader& r, T& rec) {
  std::apply([&](auto... member) { (decode(r, rec.*member), ...); }, T::fields());
}
template <class T>
void decode(JuteReader& r, std::vector<T>& v) {
  const std::size_t n = r.count(MinSize<T>::value);
  v.clear();
  v.reserve(n);
  for (std::size_t i = 0; i < n && r.ok(); ++i) decode(r, v.emplace_back());
}

void encode(JuteWriter& w, const ConnectRequest& r);
void decode(JuteReader& r, ConnectRequest& rec);
void encode(JuteWriter& w, const MultiRequest& r);
void decode(JuteReader& r, MultiRequest& rec);
void encode(JuteWriter& w, const MultiResponse& r);
void decode(JuteReader& r, MultiResponse& rec);

// Decodes a record from the start of `bytes`; false if it is malformed or
// truncated. Trailing bytes are ignored, as ZooKeeper's server ignores them.
template <class T>
bool decode_from(std::string_view bytes, T& out) {
  JuteReader r(bytes);
  decode(r, out);
  return r.ok();
}

template <class T>
std::string encode_to_string(const T& rec) {
  std::string out;
  JuteWriter w(out);
  encode(w, rec);
  return out;
}

}  // namespace corral::wire
