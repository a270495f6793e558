#include "detail/connection.hpp"

#include <algorithm>
#include <cstring>
#include <exception>
#include <string>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace cql::detail {

namespace p = protocol;
using namespace std::chrono_literals;

namespace {

// An idle connection holds little: the read buffer starts at 16 KiB (it grows with the
// frames that arrive), and stream slots are created as requests need them.
constexpr std::size_t initial_read_buffer = 16 * 1024;
constexpr std::size_t min_read_space = 16 * 1024;
constexpr std::size_t initial_slots = 64;

p::compression_algorithm to_algorithm(cql::compression c) noexcept {
    return c == cql::compression::lz4 ? p::compression_algorithm::lz4
                                      : p::compression_algorithm::none;
}

std::error_code operation_aborted() {
    return boost::system::error_code(asio::error::operation_aborted);
}

bool is_version_error(const response& r, p::protocol_version asked) {
    if (r.opcode() != p::opcode::error || r.diag().code != 0x000A) return false;
    if (r.version() < asked) return true;
    const auto& m = r.diag().message;
    return m.find("version") != std::string::npos || m.find("Version") != std::string::npos;
}

}  // namespace

io_executor io_executor_of(const asio::any_io_executor& ex) {
    using tracked = std::decay_t<decltype(asio::prefer(std::declval<io_executor>(),
                                                       asio::execution::outstanding_work.tracked))>;
    if (auto* io = ex.target<io_executor>()) return *io;
    if (auto* io = ex.target<tracked>())
        return io_executor(asio::prefer(*io, asio::execution::outstanding_work.untracked));
    if (auto* s = ex.target<asio::strand<io_executor>>()) return s->get_inner_executor();
    // Not an io_context: one driver-wide io_context and thread (started when first needed).
    struct fallback {
        asio::io_context io{1};
        asio::executor_work_guard<io_executor> work{io.get_executor()};
        std::thread thread{[this] { io.run(); }};
        ~fallback() {
            work.reset();
            io.stop();
            if (thread.joinable()) thread.join();
        }
    };
    static fallback f;
    return f.io.get_executor();
}

std::shared_ptr<connection> connection::create(const asio::any_io_executor& ex,
                                               connection_config cfg) {
    return std::make_shared<connection>(private_tag{}, ex, std::move(cfg));
}

std::shared_ptr<connection> connection::create_on(const executor_type& strand,
                                                  connection_config cfg) {
    return std::make_shared<connection>(private_tag{}, strand, std::move(cfg));
}

connection::connection(private_tag, const asio::any_io_executor& ex, connection_config cfg)
    : connection(private_tag{}, asio::make_strand(io_executor_of(ex)), std::move(cfg)) {}

connection::connection(private_tag, const executor_type& strand, connection_config cfg)
    : cfg_(std::move(cfg)),
      strand_(strand),
      stream_(strand_),
      heartbeat_timer_(strand_),
      connect_timer_(strand_),
      deadline_timer_(strand_),
      segments_in_(p::compression_algorithm::none, cfg_.max_body_size) {
    max_slots_ = std::clamp<std::uint32_t>(cfg_.max_streams, 1, 32768);
    slots_.reserve(std::min<std::size_t>(initial_slots, max_slots_));
    rbuf_.resize(initial_read_buffer);
}

connection::~connection() = default;

std::error_code connection::io_error(std::error_code ec) const {
    if (connect_timed_out_) return errc::timed_out;
    if (ec == operation_aborted()) return ec;
    return errc::connection_closed;
}

// ---- handshake -------------------------------------------------------------------

void connection::start_connect(std::unique_ptr<connect_completion> op) {
    asio::dispatch(strand_, [self = shared_from_this(), op = std::move(op)]() mutable {
        if (self->state_.load() != state::idle) {
            op->complete(errc::not_connected);  // connect is once per connection
            return;
        }
        self->state_ = state::connecting;
        if (self->cfg_.connect_timeout.count() > 0) {
            self->connect_timer_.expires_after(self->cfg_.connect_timeout);
            self->connect_timer_.async_wait([w = self->weak_from_this()](std::error_code ec) {
                auto s = w.lock();
                if (ec || !s || s->state_.load() != state::connecting) return;
                s->connect_timed_out_ = true;
                if (s->resolver_) s->resolver_->cancel();
                s->stream_.close();
            });
        }
        auto* raw = self.get();
        asio::co_spawn(self->strand_, raw->do_connect(),
                       [self, op = std::move(op)](std::exception_ptr e, std::error_code ec) {
                           self->connect_timer_.cancel();
                           if (e) ec = errc::internal_error;
                           if (ec && self->connect_timed_out_) ec = errc::timed_out;
                           if (ec) {
                               self->state_ = state::defunct;
                               self->defunct_reason_ = ec;
                               self->stream_.close();
                           } else {
                               self->enter_ready();
                           }
                           op->complete(ec);
                       });
    });
}

