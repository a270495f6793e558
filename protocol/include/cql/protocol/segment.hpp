#pragma once
// Protocol v5 framing (native_protocol_v5.spec, section 2, which calls these segments
// "frames" and our frames "envelopes"). STARTUP, any OPTIONS before it, and the
// server's SUPPORTED and its READY or AUTHENTICATE answer to STARTUP are plain frames;
// everything after READY or AUTHENTICATE (AUTH_RESPONSE included) travels inside
// segments. A segment is
//
//   uncompressed: header (6 bytes)  = 3 bytes, little endian: bits 0-16 payload length,
//                                     bit 17 self-contained, bits 18-23 padding;
//                                     then the CRC24 of those 3 bytes, 3 bytes little endian
//   lz4:          header (8 bytes)  = 5 bytes, little endian: bits 0-16 compressed
//                                     length, bits 17-33 uncompressed length, bit 34
//                                     self-contained, bits 35-39 padding;
//                                     then the CRC24 of those 5 bytes, 3 bytes little endian
//   then the payload (as many bytes as the (compressed) length says), then the CRC32 of
//   the payload as it is on the wire, 4 bytes little endian (crc.hpp).
//
// When LZ4 was negotiated every segment has the 8-byte header, and one whose
// uncompressed length is 0 carries its payload as is (the sender found LZ4 did not
// make it smaller). A self-contained segment holds one or more whole frames; a frame
// larger than a segment is cut over several segments that are not self-contained,
// each holding part of that one frame only.
//
// Sending: encode_segments() packs a buffer of whole frames into segments.
// Receiving: segment_stream decodes the segments found in the caller's read buffer and
// hands out whole frames, as views into that buffer when they are in one uncompressed
// segment (no copy, no allocation); compressed segments are decompressed into one
// reused buffer, and only frames spread over several segments are copied.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <system_error>
#include <type_traits>
#include <utility>

#include "cql/protocol/bytes.hpp"
#include "cql/protocol/compression.hpp"
#include "cql/protocol/frame.hpp"

namespace cql::protocol {

inline constexpr std::size_t max_segment_payload = 128 * 1024 - 1;  ///< 131071
inline constexpr std::size_t uncompressed_segment_header_size = 6;
inline constexpr std::size_t compressed_segment_header_size = 8;
inline constexpr std::size_t segment_trailer_size = 4;

/// Segments use the compressed layout whenever a compression was negotiated.
constexpr std::size_t segment_header_size(compression_algorithm c) noexcept {
    return c == compression_algorithm::none ? uncompressed_segment_header_size
                                            : compressed_segment_header_size;
}
/// The largest segment on the wire: header, largest payload, trailer.
constexpr std::size_t max_segment_size(compression_algorithm c) noexcept {
    return segment_header_size(c) + max_segment_payload + segment_trailer_size;
}

/// The header of a v5 segment (spec 2.2 of native_protocol_v5.spec), CRC24 aside.
struct segment_header {
    /// Bytes of payload on the wire (the compressed length when compressed).
    std::uint32_t payload_length = 0;
    /// Compressed layout only: length after decompression; 0 when the payload is
    /// sent uncompressed. Always 0 in the uncompressed layout.
    std::uint32_t uncompressed_length = 0;
    /// The payload holds whole frames only (else part of one larger frame).
    bool self_contained = true;

