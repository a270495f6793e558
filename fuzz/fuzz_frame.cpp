// split_frame on arbitrary bytes, then every frame decoded as a request and as a response
// in every protocol version. A message that decodes must re-encode, decode again to the
// same request, and re-encode to the same bytes.
#include <cstddef>
#include <cstdint>

#include "cql/protocol/frame.hpp"
#include "cql/protocol/requests.hpp"
#include "cql/protocol/responses.hpp"
#include "fuzz_common.hpp"

using namespace cql::protocol;

namespace {

void request_round_trip(const frame_view& f) {
    decoded_request req;
    if (decode_request(f, req)) return;
    const body_prefix* prefix = req.prefix.custom_payload.empty() ? nullptr : &req.prefix;
    byte_buffer once;
    CQL_FUZZ_CHECK(!encode_request_frame(once, f.header.version, req.stream, req.message, prefix,
                                         req.tracing));
    auto s = split_frame(once);
    CQL_FUZZ_CHECK(!s.error && s.consumed == once.size());
    decoded_request again;
    CQL_FUZZ_CHECK(!decode_request(s.frame, again));
    CQL_FUZZ_CHECK(again.message == req.message);
    CQL_FUZZ_CHECK(again.tracing == req.tracing);
    byte_buffer twice;
    const body_prefix* prefix2 = again.prefix.custom_payload.empty() ? nullptr : &again.prefix;
    CQL_FUZZ_CHECK(!encode_request_frame(twice, f.header.version, again.stream, again.message,
                                         prefix2, again.tracing));
    CQL_FUZZ_CHECK(twice == once);
}

void response_round_trip(const frame_view& f) {
    response resp;
    body_prefix prefix;
    if (decode_response(f, resp, prefix)) return;
    byte_buffer once;
    encode_response_frame(once, f.header.version, f.header.stream, resp, &prefix);
    auto s = split_frame(once);
    CQL_FUZZ_CHECK(!s.error && s.consumed == once.size());
    response again;
    body_prefix prefix2;
    CQL_FUZZ_CHECK(!decode_response(s.frame, again, prefix2));
    CQL_FUZZ_CHECK(again.index() == resp.index());
    byte_buffer twice;
    encode_response_frame(twice, f.header.version, f.header.stream, again, &prefix2);
    CQL_FUZZ_CHECK(twice == once);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    bytes_view in(data, size);
    for (int frames = 0; !in.empty() && frames < 64; ++frames) {
        auto s = split_frame(in, 1u << 20);
        if (s.error || s.consumed == 0) break;
        CQL_FUZZ_CHECK(s.consumed == frame_header_size + s.frame.body.size());
        for (auto v : {protocol_version::v3, protocol_version::v4, protocol_version::v5}) {
            frame_view f = s.frame;
            f.header.version = v;
            f.header.is_response = false;
            request_round_trip(f);
            f.header.is_response = true;
            response_round_trip(f);
        }
        in = in.subspan(s.consumed);
    }
    return 0;
}
