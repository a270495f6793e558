// Message bodies per opcode and version: input = [version selector][opcode][body].
// Bodies that decode must re-encode and decode to the same message (requests) or
// re-encode to the same bytes after one round (responses).
#include <cstddef>
#include <cstdint>

#include "cql/protocol/frame.hpp"
#include "cql/protocol/requests.hpp"
#include "cql/protocol/responses.hpp"
#include "fuzz_common.hpp"

using namespace cql::protocol;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    auto v = static_cast<protocol_version>(3 + data[0] % 3);
    if (!is_known_opcode(data[1])) return 0;
    auto op = static_cast<opcode>(data[1]);
    bytes_view body(data + 2, size - 2);

    if (is_request_opcode(op)) {
        request req;
        request_storage storage;
        if (!decode_request_body(op, body, v, req, storage)) {
            CQL_FUZZ_CHECK(opcode_of(req) == op);
            byte_buffer once;
            byte_writer w(once);
            CQL_FUZZ_CHECK(!encode(w, req, v));
            request again;
            request_storage storage2;
            CQL_FUZZ_CHECK(!decode_request_body(op, once, v, again, storage2));
            CQL_FUZZ_CHECK(again == req);
        }
    } else {
        request req;
        request_storage storage;
        CQL_FUZZ_CHECK(decode_request_body(op, body, v, req, storage) ==
                       make_error_code(codec_errc::unknown_opcode));
    }

    response resp;
    if (!decode_response_message(v, op, body, resp)) {
        CQL_FUZZ_CHECK(response_opcode(resp) == op);
        byte_buffer once;
        byte_writer w(once);
        encode_response_message(w, v, resp);
        response again;
        CQL_FUZZ_CHECK(!decode_response_message(v, op, once, again));
        byte_buffer twice;
        byte_writer w2(twice);
        encode_response_message(w2, v, again);
        CQL_FUZZ_CHECK(twice == once);
    }
    return 0;
}
