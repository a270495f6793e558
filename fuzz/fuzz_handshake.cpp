// The client side of the handshake (src/detail/handshake.hpp) fed with a server's bytes, as a
// connection feeds it: input = [control][server bytes]. Control bit 0: v5 (else v4); bit 1:
// LZ4 wanted; bit 2: credentials configured; bit 3: a lower version may follow; bits 4-7
// seed the piece sizes. Whatever the bytes, the handshake ends in one of its steps, a failure
// carries an error and words, and nothing crashes or grows without bound.
#include <cstddef>
#include <cstdint>

#include "cql/protocol/stream_decoder.hpp"
#include "detail/handshake.hpp"
#include "fuzz_common.hpp"

using namespace cql::protocol;
using cql::detail::client_handshake;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const auto control = data[0];
    client_handshake::settings s;
    s.version = (control & 1) ? protocol_version::v5 : protocol_version::v4;
    s.compression = (control & 2) ? cql::compression::lz4 : cql::compression::none;
    if (control & 4) s.auth = cql::plain_text_auth("user", "password");
    s.last_version = !(control & 8);
    s.host = "fuzz";
    client_handshake hs(s);
    byte_buffer out;
    auto step = hs.start(out);
    CQL_FUZZ_CHECK(step == client_handshake::step::write);

    stream_decoder d(stream_side::server, compression_choice::none, 1u << 20);
    bytes_view in(data + 1, size - 1);
    std::error_code ec;
    bool over = false;
    auto on_frame = [&](const stream_frame& f) -> std::error_code {
        out.clear();
        step = hs.on_frame(f.frame, out);
        switch (step) {
            case client_handshake::step::write:
                CQL_FUZZ_CHECK(!out.empty());
                CQL_FUZZ_CHECK(out.size() < (1u << 16));
                if (hs.lz4()) d.set_compression(compression_choice::lz4);
                return {};
            case client_handshake::step::wait:
                return {};
            case client_handshake::step::failed:
                CQL_FUZZ_CHECK(static_cast<bool>(hs.error()));
                CQL_FUZZ_CHECK(!hs.diag().message.empty());
                break;
            case client_handshake::step::done:
            case client_handshake::step::retry_lower:
                break;
        }
        over = true;
        return cql::errc::connection_closed;  // (stops the decoding: the handshake is over)
    };
    cql::fuzz::decode_in_pieces(in, static_cast<std::uint8_t>(control >> 4),
                                [&](bytes_view unconsumed, std::size_t& used) {
                                    used = d.decode(unconsumed, on_frame, ec);
                                    return !ec && !over;
                                });
    return 0;
}
