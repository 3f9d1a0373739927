// The wire codec (wire/): encode and decode of the records a server
// handles most, and frame splitting of a stream of small frames.
//
// Encoders append to one std::string that is cleared (not freed) between
// iterations, as a connection's output buffer is; decoders decode into a
// fresh record each time, as the server does per request.
#include <benchmark/benchmark.h>

#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "corral/wire/frame.h"
#include "corral/wire/jute.h"
#include "corral/wire/protocol.h"
#include "corral/wire/records.h"
#include "micro/alloc_counter.h"
#include "micro/bench_util.h"

namespace corral::bench {
namespace {

using wire::OpCode;

const std::string kPath = "/bench/p3/n0004217";

wire::Stat typical_stat() {
  return wire::Stat{0x100000123, 0x100000456, 1'700'000'000'123, 1'700'000'000'456, 3, 0, 0, 0, 100, 0, 0x100000123};
}

wire::CreateRequest typical_create() { return wire::CreateRequest{kPath, payload(100), open_acl(), 0}; }

wire::MultiRequest ten_op_multi() {
  // The mix a recipe sends: creates, a version check, data updates, deletes.
  wire::MultiRequest m;
  for (int i = 0; i < 10; ++i) {
    wire::MultiOp op;
    op.path = kPath + "/c" + std::to_string(i);
    switch (i % 4) {
      case 0:
        op.type = OpCode::create;
        op.data = payload(100);
        op.acl = open_acl();
        break;
      case 1:
        op.type = OpCode::check;
        op.version = 4;
        break;
      case 2:
        op.type = OpCode::setData;
        op.data = payload(100);
        op.version = 2;
        break;
      default:
        op.type = OpCode::remove;
        op.version = -1;
        break;
    }
    m.ops.push_back(std::move(op));
  }
  return m;
}

// Encodes header + record into `out` (cleared first), as a request frame body.
template <class T>
void encode_request(std::string& out, int32_t xid, OpCode op, const T& rec) {
  out.clear();
  wire::JuteWriter w(out);
  wire::encode(w, wire::RequestHeader{xid, static_cast<int32_t>(op)});
  wire::encode(w, rec);
}

template <class T>
void encode_reply(std::string& out, int32_t xid, const T& rec) {
  out.clear();
  wire::JuteWriter w(out);
  wire::encode(w, wire::ReplyHeader{xid, 0x100000456, 0});
  wire::encode(w, rec);
}

// Decodes a request frame body: header, then the record.
template <class T>
bool decode_request(std::string_view frame, wire::RequestHeader& h, T& rec) {
  wire::JuteReader r(frame);
  wire::decode(r, h);
  wire::decode(r, rec);
  return r.ok();
}

template <class T>
bool decode_reply(std::string_view frame, wire::ReplyHeader& h, T& rec) {
  wire::JuteReader r(frame);
  wire::decode(r, h);
  wire::decode(r, rec);
  return r.ok();
}

// ---- GetDataRequest ------------------------------------------------------------

void BM_Codec_GetDataRequest_Encode(benchmark::State& state) {
  const wire::GetDataRequest req{kPath, false};
  std::string out;
  int32_t xid = 0;
  const AllocationMeter meter;
  for (auto _ : state) {
    encode_request(out, ++xid, OpCode::getData, req);
    benchmark::DoNotOptimize(out.data());
  }
  meter.report(state, static_cast<double>(state.iterations()));
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * out.size()));
}
BENCHMARK(BM_Codec_GetDataRequest_Encode);

void BM_Codec_GetDataRequest_Decode(benchmark::State& state) {
  std::string frame;
  encode_request(frame, 7, OpCode::getData, wire::GetDataRequest{kPath, true});
  const AllocationMeter meter;
  for (auto _ : state) {
    wire::RequestHeader h;
    wire::GetDataRequest req;
    const bool ok = decode_request(frame, h, req);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(req.path.data());
  }
  meter.report(state, static_cast<double>(state.iterations()));
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * frame.size()));
}
BENCHMARK(BM_Codec_GetDataRequest_Decode);

// ---- GetDataResponse (100 bytes of data) ----------------------------------------

void BM_Codec_GetDataResponse100_Encode(benchmark::State& state) {
  const wire::GetDataResponse resp{payload(100), typical_stat()};
  std::string out;
  int32_t xid = 0;
  const AllocationMeter meter;
  for (auto _ : state) {
    encode_reply(out, ++xid, resp);
    benchmark::DoNotOptimize(out.data());
  }
  meter.report(state, static_cast<double>(state.iterations()));
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * out.size()));
}
BENCHMARK(BM_Codec_GetDataResponse100_Encode);

// What the server's read path does instead of building a GetDataResponse:
// the data view straight from the tree, then the Stat (reads.cc get_data).
void BM_Codec_GetDataResponse100_EncodeFromView(benchmark::State& state) {
  const std::string data = payload(100);
  const std::string_view view = data;
  const wire::Stat stat = typical_stat();
  std::string out;
  int32_t xid = 0;
  const AllocationMeter meter;
  for (auto _ : state) {
    out.clear();
    wire::JuteWriter w(out);
    wire::encode(w, wire::ReplyHeader{++xid, 0x100000456, 0});
    w.bytes(view);
    wire::encode(w, stat);
    benchmark::DoNotOptimize(out.data());
  }
  meter.report(state, static_cast<double>(state.iterations()));
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * out.size()));
}
BENCHMARK(BM_Codec_GetDataResponse100_EncodeFromView);

