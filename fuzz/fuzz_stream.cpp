// The one-direction stream decoder: input = [control][stream bytes]. Control bit 0: the
// server side; bits 1-2: compression choice (automatic, none, lz4, automatic); bits 3-7
// seed the piece sizes. Every frame is decoded as a request or response. Fed whole and in
// pieces, the decoder must give the same frames, the same error and the same error offset;
// decoding in place (decode(): the caller keeps the unconsumed bytes, as a connection's read
// buffer does) must give the same frames and the same decoding error.
// The same again with an endpoint's decoder (segment_switch::told, frame_faults::report),
// driven as cqlsim drives it on the client side (LZ4 and the v5 switch from STARTUP) and as
// a driver would on the server side (the switch after READY/AUTHENTICATE): whole, in pieces
// and in place agree; on the server side its good frames start with the observer's (all of
// them when the observer found no error); faults of one frame never become sticky errors.
#include <algorithm>
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
// responses from the server), as run() and run_in_place() both do. An endpoint's decoder is
// then told what the handshake frames negotiate.
struct frame_recorder {
    result& out;
    stream_side side;
    stream_decoder* endpoint = nullptr;
    compression_algorithm server_layout = compression_algorithm::none;
    decoded_request req{};
    response resp{};
    void operator()(const stream_frame& f) {
        auto h = hash_bytes(f.envelope.data(), f.envelope.size(), f.offset * 31 + f.payload_offset);
        h = hash_bytes(f.frame.body.data(), f.frame.body.size(), h);
        out.frames.push_back(f.fault ? ~h ^ static_cast<std::uint64_t>(f.fault.value()) : h);
        if (f.fault) return;
        if (endpoint) tell(f);
        if (side == stream_side::client) {
            (void)decode_request(f.frame, req);
        } else {
            body_prefix p;
            (void)decode_response(f.frame, resp, p);
        }
    }
    // What cqlsim does after a STARTUP it accepts, and a driver after READY/AUTHENTICATE.
    void tell(const stream_frame& f) {
        const auto& h = f.frame.header;
        if (endpoint->in_segments()) return;
        if (side == stream_side::client && h.op == opcode::startup) {
            if (decode_request(f.frame, req)) return;
            auto c = std::get<startup_request>(req.message).option("COMPRESSION");
            const bool lz4 = c && *c == "lz4";
            if (h.version == protocol_version::v5)
                endpoint->start_segments(lz4 ? compression_algorithm::lz4
                                             : compression_algorithm::none);
            else if (lz4)
                endpoint->set_compression(compression_choice::lz4);
        } else if (side == stream_side::server && h.version == protocol_version::v5 &&
                   (h.op == opcode::ready || h.op == opcode::authenticate)) {
            endpoint->start_segments(server_layout);
        }
    }
};

// The decoder of run() and run_in_place(): an observer's, or an endpoint's (which on the
// client side starts without compression, as cqlsim does, until a STARTUP asks for it).
struct decoder_setup {
    bool endpoint = false;
    stream_decoder make(stream_side side, compression_choice c) const {
        if (!endpoint) return stream_decoder(side, c, 1u << 20);
        return stream_decoder(side, side == stream_side::client ? compression_choice::none : c,
                              1u << 20, {segment_switch::told, frame_faults::report});
    }
    void attach(frame_recorder& r, stream_decoder& d, compression_choice c) const {
        if (!endpoint) return;
        r.endpoint = &d;
        r.server_layout =
            c == compression_choice::lz4 ? compression_algorithm::lz4 : compression_algorithm::none;
    }
};

bool frame_fault_kind(std::error_code ec) {
    return ec == codec_errc::version_mismatch || ec == codec_errc::unexpected_direction ||
           ec == codec_errc::unexpected_compression;
}

result run(bytes_view in, stream_side side, compression_choice c, std::uint8_t seed, bool whole,
           decoder_setup setup = {}) {
    result out;
    auto d = setup.make(side, c);
    frame_recorder record{out, side};
    setup.attach(record, d, c);
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
result run_in_place(bytes_view in, stream_side side, compression_choice c, std::uint8_t seed,
                    decoder_setup setup = {}) {
    result out;
    auto d = setup.make(side, c);
    frame_recorder on_frame{out, side};
    setup.attach(on_frame, d, c);
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

    const decoder_setup endpoint{true};
    auto ea = run(in, side, c, data[0], true, endpoint);
    auto eb = run(in, side, c, data[0], false, endpoint);
    CQL_FUZZ_CHECK(ea.frames == eb.frames);
    CQL_FUZZ_CHECK(ea.error == eb.error);
    CQL_FUZZ_CHECK(ea.error_offset == eb.error_offset);
    CQL_FUZZ_CHECK(!frame_fault_kind(ea.error));
    auto ei = run_in_place(in, side, c, data[0], endpoint);
    CQL_FUZZ_CHECK(ei.frames == eb.frames);
    CQL_FUZZ_CHECK(ei.decode_error == eb.decode_error);
    // Server side with a fixed layout, the endpoint is told of the switch where the observer
    // infers it: the same frames, up to the observer's first error.
    if (side == stream_side::server && c != compression_choice::automatic) {
        CQL_FUZZ_CHECK(ea.frames.size() >= a.frames.size());
        CQL_FUZZ_CHECK(std::equal(a.frames.begin(), a.frames.end(), ea.frames.begin()));
        if (!a.error) CQL_FUZZ_CHECK(ea.frames == a.frames && !ea.error);
    }
    return 0;
}