    friend bool operator==(const segment_header&, const segment_header&) = default;
};

/// Writes the 6 or 8 header bytes (CRC24 included) to the start of `out`, which must
/// hold segment_header_size(c) bytes. segment_too_large if a length exceeds
/// max_segment_payload; invalid_value if uncompressed_length is set in the
/// uncompressed layout or `out` is too small.
std::error_code encode_segment_header(const segment_header& h, compression_algorithm c,
                                      std::span<std::uint8_t> out) noexcept;
/// Appends the header to `out`.
std::error_code encode_segment_header(const segment_header& h, compression_algorithm c,
                                      byte_buffer& out);

/// Reads a header from the first segment_header_size(c) bytes of `data`: truncated
/// when there are fewer, header_crc_mismatch when the CRC24 does not match.
std::error_code decode_segment_header(bytes_view data, compression_algorithm c,
                                      segment_header& out) noexcept;

/// Appends one segment carrying `payload` (at most max_segment_payload bytes, else
/// segment_too_large). With lz4 the payload is compressed when that makes it smaller,
/// else sent as is with uncompressed length 0.
std::error_code encode_segment(bytes_view payload, bool self_contained, compression_algorithm c,
                               byte_buffer& out);

/// Appends segments carrying `frames`, a buffer of one or more whole frames (header and
/// body each): consecutive frames are packed into self-contained segments of up to
/// `max_payload` bytes; a frame larger than that goes alone over segments that are not
/// self-contained. max_payload is clamped to [1, max_segment_payload] and is there for
/// tests. truncated if the buffer ends inside a frame, and the header errors of
/// split_frame; on error nothing is appended. `frames` must not point into `out`
/// (appending may move `out`); the same holds for encode_segment's payload.
std::error_code encode_segments(bytes_view frames, compression_algorithm c, byte_buffer& out,
                                std::size_t max_payload = max_segment_payload);

/// The first segment of a buffer.
struct segment_split {
    std::error_code error;     ///< a malformed segment (CRC mismatch, ...)
    std::size_t consumed = 0;  ///< bytes of the whole segment; 0: incomplete or error
    std::size_t needed = 0;    ///< bytes the segment needs in total (header size until known)
    segment_header header;     ///< the decoded header when consumed > 0
    /// split_segment: the payload as on the wire, a view into the input.
    /// segment_decoder::next: the payload after decompression.
    bytes_view payload;
};

/// Splits the first segment off `data` and checks both CRCs; does not decompress.
/// consumed == 0 without error: more bytes are needed (`needed` says how many in all).
segment_split split_segment(bytes_view data, compression_algorithm c) noexcept;

/// split_segment plus decompression. The payload of an uncompressed segment is a view
/// into the input; a decompressed one lives in a buffer owned by the decoder (allocated
/// once, at most max_segment_payload bytes) and is valid until the next call.
class segment_decoder {
  public:
    explicit segment_decoder(compression_algorithm c = compression_algorithm::none) noexcept
        : compression_(c) {}  ///< for segments compressed with `c` (or not)

    /// The compression the decoder was made for.
    compression_algorithm compression() const noexcept { return compression_; }
    /// Splits and decompresses the first segment of `data` (see split_segment).
    segment_split next(bytes_view data);

  private:
    compression_algorithm compression_;
    byte_buffer inflated_;
};

/// Turns segment payloads back into whole frames. Frames of a self-contained payload are
/// views into it; a frame spread over segments that are not self-contained is gathered
/// in an internal buffer, which grows with the bytes actually received (never by the
/// declared length alone), once the declared body length passed max_body_size.
///
/// push() calls on_frame(const frame_view&) for every frame completed by the payload.
/// The views are valid during the call only. on_frame may return void, or a
/// std::error_code that stops the push and is returned.
///
/// Errors: the header errors of split_frame (body_too_large, unknown_opcode, ...);
/// truncated for a self-contained payload that ends inside a frame, or one arriving
/// while a frame from earlier segments is incomplete; trailing_bytes for a segment that
/// is not self-contained and goes past the end of its frame.
class frame_assembler {
  public:
    explicit frame_assembler(std::uint32_t max_body_size = default_max_body_size) noexcept
        : max_body_size_(max_body_size) {}  ///< frames above max_body_size fail

    /// Adds one segment payload; calls on_frame for each frame it completes.
    template <class OnFrame>
    std::error_code push(bytes_view payload, bool self_contained, OnFrame&& on_frame);

    /// True while part of a frame is buffered, waiting for more segments.
    bool in_frame() const noexcept { return !pending_.empty(); }
    /// The largest frame body accepted.
    std::uint32_t max_body_size() const noexcept { return max_body_size_; }
    /// Drops a partly assembled frame.
    void reset() noexcept;

  private:
    /// Adds part of a spread frame; `complete` is set once the frame is whole, and then
    /// `frame` views pending_ (until release_pending()).
    std::error_code append_part(bytes_view payload, bool& complete, frame_view& frame);
    void release_pending() noexcept;

    std::uint32_t max_body_size_;
    byte_buffer pending_;
    std::size_t pending_total_ = 0;  ///< header + body of the spread frame, once known
};

/// The receiving side of a v5 connection after READY: decodes the complete segments at
/// the front of the caller's read buffer and calls on_frame for each whole frame.
///
///   std::size_t used = 0;
///   auto ec = stream.decode(readable_bytes, used, [&](const frame_view& f) { ... });
///   // drop `used` bytes from the buffer; the rest is the start of a segment;
///   // stream.needed() says how many bytes that segment has in all.
///
/// Errors are sticky: after one, every call returns it again.
class segment_stream {
  public:
    explicit segment_stream(compression_algorithm c = compression_algorithm::none,
                            std::uint32_t max_body_size = default_max_body_size) noexcept
        : segments_(c), frames_(max_body_size) {}  ///< compression `c`, frames up to max_body_size

