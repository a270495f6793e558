#pragma once
// One response frame, owning its (decompressed) body. Views obtained from it (the
// message, warnings, decoded messages) stay valid while the response lives, also after it
// is moved.

#include <cstdint>
#include <system_error>
#include <utility>

#include "cql/error.hpp"
#include "cql/protocol/bytes.hpp"
#include "cql/protocol/frame.hpp"
#include "cql/protocol/responses.hpp"

namespace cql {

class response {
  public:
    response() = default;
    response(response&&) noexcept = default;
    response& operator=(response&&) noexcept = default;
    response(const response&) = delete;
    response& operator=(const response&) = delete;

    // Takes a decompressed body; reads the prefix the header flags announce and, for an
    // ERROR, the diagnostics. Returns a codec error for a malformed prefix or ERROR body,
    // else the server error code of an ERROR, else success.
    std::error_code assign(const protocol::frame_header& h, protocol::byte_buffer body);

    const protocol::frame_header& header() const noexcept { return header_; }
    protocol::opcode opcode() const noexcept { return header_.op; }
    std::int16_t stream() const noexcept { return header_.stream; }
    protocol::protocol_version version() const noexcept { return header_.version; }
    bool empty() const noexcept { return !filled_; }

    // The whole body, and the message after the tracing id / warnings / custom payload.
    protocol::bytes_view body() const noexcept { return body_; }
    protocol::bytes_view message() const noexcept {
        return protocol::bytes_view(body_).subspan(message_offset_);
    }
    const protocol::body_prefix& prefix() const noexcept { return prefix_; }
    const std::vector<std::string_view>& warnings() const noexcept { return prefix_.warnings; }

    // Details of an ERROR response (empty otherwise).
    const diagnostics& diag() const noexcept { return diag_; }

    // Decodes the message (views point into this response).
    std::error_code decode(protocol::response& out) const {
        return protocol::decode_response_message(header_.version, header_.op, message(), out);
    }

  private:
    protocol::frame_header header_{};
    protocol::byte_buffer body_;
    std::size_t message_offset_ = 0;
    protocol::body_prefix prefix_;
    diagnostics diag_;
    bool filled_ = false;
};

}  // namespace cql
