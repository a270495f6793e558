#pragma once
// One direction of a CQL connection, decoded from its first byte: the bytes one side
// sent, in order, in pieces of any size. Hands out every frame (envelope, in v5 terms)
// with its body decompressed, and every v5 segment. cqldump, the golden fixture test
// and the fuzzers use it; the driver and cqlsim may reuse it for their receive side.
//
// Rules (native_protocol_v4.spec section 2, v5.spec section 2.3):
//
// - The protocol version is the version byte of the first frame; every later frame must
//   carry the same version (else version_mismatch) and the direction bit of the side
//   (else unexpected_direction).
// - v3/v4: plain frames until the end. A frame whose header has the compression flag has
//   a v4 LZ4 body ([int] length + LZ4 block, compression.hpp). Allowed unless the
//   compression choice is `none`, or the side is the client, the choice is `automatic`
//   and its STARTUP did not ask for COMPRESSION=lz4 (then unexpected_compression).
// - v5: plain frames until the handshake completes, then segments (segment.hpp):
//     server side: right after a READY or AUTHENTICATE frame (spec 2.3.1; the
//       AUTH_CHALLENGE/AUTH_SUCCESS exchange that follows AUTHENTICATE is already framed
//       in segments);
//     client side: a single direction cannot see the server's answer to STARTUP, so
//       after a STARTUP frame the next bytes are taken as a segment when they form a
//       segment header whose CRC24 is valid for the compression in use, and as a plain
//       frame otherwise (e.g. a second STARTUP after the server refused the first).
//       A random frame header passes a CRC24 check with probability 2^-24.
//   The compression flag of v5 frames is ignored, as the spec says.
// - v5 segment compression: `none` and `lz4` force the layout. `automatic` takes it from
//   the COMPRESSION option of STARTUP on the client side; on the server side, which
//   cannot see STARTUP, it checks the CRC24 of the first segment header in both layouts
//   (the 5-byte compressed header first, then the 3-byte one): only the right header
//   size validates (a false match has probability 2^-24).
//
// Errors are sticky. error_offset() gives the stream offset of the plain frame, or of
// the segment, where decoding failed (for a frame spread over several segments, the
// segment where the failure was seen).
//
// An endpoint that answers the bytes (cqlsim decoding its clients) chooses two modes at
// construction (stream_modes), which passive observers leave at their defaults:
//
// - segment_switch::told: the decoder never infers the v5 switch (no READY/AUTHENTICATE
//   rule, no CRC24 probing after STARTUP); only start_segments(layout) switches. Called
//   from the callback of a frame, it applies to the bytes right after that frame, within
//   the same decode() or feed() call; called outside a callback, to the next byte not yet
//   consumed. (start_segments() also works in the inferred mode, ahead of the inference.)
//   STARTUP is then read only when the compression choice is `automatic`.
// - frame_faults::report: a fault confined to one frame does not stop decoding. The frame
//   is handed out with stream_frame::fault set, its header as on the wire and its body as
//   framed (not decompressed), and decoding goes on with the next frame. Such faults:
//   unexpected_direction (checked first: a frame from the wrong side does not fix the
//   connection's version), version_mismatch, unexpected_compression, a v4 LZ4 body that
//   does not decompress, and a STARTUP that does not decode when the decoder reads it.
//   Everything else stays sticky: framing errors (split_frame: unsupported version,
//   unknown opcode, body too large), segment errors, frames that do not fit their
//   segments, and errors returned by the callbacks.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <system_error>
#include <type_traits>
#include <utility>

#include "cql/protocol/bytes.hpp"
#include "cql/protocol/compression.hpp"
#include "cql/protocol/frame.hpp"
#include "cql/protocol/segment.hpp"
#include "cql/protocol/version.hpp"

