// The streaming v5 segment decoder: input = [control][segment bytes]; control bit 0 picks
// the LZ4 layout, the other bits seed the sizes of the pieces. The bytes are decoded
// once whole (segment_stream) and once in pieces (buffered_segment_stream): both must
// give the same frames and the same error. The frames found are then packed again with
// encode_segments (small segments, so frames spread) and must decode to the same frames.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "cql/protocol/segment.hpp"
#include "fuzz_common.hpp"

using namespace cql::protocol;
using cql::fuzz::hash_bytes;

namespace {

constexpr std::uint32_t max_body = 1u << 20;

struct frames_seen {
    std::vector<std::uint64_t> hashes;
    byte_buffer all;  // the frames, back to back (for re-encoding)
    void add(const frame_view& f) {
        byte_buffer one;
        byte_writer w(one);
        encode_frame_header(w, f.header);
        w.raw(f.body);
        hashes.push_back(hash_bytes(one.data(), one.size()));
        all.insert(all.end(), one.begin(), one.end());
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    auto layout = (data[0] & 1) ? compression_algorithm::lz4 : compression_algorithm::none;
    bytes_view in(data + 1, size - 1);

    // Whole.
    frames_seen whole;
    segment_stream stream(layout, max_body);
    std::size_t used = 0;
    auto ec_whole = stream.decode(in, used, [&](const frame_view& f) { whole.add(f); });
    CQL_FUZZ_CHECK(used <= in.size());
    if (!ec_whole && used == in.size())
        ec_whole = stream.finish();
    else if (!ec_whole)
        ec_whole = make_error_code(codec_errc::truncated);

    // In pieces.
    frames_seen pieces;
    buffered_segment_stream buffered(layout, max_body);
    cql::fuzz::chunker chunks(data[0]);
    std::error_code ec_pieces;
    for (std::size_t pos = 0; pos < in.size() && !ec_pieces;) {
        auto n = chunks.next();
        if (n > in.size() - pos) n = in.size() - pos;
        ec_pieces = buffered.feed(in.subspan(pos, n), [&](const frame_view& f) { pieces.add(f); });
        pos += n;
    }
    if (!ec_pieces) ec_pieces = buffered.finish();

    CQL_FUZZ_CHECK(whole.hashes == pieces.hashes);
    CQL_FUZZ_CHECK(!ec_whole == !ec_pieces);

    // Re-packed frames decode to the same frames.
    if (!whole.all.empty()) {
        byte_buffer packed;
        CQL_FUZZ_CHECK(!encode_segments(whole.all, layout, packed, 1 + data[0] % 200));
        frames_seen again;
        segment_stream s2(layout, max_body);
        std::size_t used2 = 0;
        CQL_FUZZ_CHECK(!s2.decode(packed, used2, [&](const frame_view& f) { again.add(f); }));
        CQL_FUZZ_CHECK(used2 == packed.size());
        CQL_FUZZ_CHECK(!s2.finish());
        CQL_FUZZ_CHECK(again.hashes == whole.hashes);
    }
    return 0;
}
