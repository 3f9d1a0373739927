// Fuzz target: the frame decoder and every record decoder of corral::wire.
//
// Input: [flags][chunk seed][byte stream]. The stream goes into a
// FrameDecoder in chunks of pseudo-random sizes (through append() or
// prepare()/commit(), as a socket read would), and every frame that comes out
// is decoded the way a server decodes it (ConnectRequest; RequestHeader and
// the record of its opcode) and the way a client decodes it (ConnectResponse;
// ReplyHeader and each response record). Checks:
//  * no crash, no UB, no allocation beyond what the input justifies (run with
//    -malloc_limit_mb);
//  * the frames handed out, re-framed, are exactly the bytes fed in;
//  * a bad length is reported only for a negative or oversized length;
//  * every record that decodes re-encodes to bytes that decode to the same
//    record, and re-encode to the same bytes;
//  * a path that path_problem() accepts is strict UTF-8 (paths travel in
//    protobuf `string` fields, which refuse anything else when parsed) and
//    splits and joins back (parent_path, base_name, child_path).
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "corral/wire/error.h"
#include "corral/wire/frame.h"
#include "corral/wire/path.h"
#include "corral/wire/protocol.h"
#include "corral/wire/records.h"
#include "fuzz_check.h"

namespace wire = corral::wire;

namespace {

// Decodes `bytes` as T; if that works, checks the encode/decode round trip.
template <class T>
bool round_trip(std::string_view bytes, const char* name) {
  T a{};
  if (!wire::decode_from(bytes, a)) return false;
  const std::string enc = wire::encode_to_string(a);
  T b{};
  FUZZ_CHECK(wire::decode_from(enc, b), "%s: re-encoded record does not decode", name);
  FUZZ_CHECK(a == b, "%s: record changed in an encode/decode round trip", name);
  FUZZ_CHECK(wire::encode_to_string(b) == enc, "%s: encoding is not stable", name);
  return true;
}

// Strict UTF-8 as protobuf checks it: no overlong forms, no surrogates, nothing
// above U+10FFFF.
bool strict_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    int n = 0;
    uint32_t cp = 0;
    if (b < 0x80) {
      ++i;
      continue;
    } else if ((b & 0xe0) == 0xc0) {
      n = 1, cp = b & 0x1f;
    } else if ((b & 0xf0) == 0xe0) {
      n = 2, cp = b & 0x0f;
    } else if ((b & 0xf8) == 0xf0) {
      n = 3, cp = b & 0x07;
    } else {
      return false;
    }
    if (s.size() - i - 1 < static_cast<std::size_t>(n)) return false;
    for (int k = 1; k <= n; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3f);
    }
    static constexpr uint32_t min_cp[] = {0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[n] || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return false;
    i += 1 + n;
  }
  return true;
}

void check_path(std::string_view path) {
  if (!wire::is_valid_path(path)) return;
  FUZZ_CHECK(strict_utf8(path), "path_problem accepts a path that is not strict UTF-8 (%zu bytes)", path.size());
  if (path == "/") return;
  const std::string_view parent = wire::parent_path(path);
  const std::string_view base = wire::base_name(path);
  FUZZ_CHECK(wire::is_valid_path(parent) && !base.empty() && base.find('/') == std::string_view::npos,
             "a valid path splits into an invalid parent or name");
  FUZZ_CHECK(wire::child_path(parent, base) == path, "parent_path + base_name does not give the path back");
}