namespace cql::protocol {

/// The side of the connection that sent the bytes.
enum class stream_side : std::uint8_t { client, server };

/// How the decoder learns the v5 segment layout and whether v4 bodies may be compressed.
enum class compression_choice : std::uint8_t { automatic, none, lz4 };

/// How the v5 switch to segments is found (see the top of this file).
enum class segment_switch : std::uint8_t {
    inferred,  ///< from the frames: READY/AUTHENTICATE, or probing after STARTUP
    told,      ///< only by stream_decoder::start_segments()
};

/// What a fault confined to one frame does (see the top of this file).
enum class frame_faults : std::uint8_t {
    stop,    ///< the sticky error: decoding stops
    report,  ///< the frame is handed out with stream_frame::fault set; decoding goes on
};

/// The modes of a decoder; the defaults are those of a passive observer.
struct stream_modes {
    segment_switch v5_switch = segment_switch::inferred;  ///< how the v5 switch is found
    frame_faults faults = frame_faults::stop;             ///< what a fault of one frame does
};

/// A frame as the decoder hands it out. Views are valid during the callback only.
struct stream_frame {
    /// Stream offset of the plain frame; for a frame carried by segments, the offset of
    /// the segment it starts in.
    std::size_t offset = 0;
    /// For a frame in a self-contained segment: its position in the segment's payload
    /// (after decompression). 0 otherwise.
    std::size_t payload_offset = 0;
    bool in_segments = false;  ///< carried by v5 segments
    bool spread = false;       ///< gathered from several segments that are not self-contained
    bool compressed = false;   ///< the body (v4) or the segment payload (v5) was LZ4
    /// Header and body ready for decode_request / decode_response: the body is
    /// decompressed. The header keeps the flags as they were on the wire.
    frame_view frame;
    /// The whole envelope (header + body) as it was framed: for a v4 compressed frame the
    /// body is still compressed; in v5 it is the bytes of the (decompressed) segment payload.
    bytes_view envelope;
    /// frame_faults::report only: what is wrong with this frame (empty for a good one).
    /// A faulty frame's body is as framed (a v4 LZ4 body is not decompressed).
    std::error_code fault;
};

/// A v5 segment, for observers that want them (tests, cqldump -v).
struct stream_segment {
    std::size_t offset = 0;  ///< of its first header byte in the stream
    compression_algorithm layout = compression_algorithm::none;  ///< lz4: compressed layout
    segment_header header;                                       ///< its decoded header
    bytes_view wire;     ///< header, payload and trailer as in the stream
    bytes_view payload;  ///< after decompression (== the wire payload when not compressed)
};

/// Decodes one direction of a CQL connection from its first byte, in pieces of any size
/// (the rules are at the top of stream_decoder.hpp).
class stream_decoder {
  public:
    /// Bytes sent by `from`; frame bodies above max_body_size are errors.
    explicit stream_decoder(stream_side from,
                            compression_choice compression = compression_choice::automatic,
                            std::uint32_t max_body_size = default_max_body_size,
                            stream_modes modes = {}) noexcept
        : from_(from),
          choice_(compression),
          max_body_size_(max_body_size),
          modes_(modes),
          assembler_(max_body_size) {}

    /// Decodes what it can of `piece` (appended to what earlier calls left unfinished) and
    /// calls on_frame(const stream_frame&) for every complete frame, and
    /// on_segment(const stream_segment&) for every complete v5 segment, before its frames.
    /// Callbacks may return void or a std::error_code: a non-zero one stops decoding,
    /// becomes the sticky error, and error_offset() is the offset of that frame.
    template <class OnFrame>
    std::error_code feed(bytes_view piece, OnFrame&& on_frame) {
        return feed(piece, std::forward<OnFrame>(on_frame), [](const stream_segment&) {});
    }
    /// feed() with a callback for every v5 segment too.
    template <class OnFrame, class OnSegment>
    std::error_code feed(bytes_view piece, OnFrame&& on_frame, OnSegment&& on_segment) {
        sink s;
        s.frame_ctx = const_cast<void*>(static_cast<const void*>(std::addressof(on_frame)));
        s.frame_fn = [](void* ctx, const stream_frame& f) -> std::error_code {
            return invoke_callback(*static_cast<std::remove_reference_t<OnFrame>*>(ctx), f);
        };
        s.segment_ctx = const_cast<void*>(static_cast<const void*>(std::addressof(on_segment)));
        s.segment_fn = [](void* ctx, const stream_segment& g) -> std::error_code {
            return invoke_callback(*static_cast<std::remove_reference_t<OnSegment>*>(ctx), g);
        };
        return feed_impl(piece, s);
    }

    /// As feed(), over bytes the caller keeps: decodes the complete frames and segments at
    /// the front of `data` and returns how many bytes they took. The caller keeps the rest
    /// and passes it again, followed by what arrives next (a connection's read buffer);
    /// nothing is copied into the decoder. needed() then tells how many bytes the unit at the
    /// front needs in all. Use either feed() or decode() on one decoder, never both.
    template <class OnFrame>
    std::size_t decode(bytes_view data, OnFrame&& on_frame, std::error_code& ec) {
        sink s;
        s.frame_ctx = const_cast<void*>(static_cast<const void*>(std::addressof(on_frame)));
        s.frame_fn = [](void* ctx, const stream_frame& f) -> std::error_code {
            return invoke_callback(*static_cast<std::remove_reference_t<OnFrame>*>(ctx), f);
        };
        s.segment_fn = [](void*, const stream_segment&) -> std::error_code { return {}; };
        return decode_impl(data, s, ec);
    }
    /// After decode(): bytes the frame or segment at the front of the unconsumed input needs
    /// in all (header size while its length is unknown). A hint for sizing reads only: the
    /// announced length of a frame is not a reason to allocate it before its bytes arrive.
    std::size_t needed() const noexcept { return needed_; }

