#pragma once
// A tiny blocking CQL client for cqlsim's server tests, built from the protocol encoders
// over an Asio socket (optionally TLS), with v4 LZ4 bodies and v5 (LZ4) segments.
// Every wait is bounded; a timeout fails the test.

#include <catch2/catch.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cql/protocol/compression.hpp"
#include "cql/protocol/frame.hpp"
#include "cql/protocol/requests.hpp"
#include "cql/protocol/responses.hpp"
#include "cql/protocol/segment.hpp"
#include "cqlsim/cluster.hpp"

namespace srvtest {

namespace asio = boost::asio;
namespace proto = cql::protocol;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

// A received frame with its (decompressed) body and the decoded response, whose views
// point into `body` (a heap buffer, so moving the struct keeps them valid).
struct reply {
    proto::frame_header header;
    proto::byte_buffer body;
    proto::response msg;
    proto::body_prefix prefix;

    reply() = default;
    reply(reply&&) = default;
    reply& operator=(reply&&) = default;

    template <class T>
    const T& as() const {
        INFO("opcode " << proto::to_string(header.op));
        if (auto* e = std::get_if<proto::error_response>(&msg))
            UNSCOPED_INFO("server error " << static_cast<int>(e->code) << ": " << e->message);
        REQUIRE(std::holds_alternative<T>(msg));
        return std::get<T>(msg);
    }
    const proto::error_response& error() const { return as<proto::error_response>(); }
    const proto::rows_result& rows() const { return as<proto::rows_result>(); }
};

inline proto::prepare_request prepare(std::string_view q) {
    proto::prepare_request p;
    p.query = q;
    return p;
}
inline proto::byte_buffer int_bytes(std::int32_t v) {
    proto::byte_buffer b;
    proto::byte_writer w(b);
    w.i32(v);
    return b;
}
inline std::int32_t as_int(proto::value_view v) {
    REQUIRE(v.data.size() == 4);
    proto::byte_reader r(v.data);
    return r.i32();
}
inline std::string as_text(proto::value_view v) {
    return std::string(proto::as_string_view(v.data));
}

class client {
  public:
    client()
        : io_ptr_(std::make_unique<asio::io_context>()),
          sock_ptr_(std::make_unique<tcp::socket>(*io_ptr_)) {}
    client(client&&) = default;

    void connect(const std::string& address, std::uint16_t port,
                 asio::ssl::context* tls = nullptr) {
        sock_ptr_->connect(tcp::endpoint(asio::ip::make_address(address), port));
        sock_ptr_->set_option(tcp::no_delay(true));
        if (tls) {
            tls_ = std::make_unique<asio::ssl::stream<tcp::socket&>>(*sock_ptr_, *tls);
            bool done = false;
            boost::system::error_code ec;
            tls_->async_handshake(asio::ssl::stream_base::client,
                                  [&](const boost::system::error_code& e) {
                                      ec = e;
                                      done = true;
                                  });
            run_until(done, 5s);
            REQUIRE_FALSE(ec);
        }
    }
    void connect(const cqlsim::cluster& c, std::size_t node = 0) {
        auto e = c.endpoint(node);
        connect(e.address, e.port);
    }

    proto::protocol_version version = proto::protocol_version::v4;

    void send_raw(proto::bytes_view b) {
        if (tls_)
            asio::write(*tls_, asio::buffer(b.data(), b.size()));
        else
            asio::write(*sock_ptr_, asio::buffer(b.data(), b.size()));
    }