void decode_request(std::string_view frame) {
  check_path(frame);
  // A server decodes the first frame of a connection as a ConnectRequest.
  round_trip<wire::ConnectRequest>(frame, "ConnectRequest");

  wire::JuteReader r(frame);
  wire::RequestHeader h;
  wire::decode(r, h);
  if (!r.ok()) return;
  const std::string_view payload = frame.substr(r.position());
  switch (static_cast<wire::OpCode>(h.type)) {
    case wire::OpCode::create:
    case wire::OpCode::create2:
    case wire::OpCode::createContainer: {
      wire::CreateRequest req;
      if (round_trip<wire::CreateRequest>(payload, "CreateRequest") && wire::decode_from(payload, req)) {
        if (auto mode = wire::create_mode_from_flags(req.flags)) {
          (void)wire::is_sequential(*mode);
          (void)wire::is_ephemeral(*mode);
          (void)wire::is_ttl(*mode);
        }
      }
      break;
    }
    case wire::OpCode::createTTL: {
      wire::CreateTTLRequest req;
      if (round_trip<wire::CreateTTLRequest>(payload, "CreateTTLRequest") && wire::decode_from(payload, req)) {
        const int64_t owner = wire::ttl_owner(req.ttl);
        if (req.ttl > 0 && req.ttl <= wire::max_ttl_ms) {
          FUZZ_CHECK(wire::is_ttl_owner(owner) && wire::ttl_of_owner(owner) == req.ttl, "ttl owner round trip");
        }
      }
      break;
    }
    case wire::OpCode::remove:
    case wire::OpCode::check:
    case wire::OpCode::deleteContainer:
      round_trip<wire::PathVersionRequest>(payload, "PathVersionRequest");
      round_trip<wire::PathRecord>(payload, "PathRecord");
      break;
    case wire::OpCode::exists:
    case wire::OpCode::getData:
    case wire::OpCode::getChildren:
    case wire::OpCode::getChildren2: round_trip<wire::PathWatchRequest>(payload, "PathWatchRequest"); break;
    case wire::OpCode::setData: round_trip<wire::SetDataRequest>(payload, "SetDataRequest"); break;
    case wire::OpCode::getACL:
    case wire::OpCode::sync:
    case wire::OpCode::getEphemerals:
    case wire::OpCode::getAllChildrenNumber:
      if (wire::PathRecord rec;
          round_trip<wire::PathRecord>(payload, "PathRecord") && wire::decode_from(payload, rec)) {
        check_path(rec.path);
      }
      break;
    case wire::OpCode::setACL: round_trip<wire::SetACLRequest>(payload, "SetACLRequest"); break;
    case wire::OpCode::multi:
    case wire::OpCode::multiRead: round_trip<wire::MultiRequest>(payload, "MultiRequest"); break;
    case wire::OpCode::checkWatches:
    case wire::OpCode::removeWatches: round_trip<wire::PathTypeRequest>(payload, "PathTypeRequest"); break;
    case wire::OpCode::addWatch: round_trip<wire::AddWatchRequest>(payload, "AddWatchRequest"); break;
    case wire::OpCode::auth: round_trip<wire::AuthPacket>(payload, "AuthPacket"); break;
    case wire::OpCode::setWatches: round_trip<wire::SetWatches>(payload, "SetWatches"); break;
    case wire::OpCode::setWatches2: round_trip<wire::SetWatches2>(payload, "SetWatches2"); break;
    default:  // ping, closeSession, whoAmI and unknown opcodes carry no record we read
      break;
  }
}

void decode_response(std::string_view frame) {
  // A client decodes the first frame from a server as a ConnectResponse.
  round_trip<wire::ConnectResponse>(frame, "ConnectResponse");

  wire::JuteReader r(frame);
  wire::ReplyHeader h;
  wire::decode(r, h);
  if (!r.ok()) return;
  (void)corral::error_name(static_cast<corral::Error>(h.err));
  (void)corral::make_error_code(static_cast<corral::Error>(h.err)).message();
  const std::string_view body = frame.substr(r.position());
  // Which record follows depends on the request the xid belongs to, which
  // only the client knows: try them all.
  if (h.xid == wire::xid::notification) round_trip<wire::WatcherEvent>(body, "WatcherEvent");
  round_trip<wire::PathRecord>(body, "CreateResponse");
  round_trip<wire::Create2Response>(body, "Create2Response");
  round_trip<wire::StatResponse>(body, "StatResponse");
  round_trip<wire::GetDataResponse>(body, "GetDataResponse");
  round_trip<wire::StringListResponse>(body, "StringListResponse");
  round_trip<wire::GetChildren2Response>(body, "GetChildren2Response");
  round_trip<wire::GetACLResponse>(body, "GetACLResponse");
  round_trip<wire::GetAllChildrenNumberResponse>(body, "GetAllChildrenNumberResponse");
  round_trip<wire::WhoAmIResponse>(body, "WhoAmIResponse");
  round_trip<wire::ErrorResponse>(body, "ErrorResponse");
  round_trip<wire::MultiResponse>(body, "MultiResponse");
}

