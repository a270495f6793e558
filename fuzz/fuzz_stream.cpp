// The one-direction stream decoder: input = [control][stream bytes]. Control bit 0: the
// server side; bits 1-2: compression choice (automatic, none, lz4, automatic); bits 3-7
// seed the piece sizes. Every frame is decoded as a request or response. Fed whole and in
// pieces, the decoder must give the same frames, the same error and the same error offset;
// decoding in place (decode(): the caller keeps the unconsumed bytes, as a connection's read
// buffer does) must give the same frames and the same decoding error.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "cql/protocol/requests.hpp"
#include "cql/protocol/responses.hpp"
#include "cql/protocol/stream_decoder.hpp"
#include "fuzz_common.hpp"

using namespace cql::protocol;
using cql::fuzz::hash_bytes;

namespace {

struct result {
    std::vector<std::uint64_t> frames;  // hash of offset, envelope and body
    std::error_code error;
    std::size_t error_offset = 0;
    std::error_code decode_error;  // before finish()
};

// Records each frame's hash in `out` and decodes its message (requests from the client,
// responses from the server), as run() and run_in_place() both do.
struct frame_recorder {
    result& out;
    stream_side side;
    decoded_request req{};
    response resp{};
    void operator()(const stream_frame& f) {
        auto h = hash_bytes(f.envelope.data(), f.envelope.size(), f.offset * 31 + f.payload_offset);
        h = hash_bytes(f.frame.body.data(), f.frame.body.size(), h);
        out.frames.push_back(h);
        if (side == stream_side::client) {
            (void)decode_request(f.frame, req);
        } else {
            body_prefix p;
            (void)decode_response(f.frame, resp, p);
        }
    }
};

result run(bytes_view in, stream_side side, compression_choice c, std::uint8_t seed, bool whole) {
    result out;
    stream_decoder d(side, c, 1u << 20);
    frame_recorder record{out, side};
    auto on_frame = [&record](const stream_frame& f) {
        record(f);
        CQL_FUZZ_CHECK(f.frame.body.size() <= (1u << 20));
    };
    std::error_code ec;
    if (whole) {
        ec = d.feed(in, on_frame);
    } else {
        cql::fuzz::chunker chunks(seed);
        for (std::size_t pos = 0; pos < in.size() && !ec;) {
            auto n = chunks.next();
            if (n > in.size() - pos) n = in.size() - pos;
            ec = d.feed(in.subspan(pos, n), on_frame);
            pos += n;
        }
    }
    out.decode_error = ec;
    if (!ec) ec = d.finish();
    CQL_FUZZ_CHECK(d.consumed() + d.buffered() <= in.size());
    out.error = ec;
    out.error_offset = ec ? d.error_offset() : 0;
    CQL_FUZZ_CHECK(out.error_offset <= in.size());
    return out;
}

// decode(): the bytes arrive in pieces into a buffer of the caller's, which keeps what the
// decoder did not consume.
result run_in_place(bytes_view in, stream_side side, compression_choice c, std::uint8_t seed) {
    result out;
    stream_decoder d(side, c, 1u << 20);
    frame_recorder on_frame{out, side};
    std::error_code ec;
    cql::fuzz::decode_in_pieces(in, seed, [&](bytes_view unconsumed, std::size_t& used) {
        used = d.decode(unconsumed, on_frame, ec);
        CQL_FUZZ_CHECK(used <= unconsumed.size());
        CQL_FUZZ_CHECK(d.needed() > 0 || ec);
        return !ec;
    });
    out.decode_error = ec;
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    auto side = (data[0] & 1) ? stream_side::server : stream_side::client;
    compression_choice choices[] = {compression_choice::automatic, compression_choice::none,
                                    compression_choice::lz4, compression_choice::automatic};
    auto c = choices[(data[0] >> 1) & 3];
    bytes_view in(data + 1, size - 1);
    auto a = run(in, side, c, data[0], true);
    auto b = run(in, side, c, data[0], false);
    CQL_FUZZ_CHECK(a.frames == b.frames);
    CQL_FUZZ_CHECK(a.error == b.error);
    CQL_FUZZ_CHECK(a.error_offset == b.error_offset);
    auto i = run_in_place(in, side, c, data[0]);
    CQL_FUZZ_CHECK(i.frames == b.frames);
    CQL_FUZZ_CHECK(i.decode_error == b.decode_error);
    return 0;
}
