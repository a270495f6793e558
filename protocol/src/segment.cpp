#include "cql/protocol/segment.hpp"

#include <algorithm>
#include <cstring>

#include "cql/protocol/crc.hpp"

namespace cql::protocol {
namespace {

void put_le(std::uint8_t* out, std::uint64_t v, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i)
        out[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

std::uint64_t get_le(const std::uint8_t* in, std::size_t n) noexcept {
    std::uint64_t v = 0;
    for (std::size_t i = n; i > 0; --i)
        v = (v << 8) | in[i - 1];
    return v;
}

constexpr std::uint32_t length_mask = 0x1FFFF;  // 17 bits

}  // namespace

std::error_code encode_segment_header(const segment_header& h, compression_algorithm c,
                                      std::span<std::uint8_t> out) noexcept {
    const bool compressed = c != compression_algorithm::none;
    const std::size_t size = segment_header_size(c);
    if (out.size() < size) return codec_errc::invalid_value;
    if (h.payload_length > max_segment_payload || h.uncompressed_length > max_segment_payload)
        return codec_errc::segment_too_large;
    if (!compressed && h.uncompressed_length != 0) return codec_errc::invalid_value;
    const std::size_t field_bytes = size - 3;
    std::uint64_t v = h.payload_length;
    if (compressed) {
        v |= static_cast<std::uint64_t>(h.uncompressed_length) << 17;
        if (h.self_contained) v |= std::uint64_t{1} << 34;
    } else if (h.self_contained) {
        v |= std::uint64_t{1} << 17;
    }
    put_le(out.data(), v, field_bytes);
    put_le(out.data() + field_bytes, crc24(out.first(field_bytes)), 3);
    return {};
}

std::error_code encode_segment_header(const segment_header& h, compression_algorithm c,
                                      byte_buffer& out) {
    std::uint8_t buf[compressed_segment_header_size];
    auto ec = encode_segment_header(h, c, std::span<std::uint8_t>(buf));
    if (!ec) out.insert(out.end(), buf, buf + segment_header_size(c));
    return ec;
}

std::error_code decode_segment_header(bytes_view data, compression_algorithm c,
                                      segment_header& out) noexcept {
    const std::size_t size = segment_header_size(c);
    if (data.size() < size) return codec_errc::truncated;
    const std::size_t field_bytes = size - 3;
    auto v = get_le(data.data(), field_bytes);
    auto crc = static_cast<std::uint32_t>(get_le(data.data() + field_bytes, 3));
    if (crc24(data.first(field_bytes)) != crc) return codec_errc::header_crc_mismatch;
    out.payload_length = static_cast<std::uint32_t>(v & length_mask);
    if (c != compression_algorithm::none) {
        out.uncompressed_length = static_cast<std::uint32_t>((v >> 17) & length_mask);
        out.self_contained = ((v >> 34) & 1) != 0;
    } else {
        out.uncompressed_length = 0;
        out.self_contained = ((v >> 17) & 1) != 0;
    }
    return {};
}

std::error_code encode_segment(bytes_view payload, bool self_contained, compression_algorithm c,
                               byte_buffer& out) {
    if (payload.size() > max_segment_payload) return codec_errc::segment_too_large;
    const std::size_t start = out.size();
    const std::size_t hsize = segment_header_size(c);
    segment_header h;
    h.self_contained = self_contained;
    h.payload_length = static_cast<std::uint32_t>(payload.size());

    bool compressed = false;
    if (c == compression_algorithm::lz4 && !payload.empty()) {
        out.resize(start + hsize + lz4_compress_bound(payload.size()));
        auto n = lz4_compress_into(payload, std::span<std::uint8_t>(out).subspan(start + hsize));
        if (n > 0 && n < payload.size()) {
            compressed = true;
            out.resize(start + hsize + n);
            h.payload_length = static_cast<std::uint32_t>(n);
            h.uncompressed_length = static_cast<std::uint32_t>(payload.size());
        }
    }
    if (!compressed) {
        out.resize(start + hsize);
        out.insert(out.end(), payload.begin(), payload.end());
    }
    // Cannot fail: lengths were checked above and the span is large enough.
    (void)encode_segment_header(h, c, std::span<std::uint8_t>(out).subspan(start, hsize));
    auto crc = crc32(bytes_view(out).subspan(start + hsize));
    std::uint8_t trailer[segment_trailer_size];
    put_le(trailer, crc, segment_trailer_size);
    out.insert(out.end(), trailer, trailer + segment_trailer_size);
    return {};
}

std::error_code encode_segments(bytes_view frames, compression_algorithm c, byte_buffer& out,
                                std::size_t max_payload) {
    max_payload = std::clamp<std::size_t>(max_payload, 1, max_segment_payload);
    const std::size_t start = out.size();
    std::size_t pos = 0;
    std::size_t run_start = 0;  // whole frames waiting to go out in one segment
    std::size_t run_size = 0;
    std::error_code ec;
    auto flush = [&] {
        if (run_size > 0) ec = encode_segment(frames.subspan(run_start, run_size), true, c, out);
        run_size = 0;
    };
    while (pos < frames.size() && !ec) {
        auto s = split_frame(frames.subspan(pos), 0xFFFFFFFFu);
        if (s.error) {
            ec = s.error;
            break;
        }
        if (s.consumed == 0) {
            ec = codec_errc::truncated;
            break;
        }
        const std::size_t n = s.consumed;
        if (n > max_payload) {
            flush();
            for (std::size_t off = 0; off < n && !ec; off += max_payload)
                ec = encode_segment(frames.subspan(pos + off, std::min(max_payload, n - off)),
                                    false, c, out);
        } else {
            if (run_size + n > max_payload) flush();
            if (run_size == 0) run_start = pos;
            run_size += n;
        }
        pos += n;
    }
    if (!ec) flush();
    if (ec) out.resize(start);
    return ec;
}

segment_split split_segment(bytes_view data, compression_algorithm c) noexcept {
    segment_split out;
    const std::size_t hsize = segment_header_size(c);
    out.needed = hsize;
    if (data.size() < hsize) return out;
    out.error = decode_segment_header(data, c, out.header);
    if (out.error) return out;
    out.needed = hsize + out.header.payload_length + segment_trailer_size;
    if (data.size() < out.needed) return out;
    out.payload = data.subspan(hsize, out.header.payload_length);
    auto stored = static_cast<std::uint32_t>(
        get_le(data.data() + hsize + out.header.payload_length, segment_trailer_size));
    if (crc32(out.payload) != stored) {
        out.error = codec_errc::payload_crc_mismatch;
        out.payload = {};
        return out;
    }
    out.consumed = out.needed;
    return out;
}

segment_split segment_decoder::next(bytes_view data) {
    auto s = split_segment(data, compression_);
    if (s.error || s.consumed == 0 || s.header.uncompressed_length == 0) return s;
    // Only the compressed layout has a non-zero uncompressed length, and the header
    // field (17 bits) cannot exceed max_segment_payload.
    if (inflated_.size() < max_segment_payload) inflated_.resize(max_segment_payload);
    auto target = std::span<std::uint8_t>(inflated_).first(s.header.uncompressed_length);
    if (auto ec = lz4_decompress_into(s.payload, target)) {
        s.error = ec;
        s.consumed = 0;
        s.payload = {};
        return s;
    }
    s.payload = target;
    return s;
}

std::error_code frame_assembler::append_part(bytes_view payload, bool& complete,
                                             frame_view& frame) {
    complete = false;
    if (pending_total_ == 0) {
        // Still gathering the frame header.
        auto take = std::min(frame_header_size - pending_.size(), payload.size());
        pending_.insert(pending_.end(), payload.begin(),
                        payload.begin() + static_cast<std::ptrdiff_t>(take));
        payload = payload.subspan(take);
        if (pending_.size() < frame_header_size) return {};
        frame_header h;
        if (auto ec = decode_frame_header(pending_, h, max_body_size_)) {
            release_pending();
            return ec;
        }
        pending_total_ = frame_header_size + h.body_length;
    }
    if (payload.size() > pending_total_ - pending_.size()) {
        release_pending();
        return codec_errc::trailing_bytes;
    }
    pending_.insert(pending_.end(), payload.begin(), payload.end());
    if (pending_.size() < pending_total_) return {};
    auto s = split_frame(pending_, max_body_size_);
    if (s.error || s.consumed != pending_.size()) {  // cannot happen: header checked above
        release_pending();
        return s.error ? s.error : std::error_code(codec_errc::invalid_length);
    }
    frame = s.frame;
    complete = true;
    return {};
}

void frame_assembler::release_pending() noexcept {
    pending_total_ = 0;
    // Keep a moderate buffer for the next spread frame; give back a huge one.
    if (pending_.capacity() > 4 * max_segment_payload)
        byte_buffer().swap(pending_);
    else
        pending_.clear();
}

void frame_assembler::reset() noexcept {
    release_pending();
}

std::error_code segment_stream::finish() const noexcept {
    if (error_) return error_;
    if (frames_.in_frame()) return codec_errc::truncated;
    return {};
}

std::error_code buffered_segment_stream::finish() const noexcept {
    if (auto ec = stream_.finish()) return ec;
    if (!buffer_.empty()) return codec_errc::truncated;
    return {};
}

}  // namespace cql::protocol