asio::awaitable<std::error_code> connection::do_connect() {
    auto tok = asio::as_tuple(asio::use_awaitable);
    resolver_.emplace(strand_);
    auto [rec, endpoints] =
        co_await resolver_->async_resolve(cfg_.host, std::to_string(cfg_.port), tok);
    if (rec) {
        connect_diag_.message = "cannot resolve " + cfg_.host + ": " + rec.message();
        co_return connect_timed_out_ ? errc::timed_out : errc::resolution_failed;
    }

    std::vector<p::protocol_version> versions;
    if (cfg_.version)
        versions.push_back(*cfg_.version);
    else
        versions = {p::protocol_version::v5, p::protocol_version::v4};

    for (std::size_t attempt = 0; attempt < versions.size(); ++attempt) {
        const auto v = versions[attempt];
        const bool last = attempt + 1 == versions.size();
        version_ = v;
        if (auto ec = co_await connect_socket(endpoints)) co_return ec;

        response r;
        auto ec = co_await exchange(p::options_request{}, r);
        if (ec && is_version_error(r, v)) {
            if (last) {
                connect_diag_ = r.diag();
                co_return errc::protocol_negotiation_failed;
            }
            stream_.reset();
            continue;
        }
        if (ec) co_return handshake_error(ec, r);
        if (r.opcode() != p::opcode::supported) {
            connect_diag_.message = "OPTIONS answered by " + std::string(p::to_string(r.opcode()));
            co_return errc::unexpected_response;
        }
        p::response decoded;
        if (auto dec = r.decode(decoded)) co_return dec;
        bool lz4_offered = false;
        supported_.clear();
        for (const auto& [key, values] : std::get<p::supported_response>(decoded).options) {
            auto& entry = supported_.emplace_back(std::string(key), std::vector<std::string>{});
            for (auto val : values) {
                entry.second.emplace_back(val);
                if (key == "COMPRESSION" && val == "lz4") lz4_offered = true;
            }
        }

        const bool use_lz4 = cfg_.compression == cql::compression::lz4 && lz4_offered;
        std::vector<p::string_pair> options{{"CQL_VERSION", "3.0.0"}};
        if (use_lz4) options.emplace_back("COMPRESSION", "lz4");
        ec = co_await exchange(p::startup_request{options}, r);
        if (ec && is_version_error(r, v) && !last) {
            stream_.reset();
            continue;
        }
        if (ec) co_return handshake_error(ec, r);
        compression_ = use_lz4 ? cql::compression::lz4 : cql::compression::none;
        if (r.opcode() == p::opcode::authenticate) {
            p::response auth;
            if (auto dec = r.decode(auth)) co_return dec;
            // v5 framing starts right after READY *or* AUTHENTICATE (spec v5 2.3.1), so
            // the SASL exchange already travels in segments.
            if (version() >= p::protocol_version::v5) start_segments();
            co_return co_await authenticate(std::get<p::authenticate_response>(auth).authenticator);
        }
        if (r.opcode() != p::opcode::ready) {
            connect_diag_.message = "STARTUP answered by " + std::string(p::to_string(r.opcode()));
            co_return errc::unexpected_response;
        }
        co_return std::error_code{};
    }
    co_return errc::protocol_negotiation_failed;
}

