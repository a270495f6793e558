#pragma once
// The 9-byte frame header shared by protocol v3, v4 and v5 (in v5 frames travel inside
// segments, see segment.hpp), and the optional prefixes a frame body can start with.

#include <cstdint>
#include <optional>
#include <string_view>
#include <system_error>
#include <vector>

#include "cql/protocol/bytes.hpp"
#include "cql/protocol/version.hpp"

namespace cql::protocol {

enum class opcode : std::uint8_t {
    error = 0x00,
    startup = 0x01,
    ready = 0x02,
    authenticate = 0x03,
    options = 0x05,
    supported = 0x06,
    query = 0x07,
    result = 0x08,
    prepare = 0x09,
    execute = 0x0A,
    register_ = 0x0B,
    event = 0x0C,
    batch = 0x0D,
    auth_challenge = 0x0E,
    auth_response = 0x0F,
    auth_success = 0x10,
};

bool is_known_opcode(std::uint8_t op) noexcept;
bool is_request_opcode(opcode op) noexcept;
std::string_view to_string(opcode op) noexcept;  ///< "QUERY", "RESULT", ...

namespace frame_flags {
inline constexpr std::uint8_t compression = 0x01;
inline constexpr std::uint8_t tracing = 0x02;
inline constexpr std::uint8_t custom_payload = 0x04;
inline constexpr std::uint8_t warning = 0x08;
inline constexpr std::uint8_t use_beta = 0x10;
}  // namespace frame_flags

inline constexpr std::size_t frame_header_size = 9;
inline constexpr std::uint32_t default_max_body_size = 256u * 1024u * 1024u;

/// The frame header: version (with the response bit), flags, stream, opcode, body length.
struct frame_header {
    protocol_version version = protocol_version::v4;  ///< without the direction bit
    bool is_response = false;                         ///< the 0x80 bit of the version byte
    std::uint8_t flags = 0;                           ///< frame_flags bits
    std::int16_t stream = 0;                          ///< stream id (negative: server events)
    opcode op = opcode::options;                      ///< the message's opcode
    std::uint32_t body_length = 0;                    ///< bytes of body after the header

    /// True when `flag` (a frame_flags bit) is set.
    bool has(std::uint8_t flag) const noexcept { return (flags & flag) != 0; }
};

/// Decodes a header from at least 9 bytes. The body length is checked against
/// max_body_size here, before anyone allocates for the body.
std::error_code decode_frame_header(bytes_view data, frame_header& out,
                                    std::uint32_t max_body_size = default_max_body_size) noexcept;

/// Appends a header. The body length is usually unknown when the header is written:
/// pass 0 and call patch_frame_body_length once the body is appended.
void encode_frame_header(byte_writer& w, const frame_header& h);
/// Sets the body length of the frame whose header starts at `header_offset`.
void patch_frame_body_length(byte_buffer& buf, std::size_t header_offset);

/// A whole frame: header plus a view of its body.
struct frame_view {
    frame_header header;  ///< the decoded header
    bytes_view body;      ///< the body, header.body_length bytes
};

/// Splits the first complete frame off `data`. Returns the frame size consumed, 0 with
/// no error when more bytes are needed (`needed` then says how many in total), or an
/// error for a malformed header.
struct frame_split {
    std::error_code error;                   ///< a malformed header
    std::size_t consumed = 0;                ///< 0: incomplete
    std::size_t needed = frame_header_size;  ///< bytes needed in total when incomplete
    frame_view frame;                        ///< the frame when consumed > 0
};
frame_split split_frame(bytes_view data,
                        std::uint32_t max_body_size = default_max_body_size) noexcept;

/// What may precede the message in a response (tracing id, warnings, custom payload)
/// or a request (custom payload), depending on the header flags. Views into the body.
struct body_prefix {
    std::optional<uuid_bytes> tracing_id;    ///< responses with the tracing flag
    std::vector<std::string_view> warnings;  ///< responses with the warning flag (v4+)
    /// [bytes map] of the custom payload flag.
    std::vector<std::pair<std::string_view, value_view>> custom_payload;
};

/// Reads the prefix the flags announce and leaves the reader at the message.
void read_body_prefix(byte_reader& r, const frame_header& h, body_prefix& out);
/// Writes a prefix; the caller sets the header flags to match (see prefix_flags).
void write_body_prefix(byte_writer& w, bool is_response, const body_prefix& p);
std::uint8_t prefix_flags(bool is_response, const body_prefix& p) noexcept;

}  // namespace cql::protocol