void BM_Codec_GetDataResponse100_Decode(benchmark::State& state) {
  std::string frame;
  encode_reply(frame, 7, wire::GetDataResponse{payload(100), typical_stat()});
  const AllocationMeter meter;
  for (auto _ : state) {
    wire::ReplyHeader h;
    wire::GetDataResponse resp;
    const bool ok = decode_reply(frame, h, resp);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(resp.data.data());
  }
  meter.report(state, static_cast<double>(state.iterations()));
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * frame.size()));
}
BENCHMARK(BM_Codec_GetDataResponse100_Decode);

// ---- CreateRequest (100 bytes of data, world:anyone ACL) ------------------------

void BM_Codec_CreateRequest_Encode(benchmark::State& state) {
  const wire::CreateRequest req = typical_create();
  std::string out;
  int32_t xid = 0;
  const AllocationMeter meter;
  for (auto _ : state) {
    encode_request(out, ++xid, OpCode::create, req);
    benchmark::DoNotOptimize(out.data());
  }
  meter.report(state, static_cast<double>(state.iterations()));
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * out.size()));
}
BENCHMARK(BM_Codec_CreateRequest_Encode);

void BM_Codec_CreateRequest_Decode(benchmark::State& state) {
  std::string frame;
  encode_request(frame, 7, OpCode::create, typical_create());
  const AllocationMeter meter;
  for (auto _ : state) {
    wire::RequestHeader h;
    wire::CreateRequest req;
    const bool ok = decode_request(frame, h, req);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(req.acl.data());
  }
  meter.report(state, static_cast<double>(state.iterations()));
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * frame.size()));
}
BENCHMARK(BM_Codec_CreateRequest_Decode);

// ---- Stat ------------------------------------------------------------------------

void BM_Codec_Stat_Encode(benchmark::State& state) {
  const wire::Stat stat = typical_stat();
  std::string out;
  const AllocationMeter meter;
  for (auto _ : state) {
    out.clear();
    wire::JuteWriter w(out);
    wire::encode(w, stat);
    benchmark::DoNotOptimize(out.data());
  }
  meter.report(state, static_cast<double>(state.iterations()));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Codec_Stat_Encode);

void BM_Codec_Stat_Decode(benchmark::State& state) {
  const std::string bytes = wire::encode_to_string(typical_stat());
  const AllocationMeter meter;
  for (auto _ : state) {
    wire::Stat stat;
    const bool ok = wire::decode_from(bytes, stat);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(stat);
  }
  meter.report(state, static_cast<double>(state.iterations()));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Codec_Stat_Decode);

// ---- MultiRequest of 10 ops ---------------------------------------------------------

void BM_Codec_Multi10_Encode(benchmark::State& state) {
  const wire::MultiRequest m = ten_op_multi();
  std::string out;
  int32_t xid = 0;
  const AllocationMeter meter;
  for (auto _ : state) {
    encode_request(out, ++xid, OpCode::multi, m);
    benchmark::DoNotOptimize(out.data());
  }
  meter.report(state, static_cast<double>(state.iterations()));
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * out.size()));
}
BENCHMARK(BM_Codec_Multi10_Encode);

void BM_Codec_Multi10_Decode(benchmark::State& state) {
  std::string frame;
  encode_request(frame, 7, OpCode::multi, ten_op_multi());
  const AllocationMeter meter;
  for (auto _ : state) {
    wire::RequestHeader h;
    wire::MultiRequest m;
    const bool ok = decode_request(frame, h, m);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(m.ops.data());
  }
  meter.report(state, static_cast<double>(state.iterations()));
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * frame.size()));
}
BENCHMARK(BM_Codec_Multi10_Decode);

// ---- frame splitting ------------------------------------------------------------------

// A stream of framed getData requests (~35 bytes each) arriving in socket-sized
// reads of state.range(0) bytes; each iteration splits the whole stream.
void BM_Codec_FrameSplit(benchmark::State& state) {
  const auto read_size = static_cast<std::size_t>(state.range(0));
  constexpr int frames = 4096;
  std::string stream;
  std::string body;
  for (int i = 0; i < frames; ++i) {
    encode_request(body, i + 1, OpCode::getData,
                   wire::GetDataRequest{node_path(i % 10, static_cast<uint32_t>(i)), false});
    wire::append_frame(stream, body);
  }
  wire::FrameDecoder decoder;
  std::size_t seen = 0;
  const AllocationMeter meter;
  for (auto _ : state) {
    for (std::size_t at = 0; at < stream.size(); at += read_size) {
      const std::size_t n = std::min(read_size, stream.size() - at);
      auto space = decoder.prepare(read_size);
      std::memcpy(space.data(), stream.data() + at, n);  // stands in for read(2)
      decoder.commit(n);
      std::string_view frame;
      while (decoder.next(frame) == wire::FrameDecoder::Status::frame) {
        benchmark::DoNotOptimize(frame.data());
        ++seen;
      }
    }
  }
  if (seen != static_cast<std::size_t>(state.iterations()) * frames) state.SkipWithError("lost frames");
  meter.report(state, static_cast<double>(seen));
  state.SetItemsProcessed(static_cast<int64_t>(seen));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * stream.size()));
  state.counters["frame_bytes"] = static_cast<double>(stream.size()) / frames;
}
BENCHMARK(BM_Codec_FrameSplit)->Arg(1500)->Arg(16 * 1024);

}  // namespace
}  // namespace corral::bench
