#include "cql/protocol/stream_decoder.hpp"

#include <algorithm>
#include <cctype>

#include "cql/protocol/requests.hpp"

namespace cql::protocol {

namespace {

bool iequals(std::string_view a, std::string_view b) noexcept {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        return std::tolower(static_cast<unsigned char>(x)) ==
               std::tolower(static_cast<unsigned char>(y));
    });
}

}  // namespace

std::error_code stream_decoder::fail(std::error_code ec, std::size_t offset) noexcept {
    if (!error_) {
        error_ = ec;
        error_offset_ = offset;
    }
    return error_;
}

std::error_code stream_decoder::finish() noexcept {
    if (error_) return error_;
    if (!buffer_.empty()) return fail(codec_errc::truncated, base_);
    if (assembler_.in_frame()) return fail(codec_errc::truncated, spread_offset_);
    return {};
}

std::error_code stream_decoder::check_header(const frame_header& h) {
    const bool wrong_side = h.is_response != (from_ == stream_side::server);
    // A receiver answers a frame from the wrong side as such whatever its version, and that
    // frame must not fix the connection's version (cqlsim, like Cassandra).
    if (wrong_side && reports_faults()) return codec_errc::unexpected_direction;
    if (!version_)
        version_ = h.version;
    else if (h.version != *version_)
        return codec_errc::version_mismatch;
    if (wrong_side) return codec_errc::unexpected_direction;
    return {};
}

void stream_decoder::enter_segments(std::size_t offset) noexcept {
    phase_ = phase::segments;
    probe_segment_ = false;
    segments_start_ = offset;
    if (layout_known_) segments_decoder_ = segment_decoder(layout_);
}

void stream_decoder::start_segments(compression_algorithm layout) noexcept {
    if (phase_ == phase::segments) return;
    // From a frame's callback the switch waits for the end of that frame (hand_out), which
    // the decoder has not yet counted as consumed.
    if (in_callback_) {
        told_layout_ = layout;
        return;
    }
    layout_ = layout;
    layout_known_ = true;
    enter_segments(base_);
}

std::error_code stream_decoder::hand_out(const stream_frame& sf, std::size_t next, const sink& s) {
    ++frames_;
    struct callback_scope {
        bool& flag;
        explicit callback_scope(bool& f) : flag(f) { flag = true; }
        ~callback_scope() { flag = false; }
    };
    std::error_code ec;
    {
        callback_scope scope(in_callback_);
        ec = s.frame_fn(s.frame_ctx, sf);
    }
    if (told_layout_) {
        layout_ = *told_layout_;
        told_layout_.reset();
        layout_known_ = true;
        enter_segments(next);
    }
    return ec;
}

bool stream_decoder::plain_frame(const frame_split& split, std::size_t offset, const sink& s) {
    const auto& h = split.frame.header;
    const std::size_t next = offset + split.consumed;
    stream_frame sf;
    sf.offset = offset;
    sf.frame = split.frame;
    sf.envelope = bytes_view(split.frame.body.data() - frame_header_size, split.consumed);
    // A fault confined to this frame: the sticky error, or the frame handed out with it.
    auto frame_fault = [&](std::error_code fault) {
        if (!reports_faults()) {
            fail(fault, offset);
            return false;
        }
        sf.frame = split.frame;
        sf.compressed = false;
        sf.fault = fault;
        if (auto ec = hand_out(sf, next, s)) {
            fail(ec, offset);
            return false;
        }
        return true;
    };
    if (auto ec = check_header(h)) return frame_fault(ec);
    if (h.has(frame_flags::compression) && h.version != protocol_version::v5) {
        bool allowed =
            choice_ == compression_choice::lz4 || (choice_ == compression_choice::automatic &&
                                                   (from_ == stream_side::server || startup_lz4_));
        if (!allowed) return frame_fault(codec_errc::unexpected_compression);
        inflated_.clear();
        if (auto ec = decompress_frame_body_lz4(split.frame.body, inflated_, max_body_size_))
            return frame_fault(ec);
        sf.frame.body = inflated_;
        sf.compressed = true;
    }

    // The handshake decides what the bytes after this frame are (see the header). An endpoint
    // told of the switch needs STARTUP only to pick the compression automatically.
    const bool inferred = modes_.v5_switch == segment_switch::inferred;
    if (from_ == stream_side::client && h.op == opcode::startup &&
        (inferred || choice_ == compression_choice::automatic)) {
        decoded_request req;
        if (auto ec = decode_request(sf.frame, req)) return frame_fault(ec);
        const auto& startup = std::get<startup_request>(req.message);
        auto c = startup.option("COMPRESSION");
        startup_seen_ = true;
        startup_lz4_ = c && iequals(*c, "lz4");
    }

    if (auto ec = hand_out(sf, next, s)) {
        fail(ec, offset);
        return false;
    }

    if (inferred && phase_ == phase::frames && h.version == protocol_version::v5) {
        if (from_ == stream_side::client && h.op == opcode::startup) {
            probe_segment_ = true;
        } else if (from_ == stream_side::server &&
                   (h.op == opcode::ready || h.op == opcode::authenticate)) {
            layout_known_ = choice_ != compression_choice::automatic;
            layout_ = choice_ == compression_choice::lz4 ? compression_algorithm::lz4
                                                         : compression_algorithm::none;
            enter_segments(next);
        }
    }
    return true;
}