asio::awaitable<std::error_code> connection::connect_socket(
    const asio::ip::tcp::resolver::results_type& endpoints) {
    auto tok = asio::as_tuple(asio::use_awaitable);
    stream_.reset();
    rbegin_ = rend_ = 0;
    if (connect_timed_out_) co_return errc::timed_out;
    auto [cec, ep] = co_await asio::async_connect(stream_.tcp(), endpoints, tok);
    if (cec) {
        connect_diag_.message = "cannot connect to " + cfg_.host + ":" + std::to_string(cfg_.port) +
                                ": " + cec.message();
        co_return connect_timed_out_ ? errc::timed_out : errc::host_unreachable;
    }
    boost::system::error_code ignored;
    stream_.tcp().set_option(asio::ip::tcp::no_delay(true), ignored);
    if (!cfg_.tls.enabled) co_return std::error_code{};

    const auto& t = cfg_.tls;
    if (!tls_ctx_) {
        auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
        boost::system::error_code ec;
        ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                             asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                             asio::ssl::context::no_tlsv1_1,
                         ec);
        if (!ec && !t.ca_file.empty()) ctx->load_verify_file(t.ca_file, ec);
        if (!ec && !t.ca_pem.empty()) ctx->add_certificate_authority(asio::buffer(t.ca_pem), ec);
        if (!ec && t.ca_file.empty() && t.ca_pem.empty()) ctx->set_default_verify_paths(ec);
        if (!ec && !t.cert_file.empty()) ctx->use_certificate_chain_file(t.cert_file, ec);
        if (!ec && !t.cert_pem.empty()) ctx->use_certificate_chain(asio::buffer(t.cert_pem), ec);
        if (!ec && !t.key_file.empty())
            ctx->use_private_key_file(t.key_file, asio::ssl::context::pem, ec);
        if (!ec && !t.key_pem.empty())
            ctx->use_private_key(asio::buffer(t.key_pem), asio::ssl::context::pem, ec);
        if (!ec)
            ctx->set_verify_mode(t.verify_peer ? asio::ssl::verify_peer : asio::ssl::verify_none,
                                 ec);
        if (ec) {
            connect_diag_.message = "TLS configuration: " + ec.message();
            co_return errc::tls_handshake_failed;
        }
        tls_ctx_ = std::move(ctx);
    }
    stream_.enable_tls(*tls_ctx_);
    auto* tls = stream_.tls();
    const std::string& name = t.server_name.empty() ? cfg_.host : t.server_name;
    boost::system::error_code addr_ec;
    asio::ip::make_address(name, addr_ec);
    if (addr_ec) {  // SNI only for names, never for addresses (RFC 6066)
        SSL_ctrl(tls->native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                 const_cast<char*>(name.c_str()));
    }
    if (t.verify_peer && t.verify_host_name)
        tls->set_verify_callback(asio::ssl::host_name_verification(name));
    auto [hec] = co_await tls->async_handshake(asio::ssl::stream_base::client, tok);
    if (hec) {
        connect_diag_.message = "TLS handshake with " + cfg_.host + ": " + hec.message();
        co_return connect_timed_out_ ? errc::timed_out : errc::tls_handshake_failed;
    }
    co_return std::error_code{};
}

// Sends one handshake message on stream 0 and reads the answer: plain frames until the
// server's READY or AUTHENTICATE, v5 segments after it (the SASL exchange).
asio::awaitable<std::error_code> connection::exchange(const p::request& m, response& out) {
    auto tok = asio::as_tuple(asio::use_awaitable);
    scratch_.clear();
    if (segments_) {
        p::byte_buffer frame;
        if (auto ec = p::encode_request_frame(frame, version(), 0, m)) co_return ec;
        if (auto ec = p::encode_segments(frame, to_algorithm(compression_), scratch_)) co_return ec;
    } else if (auto ec = p::encode_request_frame(scratch_, version(), 0, m)) {
        co_return ec;
    }
    auto [wec, wn] = co_await asio::async_write(stream_, asio::buffer(scratch_), tok);
    if (wec) co_return io_error(wec);
    ++frames_sent_;
    ++write_calls_;
    for (;;) {
        if (segments_) {
            bool answered = false;
            std::error_code answer_ec;
            std::size_t used = 0;
            auto ec = segments_in_.decode(readable(), used, [&](const p::frame_view& f) {
                if (answered || f.header.stream != 0) return std::error_code{};  // an early event
                answered = true;
                answer_ec = make_frame_response(f, out);
                return std::error_code{};
            });
            rbegin_ += used;
            if (ec) co_return ec;
            if (answered) co_return answer_ec;
            prepare_read(segments_in_.needed());
            auto [rec, rn] = co_await stream_.async_read_some(
                asio::buffer(rbuf_.data() + rend_, rbuf_.size() - rend_), tok);
            if (rec) co_return io_error(rec);
            rend_ += rn;
            continue;
        }
        auto s = p::split_frame(readable(), cfg_.max_body_size);
        if (s.error) co_return s.error;
        if (s.consumed != 0) {
            auto ec = make_frame_response(s.frame, out);
            rbegin_ += s.consumed;
            if (ec && ec.category() == p::codec_category()) co_return ec;
            if (s.frame.header.stream != 0) continue;  // not ours (an early event)
            co_return ec;
        }
        prepare_read(s.needed);
        auto [rec, rn] = co_await stream_.async_read_some(
            asio::buffer(rbuf_.data() + rend_, rbuf_.size() - rend_), tok);
        if (rec) co_return io_error(rec);
        rend_ += rn;
    }
}