    // Encodes a request frame (compressed / in segments as negotiated) and sends it.
    proto::byte_buffer encode(const proto::request& m, std::int16_t stream) {
        proto::byte_buffer frame;
        REQUIRE_FALSE(proto::encode_request_frame(frame, version, stream, m));
        if (v4_lz4_) {
            proto::byte_buffer c(frame.begin(), frame.begin() + proto::frame_header_size);
            c[1] |= proto::frame_flags::compression;
            REQUIRE_FALSE(proto::compress_frame_body_lz4(
                proto::bytes_view(frame).subspan(proto::frame_header_size), c));
            proto::patch_frame_body_length(c, 0);
            frame = std::move(c);
        }
        if (!send_segments_) return frame;
        proto::byte_buffer out;
        REQUIRE_FALSE(proto::encode_segments(frame, seg_compression_, out));
        return out;
    }
    void send(const proto::request& m, std::int16_t stream = 0) {
        auto b = encode(m, stream);
        send_raw(b);
    }

    // The next frame, or nullopt after `timeout` (and then the test fails if `required`).
    std::optional<reply> next(std::chrono::milliseconds timeout = 5000ms, bool required = true) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (frames_.empty()) {
            if (closed_) {
                if (required) FAIL("connection closed by the server");
                return std::nullopt;
            }
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left <= 0ms || !read_more(left)) {
                if (required) FAIL("no frame within " << timeout.count() << " ms");
                return std::nullopt;
            }
        }
        auto r = std::move(frames_.front());
        frames_.pop_front();
        return r;
    }
    reply request(const proto::request& m, std::int16_t stream = 0) {
        send(m, stream);
        auto r = next();
        REQUIRE(r);
        CHECK(r->header.stream == stream);
        return std::move(*r);
    }
    reply query(std::string_view cql, std::int16_t stream = 0,
                proto::query_parameters params = {}) {
        return request(proto::query_request{cql, params}, stream);
    }

    // STARTUP (and SASL PLAIN if asked) with `v`; returns the final reply (READY,
    // AUTH_SUCCESS or ERROR).
    reply handshake(proto::protocol_version v, bool lz4 = false, std::string user = {},
                    std::string pass = {}) {
        version = v;
        std::vector<proto::string_pair> opts{{"CQL_VERSION", "3.0.0"}};
        if (lz4) opts.emplace_back("COMPRESSION", "lz4");
        send(proto::startup_request{opts});
        negotiated(lz4);
        auto r = next();
        REQUIRE(r);
        CHECK(r->header.stream == 0);
        if (r->header.op == proto::opcode::error) {
            v4_lz4_ = send_segments_ = false;
            segments_after_ready_.reset();
            return std::move(*r);
        }
        if (r->header.op == proto::opcode::authenticate) {
            std::string token = std::string(1, '\0') + user + std::string(1, '\0') + pass;
            return request(proto::auth_response_request{proto::as_bytes(token)});
        }
        return std::move(*r);
    }

    // What a STARTUP (just sent, in `version`) asking for `lz4` negotiates: the next
    // requests are compressed (v4) or in segments (v5), and so are the server's answers
    // from its READY (v4) or after it (v5).
    void negotiated(bool lz4) {
        if (version >= proto::protocol_version::v5) {
            send_segments_ = true;
            seg_compression_ =
                lz4 ? proto::compression_algorithm::lz4 : proto::compression_algorithm::none;
            segments_after_ready_ = seg_compression_;
        } else {
            v4_lz4_ = lz4;
        }
    }

    bool closed() {
        if (!closed_ && frames_.empty()) read_more(50ms);
        return closed_;
    }
    // Wait until the server closes the connection (true) or timeout.
    bool wait_closed(std::chrono::milliseconds timeout = 5000ms) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!closed_ && std::chrono::steady_clock::now() < deadline)
            read_more(std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now()));
        return closed_;
    }
    std::error_code stream_error() const { return stream_error_; }
    // Every raw byte received (for tests that look at the wire).
    const proto::byte_buffer& wire() const { return wire_; }

  private:
    void run_until(bool& done, std::chrono::milliseconds timeout) {
        io_ptr_->restart();
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!done && std::chrono::steady_clock::now() < deadline)
            io_ptr_->run_one_until(deadline);
    }

    // Reads once; false on timeout.
    bool read_more(std::chrono::milliseconds timeout) {
        std::uint8_t buf[65536];
        bool done = false;
        boost::system::error_code ec;
        std::size_t n = 0;
        auto h = [&](const boost::system::error_code& e, std::size_t k) {
            ec = e;
            n = k;
            done = true;
        };
        if (tls_)
            tls_->async_read_some(asio::buffer(buf), h);
        else
            sock_ptr_->async_read_some(asio::buffer(buf), h);
        run_until(done, timeout);
        if (!done) {
            sock_ptr_->cancel();
            run_until(done, 1000ms);
            // A read that completed with data at the same time is kept below.
            if (ec == asio::error::operation_aborted) return false;
        }
        if (ec) {
            closed_ = true;
            return true;
        }
        wire_.insert(wire_.end(), buf, buf + n);
        feed(proto::bytes_view(buf, n));
        return true;
    }

    void feed(proto::bytes_view piece) {
        if (segmented_) {
            auto ec = segs_->feed(piece, [&](const proto::frame_view& f) { take(f); });
            if (ec) {
                stream_error_ = ec;
                closed_ = true;
            }
            return;
        }
        pending_.insert(pending_.end(), piece.begin(), piece.end());
        std::size_t at = 0;
        while (at < pending_.size()) {
            auto s = proto::split_frame(proto::bytes_view(pending_).subspan(at));
            if (s.error) {
                stream_error_ = s.error;
                closed_ = true;
                return;
            }
            if (s.consumed == 0) break;
            take(s.frame);
            at += s.consumed;
            // v5: segments right after READY / AUTHENTICATE, perhaps in this same read.
            if (segments_after_ready_ && (s.frame.header.op == proto::opcode::ready ||
                                          s.frame.header.op == proto::opcode::authenticate)) {
                segmented_ = true;
                segs_.emplace(*segments_after_ready_);
                segments_after_ready_.reset();
                proto::byte_buffer rest(pending_.begin() + static_cast<std::ptrdiff_t>(at),
                                        pending_.end());
                pending_.clear();
                if (!rest.empty()) feed(rest);
                return;
            }
        }
        pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(at));
    }

    void take(const proto::frame_view& f) {
        reply r;
        r.header = f.header;
        if (f.header.has(proto::frame_flags::compression)) {
            REQUIRE_FALSE(proto::decompress_frame_body_lz4(f.body, r.body));
        } else {
            r.body.assign(f.body.begin(), f.body.end());
        }
        proto::frame_view fv{r.header, r.body};
        auto ec = proto::decode_response(fv, r.msg, r.prefix);
        INFO("decoding " << proto::to_string(f.header.op) << ": " << ec.message());
        REQUIRE_FALSE(ec);
        frames_.push_back(std::move(r));
    }

    // Behind pointers so that the client can move (the TLS stream refers to the socket).
    std::unique_ptr<asio::io_context> io_ptr_;
    std::unique_ptr<tcp::socket> sock_ptr_;
    std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls_;
    bool v4_lz4_ = false;
    bool send_segments_ = false;  // requests in segments (v5, after STARTUP)
    bool segmented_ = false;      // answers in segments (v5, after READY / AUTHENTICATE)
    std::optional<proto::compression_algorithm> segments_after_ready_;
    proto::compression_algorithm seg_compression_ = proto::compression_algorithm::none;
    std::optional<proto::buffered_segment_stream> segs_;
    proto::byte_buffer pending_;
    proto::byte_buffer wire_;
    std::deque<reply> frames_;
    bool closed_ = false;
    std::error_code stream_error_;
};

// A one-node (or n-node, all on 127.0.0.1 with free ports) cluster config.
inline cqlsim::cluster_config local_config(std::size_t nodes = 1) {
    cqlsim::cluster_config cfg;
    cfg.datacenters = {{"dc1", nodes, 1}};
    cfg.single_address = true;
    cfg.port = 0;
    return cfg;
}

}  // namespace srvtest