int32_t be32(const std::string& s, std::size_t at) {
  const auto* u = reinterpret_cast<const unsigned char*>(s.data() + at);
  return static_cast<int32_t>((uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) | (uint32_t{u[2]} << 8) | u[3]);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t flags = data[0];
  uint32_t rng = 0x9e3779b9u ^ data[1];
  const std::string_view stream(reinterpret_cast<const char*>(data) + 2, size - 2);

  // Mostly ZooKeeper's default limit; sometimes a small one so that the
  // bad-length path is reached by ordinary frames.
  const std::size_t max_frame = (flags & 1) ? 1 + (flags >> 1) * 8 : wire::default_max_frame;
  wire::FrameDecoder dec(max_frame);
  FUZZ_CHECK(dec.max_frame() == max_frame, "max_frame");

  std::string fed;       // every byte handed to the decoder
  std::string reframed;  // every frame handed out, with its length prefix again
  std::size_t pos = 0;
  while (pos < stream.size()) {
    rng = rng * 1103515245u + 12345u;
    const std::size_t want = 1 + ((rng >> 16) % ((flags & 0x80) ? 7 : 300));
    const std::size_t n = std::min(want, stream.size() - pos);
    const std::string_view chunk = stream.substr(pos, n);
    pos += n;
    if ((rng >> 8) & 1) {
      dec.append(chunk);
    } else {
      // As a socket read: ask for room, fill part of it.
      const std::size_t min_size = (rng >> 9) % 2 ? n : n + ((rng >> 10) % 64);
      const std::span<char> room = dec.prepare(min_size);
      FUZZ_CHECK(room.size() >= min_size, "prepare(%zu) gave %zu bytes", min_size, room.size());
      std::memcpy(room.data(), chunk.data(), n);
      dec.commit(n);
    }
    fed.append(chunk);

    for (;;) {
      FUZZ_CHECK(reframed.size() + dec.buffered() == fed.size(), "decoder lost or invented bytes: %zu + %zu != %zu",
                 reframed.size(), dec.buffered(), fed.size());
      const auto peek = dec.peek_length();
      FUZZ_CHECK(peek.has_value() == (dec.buffered() >= 4), "peek_length with %zu bytes buffered", dec.buffered());
      if (peek) FUZZ_CHECK(*peek == be32(fed, reframed.size()), "peek_length disagrees with the bytes");

      std::string_view frame;
      const auto status = dec.next(frame);
      if (status == wire::FrameDecoder::Status::need_more) {
        FUZZ_CHECK(!peek || (*peek >= 0 && static_cast<std::size_t>(*peek) <= max_frame &&
                             dec.buffered() < 4 + static_cast<std::size_t>(*peek)),
                   "need_more with a whole frame buffered");
        break;
      }
      if (status == wire::FrameDecoder::Status::bad_length) {
        FUZZ_CHECK(peek && (*peek < 0 || static_cast<std::size_t>(*peek) > max_frame) && dec.bad_length() == *peek,
                   "bad_length for length %lld", static_cast<long long>(dec.bad_length()));
        return 0;  // a server closes the connection here
      }
      FUZZ_CHECK(peek && static_cast<std::size_t>(*peek) == frame.size() && frame.size() <= max_frame,
                 "frame of %zu bytes for length %d", frame.size(), peek ? *peek : -1);
      // The frame must stay valid while we decode it (until the next call).
      const std::string copy(frame);
      decode_request(frame);
      decode_response(frame);
      FUZZ_CHECK(copy == frame, "frame view changed while decoding");
      wire::append_frame(reframed, frame);
      FUZZ_CHECK(fed.compare(0, reframed.size(), reframed) == 0, "frames do not add up to the bytes fed");
    }
  }
  return 0;
}