asio::awaitable<std::error_code> connection::authenticate(std::string_view authenticator_class) {
    if (!cfg_.auth) {
        connect_diag_.message = "the server requires authentication (" +
                                std::string(authenticator_class) +
                                ") but no auth provider is configured";
        co_return errc::authentication_failed;
    }
    auto auth = cfg_.auth->new_authenticator(cfg_.host, authenticator_class);
    if (!auth) {
        connect_diag_.message = "no authenticator for " + std::string(authenticator_class);
        co_return errc::authentication_failed;
    }
    p::byte_buffer token;
    if (auto ec = auth->initial_response(token)) co_return ec;
    for (int round = 0; round < 64; ++round) {
        response r;
        auto ec = co_await exchange(p::auth_response_request{p::bytes_view(token)}, r);
        if (ec) co_return handshake_error(ec, r);
        p::response decoded;
        if (auto dec = r.decode(decoded)) co_return dec;
        if (auto* ok = std::get_if<p::auth_success_response>(&decoded)) {
            co_return auth->on_success(ok->token.value_or(p::bytes_view{}));
        }
        if (auto* ch = std::get_if<p::auth_challenge_response>(&decoded)) {
            token.clear();
            if (auto aec = auth->evaluate_challenge(ch->token.value_or(p::bytes_view{}), token))
                co_return aec;
            continue;
        }
        connect_diag_.message =
            "AUTH_RESPONSE answered by " + std::string(p::to_string(r.opcode()));
        co_return errc::unexpected_response;
    }
    connect_diag_.message = "too many authentication challenges";
    co_return errc::authentication_failed;
}

std::error_code connection::handshake_error(std::error_code ec, const response& r) {
    if (r.opcode() == p::opcode::error && !r.empty()) {
        connect_diag_ = r.diag();
        if (ec == server_errc::bad_credentials) return errc::authentication_failed;
        return ec;
    }
    if (connect_diag_.message.empty()) connect_diag_.message = ec.message();
    return ec;
}

// ---- buffers and frames ------------------------------------------------------------

void connection::prepare_read(std::size_t needed) {
    if (rbegin_ == rend_) {
        rbegin_ = rend_ = 0;
    } else if (rbegin_ > 0) {
        std::memmove(rbuf_.data(), rbuf_.data() + rbegin_, rend_ - rbegin_);
        rend_ -= rbegin_;
        rbegin_ = 0;
    }
    std::size_t want = std::max(needed, rend_ + min_read_space);
    if (rbuf_.size() < want) rbuf_.resize(std::max(want, rbuf_.size() * 2));
}

std::error_code connection::make_frame_response(const p::frame_view& f, response& out) {
    if (!f.header.is_response) return p::codec_errc::unexpected_direction;
    p::byte_buffer body = take_body_buffer();
    if (f.header.has(p::frame_flags::compression)) {
        // v4 body compression; in v5 compression belongs to the segment layer.
        if (compression_ != cql::compression::lz4 || segments_)
            return p::codec_errc::unexpected_compression;
        if (auto ec = p::decompress_frame_body_lz4(f.body, body, cfg_.max_body_size)) return ec;
        auto h = f.header;
        h.flags = static_cast<std::uint8_t>(h.flags & ~p::frame_flags::compression);
        return out.assign(h, std::move(body));
    }
    body.assign(f.body.begin(), f.body.end());
    return out.assign(f.header, std::move(body));
}

// ---- steady state ------------------------------------------------------------------

void connection::start_segments() {
    segments_ = true;
    segments_in_ = p::segment_stream(to_algorithm(compression_), cfg_.max_body_size);
}

void connection::enter_ready() {
    state_ = state::ready;
    if (version() >= p::protocol_version::v5 && !segments_) start_segments();
    last_read_ = std::chrono::steady_clock::now();
    // Bytes read with the last handshake answer belong to the steady state.
    if (auto ec = process_input()) {
        fail(ec);
        return;
    }
    start_read();
    start_heartbeat();
}

