#include "detail/connection.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <exception>
#include <string>
#include <thread>

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "cql/protocol/compression.hpp"
#include "cql/protocol/segment.hpp"
#include "detail/recycled_allocator.hpp"

namespace cql::detail {

namespace p = protocol;
using namespace std::chrono_literals;

namespace {

// An idle connection holds little: the read buffer starts at 16 KiB and grows with the
// bytes that arrive (never by a frame's announced length alone).
constexpr std::size_t initial_read_buffer = 16 * 1024;
constexpr std::size_t min_read_space = 16 * 1024;
// Bytes of a peer's first answer kept to name a peer that is not a CQL server.
constexpr std::size_t kept_first_bytes = 64;

p::compression_algorithm to_algorithm(cql::compression c) noexcept {
    return c == cql::compression::lz4 ? p::compression_algorithm::lz4
                                      : p::compression_algorithm::none;
}

std::error_code operation_aborted() {
    return boost::system::error_code(asio::error::operation_aborted);
}

std::string ms(std::chrono::milliseconds d) {
    return std::to_string(d.count()) + " ms";
}

// The printable start of what a peer sent ("HTTP/1.1 400 Bad Request").
std::string printable_start(p::bytes_view b) {
    std::string s;
    for (auto c : b) {
        if (c == '\r' || c == '\n') break;
        if (!std::isprint(c)) return {};
        s += static_cast<char>(c);
    }
    return s;
}

}  // namespace

std::string describe_failure(std::error_code ec, const diagnostics& d) {
    std::string what = ec.category() == p::codec_category() ? "protocol error" : ec.message();
    if (d.message.rfind(what, 0) == 0) return d.message;  // (it says so already)
    if (!d.message.empty() && d.message != what) what += ": " + d.message;
    return what;
}

io_executor io_executor_of(const asio::any_io_executor& ex) {
    using tracked = std::decay_t<decltype(asio::prefer(std::declval<io_executor>(),
                                                       asio::execution::outstanding_work.tracked))>;
    if (auto* io = ex.target<io_executor>()) return *io;
    if (auto* io = ex.target<tracked>())
        return io_executor(asio::prefer(*io, asio::execution::outstanding_work.untracked));
    if (auto* s = ex.target<strand_executor>()) return s->get_inner_executor();
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
    return std::make_shared<connection>(private_tag{}, asio::make_strand(io_executor_of(ex)),
                                        std::move(cfg));
}

std::shared_ptr<connection> connection::create_on(const executor_type& strand,
                                                  connection_config cfg) {
    return std::make_shared<connection>(private_tag{}, strand, std::move(cfg));
}

connection::connection(private_tag, const executor_type& strand, connection_config cfg)
    : cfg_(std::move(cfg)),
      strand_(strand),
      stream_(strand_),
      connect_timer_(strand_),
      watchdog_(strand_),
      streams_(cfg_.max_streams) {
    if (cfg_.max_orphans == 0)
        cfg_.max_orphans = std::max<std::uint32_t>(1, streams_.capacity() / 4);
    rbuf_.resize(initial_read_buffer);
    heartbeat_cb_.owner = this;
}

connection::~connection() = default;

// ---- connect ---------------------------------------------------------------------

void connection::start_connect(connect_handler h) {
    asio::dispatch(strand_, [self = shared_from_this(), h = std::move(h)]() mutable {
        if (self->state_.load() != state::idle) {
            h(errc::not_connected);  // connect is once per connection
            return;
        }
        self->state_ = state::connecting;
        self->connect_handler_ = std::move(h);
        if (self->cfg_.version)
            self->versions_ = {*self->cfg_.version};
        else
            self->versions_ = {p::protocol_version::v5, p::protocol_version::v4};
        if (self->cfg_.connect_timeout.count() > 0) {
            self->connect_timer_.expires_after(self->cfg_.connect_timeout);
            self->connect_timer_.async_wait([w = self->weak_from_this()](std::error_code ec) {
                auto s = w.lock();
                if (ec || !s) return;
                const auto st = s->state_.load();
                if (st != state::connecting && st != state::handshaking) return;
                s->connect_timed_out_ = true;
                if (s->resolver_) s->resolver_->cancel();
                s->stream_.close();
                if (st == state::handshaking) s->finish_connect(errc::connect_timed_out);
            });
        }
        auto* raw = self.get();
        asio::co_spawn(self->strand_, raw->run_connect(self), asio::detached);
    });
}

asio::awaitable<void> connection::run_connect(std::shared_ptr<connection>) {
    // (the argument keeps the connection alive while the coroutine runs)
    auto tok = asio::as_tuple(asio::use_awaitable);
    resolver_.emplace(strand_);
    connect_phase_ = "resolving " + cfg_.host;
    auto [rec, endpoints] =
        co_await resolver_->async_resolve(cfg_.host, std::to_string(cfg_.port), tok);
    if (state_.load() != state::connecting) co_return;
    if (rec) {
        diag_.message = "cannot resolve " + cfg_.host + ": " + rec.message();
        finish_connect(connect_timed_out_ ? errc::connect_timed_out : errc::resolution_failed);
        co_return;
    }
    endpoints_ = std::move(endpoints);
    co_await open_and_handshake();
}

asio::awaitable<void> connection::open_and_handshake() {
    auto ec = co_await open_socket(endpoints_);
    if (state_.load() != state::connecting) co_return;
    if (ec) {
        finish_connect(ec);
        co_return;
    }
    begin_handshake();
}

asio::awaitable<std::error_code> connection::open_socket(
    const asio::ip::tcp::resolver::results_type& endpoints) {
    auto tok = asio::as_tuple(asio::use_awaitable);
    stream_.reset();
    ++socket_gen_;
    write_in_flight_ = false;
    rbegin_ = rend_ = 0;
    const auto where = cfg_.host + ":" + std::to_string(cfg_.port);
    connect_phase_ = "TCP connect to " + where;
    auto [cec, ep] = co_await asio::async_connect(stream_.tcp(), endpoints, tok);
    if (connect_timed_out_) co_return errc::connect_timed_out;
    if (cec) {
        diag_.message = "cannot connect to " + where + ": " + cec.message();
        co_return errc::host_unreachable;
    }
    boost::system::error_code ignored;
    stream_.tcp().set_option(asio::ip::tcp::no_delay(true), ignored);
    if (!cfg_.tls.enabled) co_return std::error_code{};

    if (auto tec = setup_tls()) co_return tec;
    connect_phase_ = "TLS handshake with " + where;
    auto* tls = stream_.tls();
    auto [hec] = co_await tls->async_handshake(asio::ssl::stream_base::client, tok);
    if (connect_timed_out_) co_return errc::connect_timed_out;
    if (hec) {
        std::string reason = hec.message();
        const long verify = SSL_get_verify_result(tls->native_handle());
        if (verify != X509_V_OK)
            reason =
                std::string("certificate verify failed: ") + X509_verify_cert_error_string(verify);
        diag_.message = "TLS handshake with " + where + " failed: " + reason;
        co_return errc::tls_handshake_failed;
    }
    co_return std::error_code{};
}

std::error_code connection::setup_tls() {
    const auto& t = cfg_.tls;
    if (!tls_ctx_) {
        auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
        boost::system::error_code ec;
        std::string what = "options";
        ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                             asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                             asio::ssl::context::no_tlsv1_1,
                         ec);
        auto step = [&](const std::string& name, auto&& f) {
            if (ec) return;
            what = name;
            f();
        };
        if (!t.ca_file.empty())
            step("CA file " + t.ca_file, [&] { ctx->load_verify_file(t.ca_file, ec); });
        if (!t.ca_pem.empty())
            step("CA PEM", [&] { ctx->add_certificate_authority(asio::buffer(t.ca_pem), ec); });
        if (t.ca_file.empty() && t.ca_pem.empty())
            step("default CA paths", [&] { ctx->set_default_verify_paths(ec); });
        if (!t.cert_file.empty())
            step("certificate file " + t.cert_file,
                 [&] { ctx->use_certificate_chain_file(t.cert_file, ec); });
        if (!t.cert_pem.empty())
            step("certificate PEM",
                 [&] { ctx->use_certificate_chain(asio::buffer(t.cert_pem), ec); });
        if (!t.key_file.empty())
            step("key file " + t.key_file,
                 [&] { ctx->use_private_key_file(t.key_file, asio::ssl::context::pem, ec); });
        if (!t.key_pem.empty())
            step("key PEM", [&] {
                ctx->use_private_key(asio::buffer(t.key_pem), asio::ssl::context::pem, ec);
            });
        step("verify mode", [&] {
            ctx->set_verify_mode(t.verify_peer ? asio::ssl::verify_peer : asio::ssl::verify_none,
                                 ec);
        });
        if (ec) {
            diag_.message = "TLS configuration (" + what + "): " + ec.message();
            return errc::tls_handshake_failed;
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
    if (t.verify_peer && t.verify_host_name) {
        // OpenSSL's own check (not a verify callback): a mismatch is then reported as
        // X509_V_ERR_HOSTNAME_MISMATCH / IP_ADDRESS_MISMATCH in the verify result.
        auto* param = SSL_get0_param(tls->native_handle());
        if (addr_ec)
            X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
        else
            X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
    }
    return {};
}

void connection::begin_handshake() {
    const auto v = versions_[version_index_];
    version_ = v;
    client_handshake::settings hs;
    hs.version = v;
    hs.last_version = version_index_ + 1 == versions_.size();
    hs.compression = cfg_.compression;
    hs.auth = cfg_.auth;
    hs.host = cfg_.host;
    handshake_.emplace(std::move(hs));
    decoder_.emplace(p::stream_side::server, p::compression_choice::none, cfg_.max_body_size);
    segments_ = false;
    compression_ = cql::compression::none;
    first_bytes_seen_ = false;
    first_bytes_.clear();
    pending_.clear();
    pending_frames_ = 0;
    state_ = state::handshaking;
    connect_phase_ = "protocol v" + std::to_string(static_cast<int>(v)) + " handshake with " +
                     cfg_.host + ":" + std::to_string(cfg_.port);
    on_handshake_step(handshake_->start(pending_));
    start_read();
}

void connection::on_handshake_step(client_handshake::step s) {
    switch (s) {
        case client_handshake::step::write:
            if (handshake_->lz4()) {
                // STARTUP asks for LZ4: the server's answer to it may already be compressed,
                // and v5 segments after it use the compressed layout.
                decoder_->set_compression(p::compression_choice::lz4);
                compression_ = cql::compression::lz4;
            }
            write_handshake_frame();
            return;
        case client_handshake::step::wait:
            return;
        case client_handshake::step::done:
            supported_ = handshake_->supported();
            compression_ = handshake_->lz4() ? cql::compression::lz4 : cql::compression::none;
            segments_ = handshake_->segments();
            handshake_.reset();
            enter_ready();
            return;
        case client_handshake::step::retry_lower: {
            ++version_index_;
            stream_.close();  // a new socket: the server may close this one after refusing
            state_ = state::connecting;
            auto self = shared_from_this();
            asio::co_spawn(
                strand_, [self]() -> asio::awaitable<void> { co_await self->open_and_handshake(); },
                asio::detached);
            return;
        }
        case client_handshake::step::failed:
            diag_ = handshake_->diag();
            finish_connect(handshake_->error());
            return;
    }
}

void connection::write_handshake_frame() {
    // The handshake's frames are written as they come (one at a time): the first ones as
    // plain frames, those after READY or AUTHENTICATE in v5 as segments.
    if (handshake_ && handshake_->segments() && !segments_) segments_ = true;
    ++pending_frames_;
    flush();
}

void connection::finish_connect(std::error_code ec) {
    if (!connect_handler_) return;
    connect_timer_.cancel();
    if (ec) {
        if (connect_timed_out_ || ec == errc::connect_timed_out) {
            ec = errc::connect_timed_out;
            diag_.message = connect_phase_ + " did not finish within " + ms(cfg_.connect_timeout);
        }
        if (diag_.message.empty()) diag_.message = ec.message();
        state_ = state::defunct;
        defunct_reason_ = ec;
        stream_.close();
        handshake_.reset();
    }
    auto h = std::move(connect_handler_);
    connect_handler_ = nullptr;
    h(ec);
}

void connection::enter_ready() {
    state_ = state::ready;
    last_read_ = last_frame_ = clock::now();
    arm_watchdog();
    finish_connect({});
    flush();  // frames sent after READY but before it was seen (none today; cheap)
}

// ---- requests ------------------------------------------------------------------------

std::error_code connection::send(stream_callback* cb, p::bytes_view frame, std::int16_t& id) {
    const auto st = state_.load();
    if (st != state::ready)
        return st == state::defunct  ? std::error_code(errc::connection_defunct)
               : st == state::closed ? std::error_code(errc::connection_closed)
                                     : std::error_code(errc::not_connected);
    if (frame.size() < p::frame_header_size) return p::codec_errc::truncated;
    if (frame.size() - p::frame_header_size > cfg_.max_body_size) return errc::request_too_large;
    id = streams_.take(cb);
    if (id < 0) return errc::no_stream_available;
    in_use_.store(streams_.in_use(), std::memory_order_relaxed);
    enqueue_frame(frame, id);
    schedule_flush();
    return {};
}

void connection::abandon(std::int16_t id) noexcept {
    streams_.orphan(id);
    if (streams_.orphans() >= cfg_.max_orphans && state_.load() == state::ready)
        fail(errc::connection_stalled, std::to_string(streams_.orphans()) +
                                           " requests got no answer (limit " +
                                           std::to_string(cfg_.max_orphans) + ")");
}

// A request of async_request: alive while its stream id points at it (keep) or its timer
// may fire.
struct connection::pending_request final : stream_callback {
    std::shared_ptr<pending_request> keep;
    request_handler handler;
    std::int16_t id = -1;
    std::optional<asio::steady_timer> timer;
    bool done = false;

    void finish(std::error_code ec, response r) {
        if (done) return;
        done = true;
        if (timer) timer->cancel();
        auto h = std::move(handler);
        handler = nullptr;
        h(ec, std::move(r));
    }
    void on_answer(std::error_code ec, response&& r) override {
        finish(ec, std::move(r));
        keep.reset();  // (may destroy this)
    }
};

void connection::start_request(p::byte_buffer frame, std::error_code ec,
                               asio::cancellation_slot slot, request_handler h) {
    if (ec) {
        h(ec, response{});
        return;
    }
    asio::dispatch(strand_, [self = shared_from_this(), frame = std::move(frame), slot,
                             h = std::move(h)]() mutable {
        auto req = std::make_shared<pending_request>();
        req->handler = std::move(h);
        std::int16_t id = -1;
        if (auto sec = self->send(req.get(), frame, id)) {
            req->finish(sec, response{});
            return;
        }
        req->id = id;
        req->keep = req;
        // Gives up on the request: it completes with `why`; the id waits for the late
        // answer, which is then dropped.
        auto give_up = [req, w = self->weak_from_this()](std::error_code why) {
            if (req->done) return;
            req->finish(why, response{});
            if (auto c = w.lock()) c->streams_.orphan(req->id);
            req->keep.reset();
        };
        if (slot.is_connected()) {
            // Posted, never run inline: the handler must not clear its own slot while running.
            slot.assign([give_up, strand = self->strand_](asio::cancellation_type) {
                asio::post(strand, [give_up]() mutable {
                    give_up(boost::system::error_code(asio::error::operation_aborted));
                });
            });
        }
        if (self->cfg_.request_timeout.count() > 0) {
            req->timer.emplace(self->strand_, self->cfg_.request_timeout);
            req->timer->async_wait([give_up](std::error_code tec) mutable {
                if (!tec) give_up(errc::timed_out);
            });
        }
    });
}

// ---- writing -----------------------------------------------------------------------

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
    const auto st = state_.load();
    if (write_in_flight_ || pending_.empty() || (st != state::ready && st != state::handshaking))
        return;
    writing_.clear();
    if (segments_) {
        if (auto ec = p::encode_segments(pending_, to_algorithm(compression_), writing_)) {
            fail(ec, "cannot encode segments");
            return;
        }
        pending_.clear();
    } else {
        std::swap(pending_, writing_);
    }
    frames_sent_.fetch_add(pending_frames_, std::memory_order_relaxed);
    pending_frames_ = 0;
    write_calls_.fetch_add(1, std::memory_order_relaxed);
    write_in_flight_ = true;
    asio::async_write(
        stream_, asio::buffer(writing_),
        [self = shared_from_this(), gen = socket_gen_](std::error_code ec, std::size_t) {
            if (gen == self->socket_gen_) self->on_write(ec);
        });
}

// Requests sent by the handlers that run now (e.g. the next requests of the completions of one
// read) leave in one write: the write starts from a posted handler, after them. Writing at
// once would send the first alone (the loopback send costs as much kernel time as a batch).
void connection::schedule_flush() {
    if (write_in_flight_ || flush_scheduled_) return;  // on_write / the posted flush sends it
    flush_scheduled_ = true;
    asio::post(strand_,
               asio::bind_allocator(recycled_allocator<void>(), [self = shared_from_this()] {
                   self->flush_scheduled_ = false;
                   self->flush();
               }));
}

void connection::on_write(std::error_code ec) {
    write_in_flight_ = false;
    if (ec) {
        if (state_.load() == state::handshaking)
            finish_connect(connect_timed_out_ ? std::error_code(errc::connect_timed_out)
                                              : std::error_code(errc::connection_closed));
        else
            fail(errc::connection_closed, "write failed: " + ec.message());
        return;
    }
    flush();
}

// ---- reading -----------------------------------------------------------------------

void connection::prepare_read() {
    if (rbegin_ == rend_) {
        rbegin_ = rend_ = 0;
    } else if (rbegin_ > 0) {
        std::memmove(rbuf_.data(), rbuf_.data() + rbegin_, rend_ - rbegin_);
        rend_ -= rbegin_;
        rbegin_ = 0;
    }
    // Room for what the unit at the front still needs, but growing at most by doubling: a
    // header announcing a huge body costs only the bytes that really arrive.
    const std::size_t needed = decoder_ ? decoder_->needed() : 0;
    std::size_t want = std::max(needed, rend_ + min_read_space);
    want = std::min(want, std::max(rbuf_.size() * 2, rend_ + min_read_space));
    if (rbuf_.size() < want) rbuf_.resize(want);
}

void connection::start_read() {
    prepare_read();
    stream_.async_read_some(
        asio::buffer(rbuf_.data() + rend_, rbuf_.size() - rend_),
        [self = shared_from_this(), gen = socket_gen_](std::error_code ec, std::size_t n) {
            if (gen == self->socket_gen_) self->on_read(ec, n);
        });
}

void connection::on_read(std::error_code ec, std::size_t n) {
    const auto st = state_.load();
    if (st != state::ready && st != state::handshaking) return;
    if (ec) {
        if (st == state::handshaking) {
            if (!connect_timed_out_)
                diag_.message =
                    connect_phase_ + ": the server closed the connection (" + ec.message() + ")";
            finish_connect(connect_timed_out_ ? std::error_code(errc::connect_timed_out)
                                              : std::error_code(errc::connection_closed));
        } else {
            fail(ec == operation_aborted() ? operation_aborted()
                                           : std::error_code(errc::connection_closed),
                 "read failed: " + ec.message());
        }
        return;
    }
    if (!first_bytes_seen_) {
        first_bytes_seen_ = true;
        auto b = p::bytes_view(rbuf_).subspan(rend_, std::min(n, kept_first_bytes));
        first_bytes_.assign(b.begin(), b.end());
    }
    rend_ += n;
    last_read_ = clock::now();
    const auto gen = socket_gen_;
    auto pec = process_input();
    if (gen != socket_gen_) return;  // the handshake moved to a new socket meanwhile
    if (pec) {
        if (state_.load() == state::handshaking) {
            describe_peer();
            finish_connect(pec);
        } else if (state_.load() == state::ready) {
            fail(pec, "malformed input: " + pec.message());
        }
        return;
    }
    const auto now_state = state_.load();
    if (now_state == state::ready || now_state == state::handshaking) start_read();
}

void connection::describe_peer() {
    // The handshake's answer did not decode: name the peer and what it sent (an HTTP server
    // on the port answers with text) rather than a detail of the decoder.
    const auto where = cfg_.host + ":" + std::to_string(cfg_.port);
    auto text = printable_start(first_bytes_);
    if (text.size() >= 4) {
        diag_.message =
            "protocol error: " + where + " is not a CQL server (it answered \"" + text + "\")";
        return;
    }
    static const char* digits = "0123456789abcdef";
    std::string hex;
    for (std::size_t i = 0; i < first_bytes_.size() && i < 8; ++i) {
        if (!hex.empty()) hex += ' ';
        hex += digits[first_bytes_[i] >> 4];
        hex += digits[first_bytes_[i] & 15];
    }
    diag_.message = "protocol error: the answer of " + where + " to the " + connect_phase_ +
                    " is not a CQL frame (it starts with " + hex + ")";
    if (!first_bytes_.empty() && (first_bytes_[0] & 0x80) && (first_bytes_[0] & 0x7F) < 3)
        diag_.message = "protocol error: " + where + " speaks CQL protocol v" +
                        std::to_string(first_bytes_[0] & 0x7F) +
                        ", older than this driver supports (v3 and up)";
}

std::error_code connection::process_input() {
    std::error_code ec;
    const auto gen = socket_gen_;
    const auto used = decoder_->decode(
        readable(),
        [this, gen](const p::stream_frame& f) {
            // (a retry on a new socket stops the decoding of the old one's bytes)
            return gen == socket_gen_ ? handle_frame(f) : std::error_code(errc::connection_closed);
        },
        ec);
    if (gen != socket_gen_) return {};
    rbegin_ += used;
    if (used > 0) last_frame_ = last_read_;
    return ec;
}

std::error_code connection::to_response(const p::frame_view& f, response& out) {
    // The decoder decompressed v4 bodies already; the header keeps the wire's flags.
    auto h = f.header;
    h.flags = static_cast<std::uint8_t>(h.flags & ~p::frame_flags::compression);
    p::byte_buffer body = take_body_buffer();
    body.assign(f.body.begin(), f.body.end());
    return out.assign(h, std::move(body));
}

std::error_code connection::handle_frame(const p::stream_frame& sf) {
    const auto& f = sf.frame;
    if (state_.load() == state::handshaking) {
        const auto before = pending_.size();
        auto s = handshake_->on_frame(f, pending_);
        if (s == client_handshake::step::write && pending_.size() == before)
            s = client_handshake::step::wait;
        on_handshake_step(s);
        return {};
    }
    if (state_.load() != state::ready) return {};  // failed while decoding this batch
    response r;
    auto ec = to_response(f, r);
    if (ec && ec.category() != server_category()) return ec;  // malformed: defunct
    if (f.header.stream < 0) {
        if (f.header.op == p::opcode::event && cfg_.on_event) cfg_.on_event(std::move(r));
        return {};
    }
    auto* cb = streams_.answer(f.header.stream);
    in_use_.store(streams_.in_use(), std::memory_order_relaxed);
    if (cb) cb->on_answer(ec, std::move(r));
    return {};
}

// ---- liveness ----------------------------------------------------------------------

std::chrono::milliseconds connection::stall_limit() const noexcept {
    return 2 * cfg_.request_timeout;
}

void connection::arm_watchdog() {
    if (state_.load() != state::ready) return;
    auto at = clock::time_point::max();
    if (cfg_.heartbeat_interval.count() > 0) {
        at = heartbeat_sent_ ? *heartbeat_sent_ + cfg_.request_timeout
                             : last_read_ + cfg_.heartbeat_interval;
    }
    if (cfg_.request_timeout.count() > 0 && streams_.in_use() > 0)
        at = std::min(at, last_frame_ + stall_limit());
    // Requests may start waiting at any time: look at least once per request timeout.
    if (cfg_.request_timeout.count() > 0) at = std::min(at, clock::now() + cfg_.request_timeout);
    if (at == clock::time_point::max()) return;
    if (at == watchdog_at_) return;
    watchdog_at_ = at;
    watchdog_.expires_at(at);
    watchdog_.async_wait([w = weak_from_this()](std::error_code ec) {
        if (auto self = w.lock()) self->on_watchdog(ec);
    });
}

void connection::on_watchdog(std::error_code ec) {
    if (ec == operation_aborted() || state_.load() != state::ready) return;
    watchdog_at_ = clock::time_point::max();
    const auto now = clock::now();
    if (heartbeat_sent_ && now - *heartbeat_sent_ >= cfg_.request_timeout &&
        cfg_.request_timeout.count() > 0) {
        fail(errc::heartbeat_failed,
             "no answer to the heartbeat within " + ms(cfg_.request_timeout));
        return;
    }
    // Bytes arrive but no frame completes while requests await answers: the stream is
    // wedged (e.g. a header announced more bytes than the server sends). (Twice the request
    // timeout: the requests time out first, with their own error.)
    if (cfg_.request_timeout.count() > 0 && streams_.in_use() > 0 && rend_ > rbegin_ &&
        now - last_frame_ >= stall_limit()) {
        fail(errc::connection_stalled, "no complete frame for " + ms(stall_limit()) + " while " +
                                           std::to_string(streams_.in_use()) +
                                           " requests awaited answers");
        return;
    }
    if (cfg_.heartbeat_interval.count() > 0 && !heartbeat_sent_ &&
        now - last_read_ >= cfg_.heartbeat_interval) {
        p::byte_buffer frame;
        p::encode_request_frame(frame, version(), 0, p::options_request{});
        std::int16_t id = -1;
        if (auto sec = send(&heartbeat_cb_, frame, id)) {
            fail(errc::heartbeat_failed, "cannot send the heartbeat: " + sec.message());
            return;
        }
        heartbeat_sent_ = now;
    }
    arm_watchdog();
}

void connection::heartbeat_callback::on_answer(std::error_code ec, response&&) {
    if (is_connection_error(ec)) return;  // the connection failed anyway
    owner->heartbeat_sent_.reset();
    owner->arm_watchdog();
}

// ---- closing -----------------------------------------------------------------------

void connection::close() {
    // Posted, never inline: a caller iterating over connections must not see requests
    // complete (and pools change) inside this call.
    asio::post(strand_, [self = shared_from_this()] { self->shutdown(errc::connection_closed); });
}

void connection::shutdown(std::error_code why) {
    const auto st = state_.load();
    if (st == state::connecting || st == state::handshaking) {
        diag_.message = "closed while connecting";
        connect_timed_out_ = false;
        if (resolver_) resolver_->cancel();
        stream_.close();
        finish_connect(errc::connection_closed);
    }
    if (st == state::idle) state_ = state::closed;
    if (st == state::ready) fail(why, "closed");
    state_ = state::closed;
}

void connection::fail(std::error_code ec, std::string why) {
    const auto st = state_.load();
    if (st == state::defunct || st == state::closed) return;
    // The callbacks below may drop the last other reference (a pool forgetting it).
    auto keep = shared_from_this();
    state_ = state::defunct;
    defunct_reason_ = ec;
    if (!why.empty()) diag_.message = std::move(why);
    stream_.close();
    watchdog_.cancel();
    connect_timer_.cancel();
    pending_.clear();
    pending_frames_ = 0;
    heartbeat_sent_.reset();
    streams_.drain([&](stream_callback* cb) { cb->on_answer(ec, response{}); });
    in_use_.store(0, std::memory_order_relaxed);
    if (st == state::ready && cfg_.on_down)
        cfg_.on_down(static_cast<const pool_connection*>(this), ec);
}

}  // namespace cql::detail
