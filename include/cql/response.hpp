#pragma once
/// \file
/// One response frame, owning its (decompressed) body. Views obtained from it (the
/// message, warnings, decoded messages) stay valid while the response lives, also after it
/// is moved.

#include <cstdint>
#include <system_error>
#include <utility>

#include "cql/error.hpp"
#include "cql/protocol/bytes.hpp"
#include "cql/protocol/frame.hpp"
#include "cql/protocol/responses.hpp"

namespace cql {

/// \cond internal
namespace detail {
// A buffer for a response body: from the calling thread's cache of recycled bodies when it
// has one (empty, with capacity), else a new empty buffer.
protocol::byte_buffer take_body_buffer() noexcept;
// Returns a body's memory to the calling thread's cache (bounded; large or excess buffers
// are freed).
void recycle_body_buffer(protocol::byte_buffer&& b) noexcept;
}  // namespace detail
/// \endcond

/// One response frame as received: header, owned body, the decoded prefix (tracing id,
/// warnings, custom payload) and, for an ERROR, its diagnostics. Move-only: moving keeps
/// every view into the body valid (the body buffer moves, it is not copied). It is what
/// connection_config::on_event delivers; a cql::result is built on one. Not synchronized.
class response {
  public:
    /// An empty response (empty() is true).
    response() = default;
    /// Moves the body; views into it stay valid.
    response(response&&) noexcept = default;
    /// Moves the body; views into the moved-from response stay valid, views into the
    /// response assigned to are invalidated (its body's memory is recycled).
    response& operator=(response&&) noexcept;
    /// Gives the body's memory back to a small per-thread cache the driver takes the
    /// bodies of later responses from (steady state allocates no body buffers).
    ~response();
    response(const response&) = delete;
    response& operator=(const response&) = delete;

    /// Takes a decompressed body; reads the prefix the header flags announce and, for an
    /// ERROR, the diagnostics. Returns a codec error for a malformed prefix or ERROR body,
    /// else the server error code of an ERROR, else success.
    std::error_code assign(const protocol::frame_header& h, protocol::byte_buffer body);

    /// The frame header (flags, stream, opcode, body length as received).
    const protocol::frame_header& header() const noexcept { return header_; }
    /// header().op: RESULT, ERROR, EVENT, ...
    protocol::opcode opcode() const noexcept { return header_.op; }
    /// header().stream: -1 for server events.
    std::int16_t stream() const noexcept { return header_.stream; }
    /// The protocol version of the frame.
    protocol::protocol_version version() const noexcept { return header_.version; }
    /// True until assign() succeeded in filling the response.
    bool empty() const noexcept { return !filled_; }

    /// The whole body, and the message after the tracing id / warnings / custom payload.
    protocol::bytes_view body() const noexcept { return body_; }
    /// \copydoc body()
    protocol::bytes_view message() const noexcept {
        return protocol::bytes_view(body_).subspan(message_offset_);
    }
    /// The tracing id, warnings and custom payload the header flags announced.
    const protocol::body_prefix& prefix() const noexcept { return prefix_; }
    /// The server's warnings (e.g. "Aggregation query used without partition key"); views
    /// into the body.
    const std::vector<std::string_view>& warnings() const noexcept { return prefix_.warnings; }

    /// Details of an ERROR response (empty otherwise).
    const diagnostics& diag() const noexcept { return diag_; }

    /// Decodes the message (views point into this response).
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