void connection::start_request(std::unique_ptr<request_completion> op, p::byte_buffer frame,
                               std::error_code encode_ec) {
    if (encode_ec) {
        op->complete(encode_ec, response{});
        return;
    }
    asio::dispatch(strand_, [self = shared_from_this(), op = std::move(op),
                             frame = std::move(frame)]() mutable {
        self->on_strand_request(std::move(op), frame);
    });
}

void connection::start_request_view(std::unique_ptr<request_completion> op, p::bytes_view frame) {
    asio::dispatch(strand_, [self = shared_from_this(), op = std::move(op), frame]() mutable {
        self->on_strand_request(std::move(op), frame);
    });
}

std::error_code connection::check_sendable(p::bytes_view frame) const {
    auto st = state_.load();
    if (st != state::ready)
        return st == state::defunct  ? std::error_code(errc::connection_defunct)
               : st == state::closed ? std::error_code(errc::connection_closed)
                                     : std::error_code(errc::not_connected);
    if (frame.size() < p::frame_header_size) return p::codec_errc::truncated;
    if (frame.size() - p::frame_header_size > cfg_.max_body_size) return errc::request_too_large;
    return {};
}

std::int16_t connection::take_stream() {
    std::int16_t id = 0;
    if (!free_ids_.empty()) {
        id = free_ids_.back();
        free_ids_.pop_back();
    } else if (slots_.size() < max_slots_) {
        id = static_cast<std::int16_t>(slots_.size());  // a new stream id: slots grow lazily
        slots_.emplace_back();
    } else {
        return -1;
    }
    ++in_use_;
    slots_[static_cast<std::size_t>(id)].st = slot_state::active;
    return id;
}

void connection::complete_slot(slot& s, std::error_code ec, response&& r) {
    if (auto* cb = std::exchange(s.cb, nullptr)) {
        cb->on_response(ec, std::move(r));
        return;
    }
    auto op = std::move(s.op);
    if (op) op->complete(ec, std::move(r));
}

std::error_code connection::send_direct(stream_callback* cb, p::bytes_view frame,
                                        std::chrono::steady_clock::time_point deadline) {
    if (auto ec = check_sendable(frame)) return ec;
    const auto id = take_stream();
    if (id < 0) return errc::no_stream_available;
    auto& s = slots_[static_cast<std::size_t>(id)];
    s.cb = cb;
    if (cfg_.request_timeout.count() > 0)
        deadline = std::min(deadline, std::chrono::steady_clock::now() + cfg_.request_timeout);
    s.deadline = deadline;
    if (deadline < deadline_armed_) arm_deadline(deadline);
    enqueue_frame(frame, id);
    flush();
    return {};
}

void connection::on_strand_request(std::unique_ptr<request_completion> op, p::bytes_view frame) {
    if (auto ec = check_sendable(frame)) {
        op->complete(ec, response{});
        return;
    }
    const auto id = take_stream();
    if (id < 0) {
        op->complete(errc::no_stream_available, response{});
        return;
    }
    auto& s = slots_[static_cast<std::size_t>(id)];
    s.op = std::move(op);
    const auto gen = s.generation;

    auto cs = s.op->cancellation_slot();
    if (cs.is_connected()) {
        // Posted, never run inline: the handler must not clear its own slot while running.
        cs.assign([w = weak_from_this(), strand = strand_, id, gen](asio::cancellation_type) {
            asio::post(strand, [w, id, gen] {
                if (auto self = w.lock()) self->on_cancel(id, gen);
            });
        });
    }
    if (cfg_.request_timeout.count() > 0) {
        s.deadline = std::chrono::steady_clock::now() + cfg_.request_timeout;
        if (s.deadline < deadline_armed_) arm_deadline(s.deadline);
    }

    enqueue_frame(frame, id);
    flush();
}

