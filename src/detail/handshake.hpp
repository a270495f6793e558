#pragma once
// The client side of a connection's handshake, without I/O: OPTIONS -> SUPPORTED,
// STARTUP -> READY or AUTHENTICATE, then AUTH_RESPONSE -> AUTH_CHALLENGE ... AUTH_SUCCESS
// (native_protocol_v4.spec section 4.1, v5.spec sections 2.3 and 4.1).
//
// The connection writes the frame the handshake puts in `out` after each step, decodes the
// server's bytes with its stream_decoder and hands every frame to on_frame(). One attempt
// speaks one protocol version; when the server refuses it, the step is retry_lower and the
// connection opens a new socket for the next version (a server may close the socket after
// the refusal).
//
//   client_handshake hs(settings);
//   out.clear(); hs.start(out);                      // OPTIONS
//   ... for each frame from the server: switch (hs.on_frame(f, out)) { ... }

#include <cstdint>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "cql/auth.hpp"
#include "cql/config.hpp"
#include "cql/error.hpp"
#include "cql/protocol/bytes.hpp"
#include "cql/protocol/frame.hpp"
#include "cql/protocol/version.hpp"

namespace cql::detail {

class client_handshake {
  public:
    struct settings {
        protocol::protocol_version version = protocol::protocol_version::v5;
        // False when a refusal of `version` may be answered by trying a lower one.
        bool last_version = true;
        cql::compression compression = cql::compression::none;
        std::shared_ptr<auth_provider> auth;
        std::string host;  // for the authenticator
    };
    enum class step : std::uint8_t {
        write,        // send `out` and wait for the next frame
        wait,         // nothing to send (a frame that was not the answer: an early event)
        done,         // the connection is ready
        retry_lower,  // the server refused this version: try the next one on a new socket
        failed,       // error() and diag() say why
    };
    // The options the server listed in SUPPORTED.
    using supported_options = std::vector<std::pair<std::string, std::vector<std::string>>>;

    explicit client_handshake(settings s);

    // Appends the OPTIONS frame to `out`.
    step start(protocol::byte_buffer& out);
    // A frame from the server (body decompressed); appends the next request to `out`.
    step on_frame(const protocol::frame_view& f, protocol::byte_buffer& out);

    // The failure: errc::protocol_negotiation_failed, errc::authentication_failed,
    // errc::unexpected_response, a server error code, a codec error.
    std::error_code error() const noexcept { return error_; }
    const diagnostics& diag() const noexcept { return diag_; }
    // Whether LZ4 was asked for in STARTUP (frames after it may be compressed).
    bool lz4() const noexcept { return lz4_; }
    // v5: the server's READY or AUTHENTICATE arrived, so both directions are now segments.
    bool segments() const noexcept { return segments_; }
    const supported_options& supported() const noexcept { return supported_; }
    protocol::protocol_version version() const noexcept { return s_.version; }

  private:
    enum class phase : std::uint8_t { options, startup, auth, finished };
    step fail(std::error_code ec, std::string message);
    step server_error(std::error_code ec, const protocol::frame_view& f);
    step on_supported(const protocol::frame_view& f, protocol::byte_buffer& out);
    step on_startup_answer(const protocol::frame_view& f, protocol::byte_buffer& out);
    step on_auth_answer(const protocol::frame_view& f, protocol::byte_buffer& out);
    step send_token(protocol::byte_buffer& out);
    bool is_version_refusal(const protocol::frame_view& f) const;

    settings s_;
    phase phase_ = phase::options;
    bool lz4_ = false;
    bool segments_ = false;
    int rounds_ = 0;
    std::unique_ptr<authenticator> auth_;
    protocol::byte_buffer token_;
    supported_options supported_;
    std::error_code error_;
    diagnostics diag_;
};

}  // namespace cql::detail