    /// Changes the compression choice; for a client reading the server's bytes, once it knows
    /// what its STARTUP asks for (before the answer is decoded).
    void set_compression(compression_choice c) noexcept { choice_ = c; }

    /// v5: segments of `layout` start right after the frame being handed out (when called
    /// from its callback), else at the next byte not yet consumed. For an endpoint that
    /// knows the switch because it sent READY or AUTHENTICATE (segment_switch::told).
    /// No effect once in segments.
    void start_segments(compression_algorithm layout) noexcept;

    /// At the end of the stream: truncated (with error_offset() at the unfinished frame or
    /// segment) when bytes are left over or a spread frame is incomplete; else the sticky
    /// error, if any.
    std::error_code finish() noexcept;

    /// The sticky error (none yet: empty).
    std::error_code error() const noexcept { return error_; }
    /// Stream offset of the frame or segment where the error was found.
    std::size_t error_offset() const noexcept { return error_offset_; }
    /// Bytes consumed by complete frames and segments.
    std::size_t consumed() const noexcept { return base_; }
    /// Bytes held back, waiting for the rest of a frame or segment.
    std::size_t buffered() const noexcept { return buffer_.size(); }

    /// The side whose bytes are decoded.
    stream_side side() const noexcept { return from_; }
    /// The connection's version, once the first frame header is seen.
    std::optional<protocol_version> version() const noexcept { return version_; }
    /// Stream offset of the first segment, once the v5 switch happened.
    std::optional<std::size_t> segments_start() const noexcept { return segments_start_; }
    /// True once the connection switched to v5 segments.
    bool in_segments() const noexcept { return phase_ == phase::segments; }
    /// The segment layout in use (meaningful once in_segments() and the layout is known).
    compression_algorithm segment_layout() const noexcept { return layout_; }
    /// True when the client's STARTUP asked for COMPRESSION=lz4 (client side only).
    bool startup_asked_lz4() const noexcept { return startup_lz4_; }
    /// Frames handed out so far.
    std::size_t frames() const noexcept { return frames_; }
    /// Segments handed out so far.
    std::size_t segments() const noexcept { return segments_; }

  private:
    struct sink {
        void* frame_ctx = nullptr;
        std::error_code (*frame_fn)(void*, const stream_frame&) = nullptr;
        void* segment_ctx = nullptr;
        std::error_code (*segment_fn)(void*, const stream_segment&) = nullptr;
    };
    template <class F, class Arg>
    static std::error_code invoke_callback(F& f, const Arg& a) {
        using result = std::invoke_result_t<F&, const Arg&>;
        if constexpr (std::is_void_v<result>) {
            f(a);
            return {};
        } else {
            return std::error_code(f(a));
        }
    }

    enum class phase : std::uint8_t { frames, segments };

    std::error_code feed_impl(bytes_view piece, const sink& s);
    std::size_t decode_impl(bytes_view data, const sink& s, std::error_code& ec);
    /// Decodes complete units at the front of `data` (which starts at stream offset base_);
    /// returns the bytes used, or sets error_.
    std::size_t process(bytes_view data, const sink& s);
    /// One plain frame; false on error.
    bool plain_frame(const frame_split& split, std::size_t offset, const sink& s);
    /// Checks version and direction of a frame header.
    std::error_code check_header(const frame_header& h);
    std::error_code fail(std::error_code ec, std::size_t offset) noexcept;
    void enter_segments(std::size_t offset) noexcept;
    /// Hands out a frame: counts it, calls the callback, applies a start_segments() it made.
    std::error_code hand_out(const stream_frame& sf, std::size_t next, const sink& s);
    bool reports_faults() const noexcept { return modes_.faults == frame_faults::report; }

    stream_side from_;
    compression_choice choice_;
    std::uint32_t max_body_size_;
    stream_modes modes_;

    phase phase_ = phase::frames;
    bool probe_segment_ = false;  ///< client side: next bytes may start segments
    bool layout_known_ = false;
    compression_algorithm layout_ = compression_algorithm::none;
    bool startup_seen_ = false;
    bool startup_lz4_ = false;
    std::optional<protocol_version> version_;
    std::optional<std::size_t> segments_start_;
    bool in_callback_ = false;
    /// start_segments() called from a frame's callback: applied once the callback returns.
    std::optional<compression_algorithm> told_layout_;

    segment_decoder segments_decoder_;
    frame_assembler assembler_;
    std::size_t spread_offset_ = 0;  ///< segment where the frame being gathered began

    byte_buffer buffer_;                      ///< unfinished frame or segment
    byte_buffer inflated_;                    ///< v4 decompressed body
    std::size_t base_ = 0;                    ///< stream offset of buffer_[0] (== bytes consumed)
    std::size_t needed_ = frame_header_size;  ///< see needed()

    std::error_code error_;
    std::size_t error_offset_ = 0;
    std::size_t frames_ = 0;
    std::size_t segments_ = 0;
};

}  // namespace cql::protocol