std::size_t stream_decoder::process(bytes_view data, const sink& s) {
    std::size_t pos = 0;
    while (!error_) {
        auto rest = data.subspan(pos);
        auto at = base_ + pos;

        if (phase_ == phase::frames) {
            if (probe_segment_) {
                auto layout =
                    choice_ == compression_choice::lz4 ? compression_algorithm::lz4
                    : choice_ == compression_choice::none
                        ? compression_algorithm::none
                        : (startup_lz4_ ? compression_algorithm::lz4 : compression_algorithm::none);
                if (rest.size() < segment_header_size(layout)) {
                    needed_ = segment_header_size(layout);
                    return pos;
                }
                segment_header h;
                if (!decode_segment_header(rest, layout, h)) {
                    layout_ = layout;
                    layout_known_ = true;
                    enter_segments(at);
                    continue;
                }
                probe_segment_ = false;  // a plain frame follows STARTUP
            }
            auto split = split_frame(rest, max_body_size_);
            if (split.error) {
                fail(split.error, at);
                return pos;
            }
            if (split.consumed == 0) {
                needed_ = split.needed;
                return pos;
            }
            if (!plain_frame(split, at, s)) return pos;
            pos += split.consumed;
            continue;
        }

        if (!layout_known_) {
            if (rest.size() < compressed_segment_header_size) {
                needed_ = compressed_segment_header_size;
                return pos;
            }
            segment_header h;
            if (!decode_segment_header(rest, compression_algorithm::lz4, h))
                layout_ = compression_algorithm::lz4;
            else if (!decode_segment_header(rest, compression_algorithm::none, h))
                layout_ = compression_algorithm::none;
            else {
                fail(codec_errc::header_crc_mismatch, at);
                return pos;
            }
            layout_known_ = true;
            segments_decoder_ = segment_decoder(layout_);
        }

        auto seg = segments_decoder_.next(rest);
        if (seg.error) {
            fail(seg.error, at);
            return pos;
        }
        if (seg.consumed == 0) {
            needed_ = seg.needed;
            return pos;
        }
        ++segments_;
        stream_segment g;
        g.offset = at;
        g.layout = layout_;
        g.header = seg.header;
        g.wire = rest.first(seg.consumed);
        g.payload = seg.payload;
        if (auto ec = s.segment_fn(s.segment_ctx, g)) {
            fail(ec, at);
            return pos;
        }
        if (!seg.header.self_contained && !assembler_.in_frame()) spread_offset_ = at;
        const bool compressed = seg.header.uncompressed_length != 0;
        std::size_t frame_offset = at;
        std::size_t in_payload = 0;
        auto ec = assembler_.push(seg.payload, seg.header.self_contained,
                                  [&](const frame_view& f) -> std::error_code {
                                      // split_frame gives body == buffer.subspan(9, n): the
                                      // envelope starts 9 bytes before the body, in the payload or
                                      // in the assembler's buffer.
                                      stream_frame sf;
                                      sf.in_segments = true;
                                      sf.compressed = compressed;
                                      sf.frame = f;
                                      sf.envelope = bytes_view(f.body.data() - frame_header_size,
                                                               frame_header_size + f.body.size());
                                      if (seg.header.self_contained) {
                                          sf.offset = at;
                                          sf.payload_offset = in_payload;
                                          in_payload += sf.envelope.size();
                                      } else {
                                          sf.offset = spread_offset_;
                                          sf.spread = true;
                                      }
                                      frame_offset = sf.offset;
                                      if (auto e = check_header(f.header)) {
                                          if (!reports_faults()) return e;
                                          sf.fault = e;
                                      }
                                      return hand_out(sf, 0, s);  // no switch in segments
                                  });
        if (ec) {
            fail(ec, frame_offset);
            return pos;
        }
        pos += seg.consumed;
    }
    return pos;
}

std::size_t stream_decoder::decode_impl(bytes_view data, const sink& s, std::error_code& ec) {
    if (error_) {
        ec = error_;
        return 0;
    }
    auto used = process(data, s);
    base_ += used;
    ec = error_;
    return used;
}

std::error_code stream_decoder::feed_impl(bytes_view piece, const sink& s) {
    if (error_) return error_;
    if (buffer_.empty()) {
        auto used = process(piece, s);
        base_ += used;
        if (!error_) buffer_.assign(piece.begin() + static_cast<std::ptrdiff_t>(used), piece.end());
        return error_;
    }
    buffer_.insert(buffer_.end(), piece.begin(), piece.end());
    auto used = process(buffer_, s);
    base_ += used;
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(used));
    return error_;
}

}  // namespace cql::protocol