    /// Decodes the whole segments at the front of `data` (see above); `consumed` is set
    /// to the bytes used.
    template <class OnFrame>
    std::error_code decode(bytes_view data, std::size_t& consumed, OnFrame&& on_frame);

    /// Bytes the segment at the front of the unconsumed input needs in total.
    std::size_t needed() const noexcept { return needed_; }
    /// At the end of the stream: truncated if a frame is half assembled.
    std::error_code finish() const noexcept;
    /// The sticky error (none yet: empty).
    std::error_code error() const noexcept { return error_; }
    /// True while part of a frame spread over segments is buffered.
    bool in_frame() const noexcept { return frames_.in_frame(); }

  private:
    segment_decoder segments_;
    frame_assembler frames_;
    std::size_t needed_ = 0;
    std::error_code error_;
};

/// segment_stream with its own buffer, for bytes that arrive in arbitrary pieces:
/// feed() decodes what it can straight from the piece and keeps only the unfinished
/// segment at its end.
class buffered_segment_stream {
  public:
    explicit buffered_segment_stream(compression_algorithm c = compression_algorithm::none,
                                     std::uint32_t max_body_size = default_max_body_size) noexcept
        : stream_(c, max_body_size) {}  ///< compression `c`, frames up to max_body_size

    /// Decodes what `piece` completes, calling on_frame for each whole frame; keeps the
    /// unfinished rest.
    template <class OnFrame>
    std::error_code feed(bytes_view piece, OnFrame&& on_frame);

    /// At the end of the stream: truncated if a segment or a frame is unfinished.
    std::error_code finish() const noexcept;
    /// Bytes kept from earlier pieces.
    std::size_t buffered() const noexcept { return buffer_.size(); }

  private:
    segment_stream stream_;
    byte_buffer buffer_;
};

// ---- implementation of the templates ----

namespace detail {
template <class OnFrame>
std::error_code call_on_frame(OnFrame& on_frame, const frame_view& f) {
    using result = std::invoke_result_t<OnFrame&, const frame_view&>;
    if constexpr (std::is_void_v<result>) {
        std::invoke(on_frame, f);
        return {};
    } else {
        return std::error_code(std::invoke(on_frame, f));
    }
}
}  // namespace detail

template <class OnFrame>
std::error_code frame_assembler::push(bytes_view payload, bool self_contained, OnFrame&& on_frame) {
    if (!self_contained) {
        bool complete = false;
        frame_view f;
        auto ec = append_part(payload, complete, f);
        if (ec || !complete) return ec;
        ec = detail::call_on_frame(on_frame, f);
        release_pending();
        return ec;
    }
    if (in_frame()) return codec_errc::truncated;
    while (!payload.empty()) {
        auto s = split_frame(payload, max_body_size_);
        if (s.error) return s.error;
        if (s.consumed == 0) return codec_errc::truncated;
        if (auto ec = detail::call_on_frame(on_frame, s.frame)) return ec;
        payload = payload.subspan(s.consumed);
    }
    return {};
}

template <class OnFrame>
std::error_code segment_stream::decode(bytes_view data, std::size_t& consumed, OnFrame&& on_frame) {
    consumed = 0;
    if (error_) return error_;
    for (;;) {
        auto s = segments_.next(data.subspan(consumed));
        if (s.error) return error_ = s.error;
        if (s.consumed == 0) {
            needed_ = s.needed;
            return {};
        }
        consumed += s.consumed;
        if (auto ec = frames_.push(s.payload, s.header.self_contained, on_frame))
            return error_ = ec;
    }
}

template <class OnFrame>
std::error_code buffered_segment_stream::feed(bytes_view piece, OnFrame&& on_frame) {
    // First finish the segment begun by earlier pieces, copying no more of this piece
    // than that segment needs.
    while (!buffer_.empty() && !piece.empty()) {
        auto want = stream_.needed() > buffer_.size() ? stream_.needed() - buffer_.size() : 1;
        auto take = want < piece.size() ? want : piece.size();
        buffer_.insert(buffer_.end(), piece.begin(),
                       piece.begin() + static_cast<std::ptrdiff_t>(take));
        piece = piece.subspan(take);
        std::size_t used = 0;
        if (auto ec = stream_.decode(buffer_, used, on_frame)) return ec;
        buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(used));
    }
    if (piece.empty()) return stream_.error();
    // Whole segments are decoded in place; only an unfinished one is kept.
    std::size_t used = 0;
    if (auto ec = stream_.decode(piece, used, on_frame)) return ec;
    buffer_.assign(piece.begin() + static_cast<std::ptrdiff_t>(used), piece.end());
    return {};
}

}  // namespace cql::protocol
