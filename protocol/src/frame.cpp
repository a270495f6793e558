#include "cql/protocol/frame.hpp"

namespace cql::protocol {

std::string_view to_string(consistency c) noexcept {
    switch (c) {
        case consistency::any:
            return "ANY";
        case consistency::one:
            return "ONE";
        case consistency::two:
            return "TWO";
        case consistency::three:
            return "THREE";
        case consistency::quorum:
            return "QUORUM";
        case consistency::all:
            return "ALL";
        case consistency::local_quorum:
            return "LOCAL_QUORUM";
        case consistency::each_quorum:
            return "EACH_QUORUM";
        case consistency::serial:
            return "SERIAL";
        case consistency::local_serial:
            return "LOCAL_SERIAL";
        case consistency::local_one:
            return "LOCAL_ONE";
    }
    return "UNKNOWN";
}

bool is_known_opcode(std::uint8_t op) noexcept {
    return op <= 0x10 && op != 0x04;
}

bool is_request_opcode(opcode op) noexcept {
    switch (op) {
        case opcode::startup:
        case opcode::options:
        case opcode::query:
        case opcode::prepare:
        case opcode::execute:
        case opcode::register_:
        case opcode::batch:
        case opcode::auth_response:
            return true;
        default:
            return false;
    }
}

std::string_view to_string(opcode op) noexcept {
    switch (op) {
        case opcode::error:
            return "ERROR";
        case opcode::startup:
            return "STARTUP";
        case opcode::ready:
            return "READY";
        case opcode::authenticate:
            return "AUTHENTICATE";
        case opcode::options:
            return "OPTIONS";
        case opcode::supported:
            return "SUPPORTED";
        case opcode::query:
            return "QUERY";
        case opcode::result:
            return "RESULT";
        case opcode::prepare:
            return "PREPARE";
        case opcode::execute:
            return "EXECUTE";
        case opcode::register_:
            return "REGISTER";
        case opcode::event:
            return "EVENT";
        case opcode::batch:
            return "BATCH";
        case opcode::auth_challenge:
            return "AUTH_CHALLENGE";
        case opcode::auth_response:
            return "AUTH_RESPONSE";
        case opcode::auth_success:
            return "AUTH_SUCCESS";
    }
    return "UNKNOWN";
}

std::error_code decode_frame_header(bytes_view data, frame_header& out,
                                    std::uint32_t max_body_size) noexcept {
    if (data.size() < frame_header_size) return codec_errc::truncated;
    byte_reader r(data.first(frame_header_size));
    auto version_byte = r.u8();
    auto version = static_cast<std::uint8_t>(version_byte & 0x7F);
    if (!is_supported_version(version)) return codec_errc::unsupported_version;
    out.version = static_cast<protocol_version>(version);
    out.is_response = (version_byte & 0x80) != 0;
    out.flags = r.u8();
    out.stream = r.i16();
    auto op = r.u8();
    if (!is_known_opcode(op)) return codec_errc::unknown_opcode;
    out.op = static_cast<opcode>(op);
    auto length = r.u32();
    if (length > max_body_size) return codec_errc::body_too_large;
    out.body_length = length;
    return {};
}

void encode_frame_header(byte_writer& w, const frame_header& h) {
    w.u8(static_cast<std::uint8_t>(static_cast<std::uint8_t>(h.version) |
                                   (h.is_response ? 0x80 : 0x00)));
    w.u8(h.flags);
    w.i16(h.stream);
    w.u8(static_cast<std::uint8_t>(h.op));
    w.u32(h.body_length);
}

void patch_frame_body_length(byte_buffer& buf, std::size_t header_offset) {
    auto body = buf.size() - header_offset - frame_header_size;
    byte_writer w(buf);
    w.patch_i32(header_offset + 5, static_cast<std::int32_t>(body));
}

frame_split split_frame(bytes_view data, std::uint32_t max_body_size) noexcept {
    frame_split out;
    if (data.size() < frame_header_size) return out;
    out.error = decode_frame_header(data, out.frame.header, max_body_size);
    if (out.error) return out;
    out.needed = frame_header_size + out.frame.header.body_length;
    if (data.size() < out.needed) return out;
    out.frame.body = data.subspan(frame_header_size, out.frame.header.body_length);
    out.consumed = out.needed;
    return out;
}

void read_body_prefix(byte_reader& r, const frame_header& h, body_prefix& out) {
    // Requests carry only a custom payload; responses may carry all three, in the order
    // tracing id, warnings, custom payload (spec section 2.2).
    if (h.is_response && h.has(frame_flags::tracing)) out.tracing_id = r.uuid();
    if (h.is_response && h.has(frame_flags::warning)) out.warnings = r.string_list();
    if (h.has(frame_flags::custom_payload)) out.custom_payload = r.bytes_map();
}

std::uint8_t prefix_flags(bool is_response, const body_prefix& p) noexcept {
    std::uint8_t f = 0;
    if (is_response && p.tracing_id) f |= frame_flags::tracing;
    if (is_response && !p.warnings.empty()) f |= frame_flags::warning;
    if (!p.custom_payload.empty()) f |= frame_flags::custom_payload;
    return f;
}

void write_body_prefix(byte_writer& w, bool is_response, const body_prefix& p) {
    if (is_response && p.tracing_id) w.uuid(*p.tracing_id);
    if (is_response && !p.warnings.empty()) w.string_list(p.warnings);
    if (!p.custom_payload.empty()) w.bytes_map(p.custom_payload);
}

}  // namespace cql::protocol