void connection::enqueue_frame(p::bytes_view frame, std::int16_t id) {
    ++pending_frames_;
    const auto at = pending_.size();
    // The copy gets this connection's version and the stream id.
    auto patch = [&] {
        pending_[at] = static_cast<std::uint8_t>(version());
        pending_[at + 2] = static_cast<std::uint8_t>(static_cast<std::uint16_t>(id) >> 8);
        pending_[at + 3] = static_cast<std::uint8_t>(static_cast<std::uint16_t>(id) & 0xFF);
    };
    if (!segments_ && compression_ == cql::compression::lz4 &&
        frame.size() > p::frame_header_size) {
        // v4: compress the body, set the flag, patch the length.
        pending_.insert(pending_.end(), frame.begin(), frame.begin() + p::frame_header_size);
        patch();
        pending_[at + 1] |= p::frame_flags::compression;
        auto body = frame.subspan(p::frame_header_size);
        if (!p::compress_frame_body_lz4(body, pending_)) {
            p::patch_frame_body_length(pending_, at);
            return;
        }
        pending_.resize(at);  // LZ4 refused: send it uncompressed
    }
    pending_.insert(pending_.end(), frame.begin(), frame.end());
    patch();
}

void connection::flush() {
    if (write_in_flight_ || pending_.empty() || state_.load() != state::ready) return;
    writing_.clear();
    if (segments_) {
        if (auto ec = p::encode_segments(pending_, to_algorithm(compression_), writing_)) {
            fail(ec);
            return;
        }
        pending_.clear();
    } else {
        std::swap(pending_, writing_);
    }
    frames_sent_ += pending_frames_;
    pending_frames_ = 0;
    ++write_calls_;
    write_in_flight_ = true;
    asio::async_write(
        stream_, asio::buffer(writing_),
        [self = shared_from_this()](std::error_code ec, std::size_t n) { self->on_write(ec, n); });
}

void connection::on_write(std::error_code ec, std::size_t) {
    write_in_flight_ = false;
    if (ec) {
        fail(io_error(ec));
        return;
    }
    flush();
}

void connection::start_read() {
    prepare_read(rneeded_);
    stream_.async_read_some(
        asio::buffer(rbuf_.data() + rend_, rbuf_.size() - rend_),
        [self = shared_from_this()](std::error_code ec, std::size_t n) { self->on_read(ec, n); });
}

void connection::on_read(std::error_code ec, std::size_t n) {
    if (state_.load() != state::ready) return;
    if (ec) {
        fail(io_error(ec));
        return;
    }
    rend_ += n;
    last_read_ = std::chrono::steady_clock::now();
    if (auto pec = process_input()) {
        fail(pec);
        return;
    }
    start_read();
}

std::error_code connection::process_input() {
    if (segments_) {
        std::size_t used = 0;
        auto ec = segments_in_.decode(readable(), used,
                                      [this](const p::frame_view& f) { return handle_frame(f); });
        rbegin_ += used;
        rneeded_ = segments_in_.needed();
        return ec;
    }
    for (;;) {
        auto s = p::split_frame(readable(), cfg_.max_body_size);
        if (s.error) return s.error;
        rneeded_ = s.needed;
        if (s.consumed == 0) return {};
        rbegin_ += s.consumed;
        if (auto ec = handle_frame(s.frame)) return ec;
    }
}

std::error_code connection::handle_frame(const p::frame_view& f) {
    response r;
    auto ec = make_frame_response(f, r);
    if (ec && ec.category() != server_category()) return ec;  // malformed: defunct
    if (f.header.stream < 0) {
        if (f.header.op == p::opcode::event && cfg_.on_event) cfg_.on_event(std::move(r));
        return {};
    }
    const auto id = static_cast<std::size_t>(f.header.stream);
    if (id >= slots_.size()) return {};  // a stream we never used: ignored
    complete_stream(f.header.stream, ec, std::move(r));
    return {};
}

void connection::complete_stream(std::int16_t id, std::error_code ec, response&& r) {
    auto& s = slots_[static_cast<std::size_t>(id)];
    switch (s.st) {
        case slot_state::free:
            return;  // an answer to nothing we sent: ignored
        case slot_state::orphaned:
            release_stream(id);  // the late answer of a timed-out or cancelled request
            return;
        case slot_state::active: {
            auto op = std::move(s.op);
            auto* cb = std::exchange(s.cb, nullptr);
            release_stream(id);
            if (cb)
                cb->on_response(ec, std::move(r));
            else
                op->complete(ec, std::move(r));
            return;
        }
    }
}

void connection::release_stream(std::int16_t id) {
    auto& s = slots_[static_cast<std::size_t>(id)];
    s.st = slot_state::free;
    s.op.reset();
    s.cb = nullptr;
    s.deadline = std::chrono::steady_clock::time_point::max();
    ++s.generation;
    free_ids_.push_back(id);
    --in_use_;
}

void connection::on_timeout(std::int16_t id) {
    auto& s = slots_[static_cast<std::size_t>(id)];
    if (s.st != slot_state::active) return;
    s.st = slot_state::orphaned;  // the id waits for the late answer
    s.deadline = std::chrono::steady_clock::time_point::max();
    complete_slot(s, errc::timed_out, response{});
}

void connection::arm_deadline(std::chrono::steady_clock::time_point t) {
    deadline_armed_ = t;
    deadline_timer_.expires_at(t);  // (cancels the wait for a later deadline)
    deadline_timer_.async_wait([w = weak_from_this()](std::error_code ec) {
        if (auto self = w.lock()) self->on_deadline(ec);
    });
}

void connection::on_deadline(std::error_code ec) {
    if (ec) return;  // re-armed earlier, or the connection failed
    deadline_armed_ = std::chrono::steady_clock::time_point::max();
    const auto st = state_.load();
    if (st != state::ready) return;
    const auto now = std::chrono::steady_clock::now();
    auto next = std::chrono::steady_clock::time_point::max();
    for (std::size_t i = 0; i < slots_.size(); ++i) {
        auto& s = slots_[i];
        if (s.st != slot_state::active) continue;
        if (s.deadline <= now)
            on_timeout(static_cast<std::int16_t>(i));
        else if (s.deadline < next)
            next = s.deadline;
    }
    if (next != std::chrono::steady_clock::time_point::max() && next < deadline_armed_)
        arm_deadline(next);
}

void connection::on_cancel(std::int16_t id, std::uint32_t generation) {
    auto& s = slots_[static_cast<std::size_t>(id)];
    if (s.st != slot_state::active || s.generation != generation) return;
    s.deadline = std::chrono::steady_clock::time_point::max();
    s.st = slot_state::orphaned;
    complete_slot(s, operation_aborted(), response{});
}

void connection::start_heartbeat() {
    if (cfg_.heartbeat_interval.count() <= 0 || state_.load() != state::ready) return;
    heartbeat_timer_.expires_after(cfg_.heartbeat_interval);
    heartbeat_timer_.async_wait([w = weak_from_this()](std::error_code ec) {
        if (auto self = w.lock()) self->on_heartbeat(ec);
    });
}

void connection::on_heartbeat(std::error_code ec) {
    if (ec || state_.load() != state::ready) return;
    const auto idle = std::chrono::steady_clock::now() - last_read_;
    if (!heartbeat_in_flight_ && idle >= cfg_.heartbeat_interval) {
        p::byte_buffer frame;
        if (!p::encode_request_frame(frame, version(), 0, p::options_request{})) {
            heartbeat_in_flight_ = true;
            auto handler = [w = weak_from_this()](std::error_code hec, response) {
                auto self = w.lock();
                if (!self) return;
                self->heartbeat_in_flight_ = false;
                if (hec == errc::timed_out) self->fail(errc::heartbeat_failed);
            };
            on_strand_request(make_completion<error_code, response>(std::move(handler), strand_),
                              frame);
        }
    }
    start_heartbeat();
}

void connection::close() {
    // Posted, never inline: the strand may be the cluster's, whose loops over pools and
    // connections must not see requests complete (and pools change) inside this call.
    asio::post(strand_, [self = shared_from_this()] {
        auto st = self->state_.load();
        if (st == state::ready) {
            self->fail(errc::connection_closed);
            self->state_ = state::closed;
        } else if (st == state::connecting) {
            self->connect_timed_out_ = false;
            if (self->resolver_) self->resolver_->cancel();
            self->stream_.close();
        } else if (st == state::idle) {
            self->state_ = state::closed;
        }
    });
}

void connection::fail(std::error_code ec) {
    auto st = state_.load();
    if (st == state::defunct || st == state::closed) return;
    state_ = state::defunct;
    defunct_reason_ = ec;
    stream_.close();
    heartbeat_timer_.cancel();
    deadline_timer_.cancel();
    deadline_armed_ = std::chrono::steady_clock::time_point::max();
    pending_.clear();
    pending_frames_ = 0;
    for (std::size_t i = 0; i < slots_.size(); ++i) {
        auto& s = slots_[i];
        s.deadline = std::chrono::steady_clock::time_point::max();
        if (s.st == slot_state::active) {
            s.st = slot_state::free;
            complete_slot(s, ec, response{});
        }
    }
}

}  // namespace cql::detail
