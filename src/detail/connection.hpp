#pragma once
// One connection to one host: a TCP (or TLS) socket, the handshake (client_handshake:
// OPTIONS, STARTUP, authentication, protocol version negotiation), then up to max_streams
// requests multiplexed by stream id.
//
// All its state lives on one executor (a strand; the shard's, for the connections of the
// driver's pools) and the engine calls send()/abandon() there. Incoming bytes go through one
// decoding loop, the protocol layer's stream_decoder, during the handshake and after it.
// Answers call the request's stream_callback on that executor, where the request continues.
//
// Stream ids are reused least recently freed first, so a late duplicate answer finds a free
// id (and is dropped) rather than the next request. A request that gives up (timeout,
// cancellation, a speculative execution that lost) abandons its id: the id stays reserved
// until its late answer arrives. Too many such orphans, a frame that never completes while
// requests wait, a heartbeat without answer, a malformed frame or a socket error make the
// connection defunct: every request in flight gets the error at once and on_down is called.
//
// async_connect and async_request are Asio operations (any completion token) for tests and
// tools; the engine uses send().

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/append.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "cql/config.hpp"
#include "cql/error.hpp"
#include "cql/protocol/requests.hpp"
#include "cql/protocol/stream_decoder.hpp"
#include "cql/response.hpp"
#include "detail/connection_config.hpp"
#include "detail/handshake.hpp"
#include "detail/pool_connection.hpp"
#include "detail/stream_table.hpp"
#include "detail/unique_function.hpp"

namespace cql::detail {

namespace asio = boost::asio;

// The io_context an executor runs on (any io_context executor, or a strand of one); for
// executors of other contexts (system_executor, thread pools) a driver-wide io_context run
// by one internal thread. Connections keep their state on strands of these concrete
// executors: strand<any_io_executor> would query and re-wrap its type-erased inner executor
// (a heap allocation each) on every dispatch.
using io_executor = asio::io_context::executor_type;
io_executor io_executor_of(const asio::any_io_executor& ex);
using strand_executor = asio::strand<io_executor>;

// The socket: plain TCP or TLS over TCP.
class socket_stream {
  public:
    using executor_type = asio::any_io_executor;
    explicit socket_stream(const strand_executor& ex) : tcp_(ex) {}

    executor_type get_executor() noexcept { return tcp_.get_executor(); }
    asio::ip::tcp::socket& tcp() noexcept { return tcp_; }
    asio::ssl::stream<asio::ip::tcp::socket&>* tls() noexcept { return tls_ ? &*tls_ : nullptr; }
    void enable_tls(asio::ssl::context& ctx) { tls_.emplace(tcp_, ctx); }
    // Closes the socket; pending operations complete with operation_aborted.
    void close() noexcept {
        boost::system::error_code ignored;
        tcp_.close(ignored);
    }
    // Closes and forgets the TLS state: only when no operation is pending.
    void reset() noexcept {
        close();
        tls_.reset();
    }

    template <class Buffers, class Token>
    auto async_read_some(const Buffers& b, Token&& token) {
        if (tls_) return tls_->async_read_some(b, std::forward<Token>(token));
        return tcp_.async_read_some(b, std::forward<Token>(token));
    }
    template <class Buffers, class Token>
    auto async_write_some(const Buffers& b, Token&& token) {
        if (tls_) return tls_->async_write_some(b, std::forward<Token>(token));
        return tcp_.async_write_some(b, std::forward<Token>(token));
    }

  private:
    asio::ip::tcp::socket tcp_;
    std::optional<asio::ssl::stream<asio::ip::tcp::socket&>> tls_;
};

// "<what the error code says> (<what the connection saw>)": a connection failure for logs
// and diagnostics. Decoding failures are named a protocol error, whatever detail of the
// decoder they tripped on.
std::string describe_failure(std::error_code ec, const diagnostics& d);

class connection final : public pool_connection, public std::enable_shared_from_this<connection> {
    struct private_tag {};

  public:
    using executor_type = strand_executor;

    // On a strand of its own over ex's io_context.
    static std::shared_ptr<connection> create(const asio::any_io_executor& ex,
                                              connection_config cfg);
    // On this strand (a shard's: the engine calls send() there).
    static std::shared_ptr<connection> create_on(const executor_type& strand,
                                                 connection_config cfg);
    connection(private_tag, const executor_type& strand, connection_config cfg);
    ~connection() override;
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    executor_type get_executor() const noexcept { return strand_; }
    const connection_config& config() const noexcept { return cfg_; }

    // Resolves, connects, negotiates. Once per connection. Completes with
    // void(cql::error_code) on the handler's executor (default: the connection's).
    template <class Token>
    auto async_connect(Token&& token) {
        return asio::async_initiate<Token, void(error_code)>(
            [self = shared_from_this()](auto handler) {
                auto work = asio::prefer(asio::get_associated_executor(handler, self->strand_),
                                         asio::execution::outstanding_work.tracked);
                self->start_connect(
                    [h = std::move(handler), w = std::move(work)](std::error_code ec) mutable {
                        auto ex = std::move(w);
                        asio::post(ex, asio::append(std::move(h), error_code(ec)));
                    });
            },
            token);
    }

    // Encodes the message now and sends it on a free stream id; the answer (or the error)
    // completes void(cql::error_code, cql::response), a server ERROR with its server error
    // code and the response (whose diag() has the details). Times out after
    // config().request_timeout (errc::timed_out); per-operation cancellation completes it
    // with operation_aborted. Either way the id stays reserved for the late answer.
    template <class Token>
    auto async_request(const protocol::request& message, Token&& token) {
        protocol::byte_buffer frame;
        auto ec = protocol::encode_request_frame(frame, version(), 0, message);
        return launch_request(std::move(frame), ec, std::forward<Token>(token));
    }
    // As async_request, for a whole request frame encoded already (its version byte and
    // stream id are set here).
    template <class Token>
    auto async_send_frame(protocol::byte_buffer frame, Token&& token) {
        return launch_request(std::move(frame), {}, std::forward<Token>(token));
    }

    // ---- the engine's interface: on get_executor() only ----

    // Copies the frame (a whole uncompressed request frame; its version byte and stream id
    // are set here) into the write buffer and sends it on a free stream id (in `id`). On
    // success cb->on_answer is called exactly once, later, on this executor (unless the id
    // is abandoned first). Errors, with nothing sent: errc::not_connected,
    // errc::connection_defunct, errc::connection_closed, errc::no_stream_available,
    // errc::request_too_large.
    std::error_code send(stream_callback* cb, protocol::bytes_view frame,
                         std::int16_t& id) override;
    // The request of stream `id` gave up: its answer will be dropped; the id is reused once
    // it arrives. Too many orphans (max_orphans) close the connection.
    void abandon(std::int16_t id) noexcept override;
    // Fails every request in flight with `why` and closes the socket (on the executor).
    void shutdown(std::error_code why) override;
    // When bytes last arrived (on the executor): an answer's time without another clock read.
    std::chrono::steady_clock::time_point last_read() const noexcept override { return last_read_; }
    // As async_connect, with a plain callback (on the connection's executor).
    void open(unique_function<void(std::error_code)> done) override {
        start_connect(std::move(done));
    }

    // Closes the socket (any thread); requests in flight complete with
    // errc::connection_closed.
    void close();

    // Observers (any thread: atomics, or set before the connect completes).
    protocol::protocol_version version() const noexcept override { return version_.load(); }
    cql::compression compression() const noexcept { return compression_; }
    bool is_ready() const noexcept override { return state_.load() == state::ready; }
    bool is_defunct() const noexcept { return state_.load() == state::defunct; }
    // The error that made the connection defunct.
    std::error_code defunct_reason() const noexcept { return defunct_reason_; }
    // Details of a failed connect or of what made the connection defunct.
    const diagnostics& connect_diagnostics() const noexcept override { return diag_; }
    // SUPPORTED options of the server (owned copies).
    const client_handshake::supported_options& supported() const noexcept { return supported_; }
    // Stream ids in use, including orphans awaiting a late answer.
    std::size_t streams_in_use() const noexcept { return in_use_.load(); }
    std::size_t orphans() const noexcept { return streams_.orphans(); }
    // Statistics: frames sent and write calls (write coalescing puts many frames in one).
    std::uint64_t frames_sent() const noexcept { return frames_sent_.load(); }
    std::uint64_t write_calls() const noexcept { return write_calls_.load(); }

  private:
    template <class Token>
    auto launch_request(protocol::byte_buffer frame, std::error_code ec, Token&& token) {
        return asio::async_initiate<Token, void(error_code, response)>(
            [self = shared_from_this()](auto handler, protocol::byte_buffer f, std::error_code e) {
                auto slot = asio::get_associated_cancellation_slot(handler);
                auto work = asio::prefer(asio::get_associated_executor(handler, self->strand_),
                                         asio::execution::outstanding_work.tracked);
                self->start_request(
                    std::move(f), e, slot,
                    [h = std::move(handler), w = std::move(work)](std::error_code rec,
                                                                  response r) mutable {
                        auto ex = std::move(w);
                        asio::post(ex, asio::append(std::move(h), error_code(rec), std::move(r)));
                    });
            },
            token, std::move(frame), ec);
    }

    enum class state : std::uint8_t { idle, connecting, handshaking, ready, defunct, closed };
    using connect_handler = unique_function<void(std::error_code)>;
    using request_handler = unique_function<void(std::error_code, response)>;
    struct pending_request;

    void start_connect(connect_handler h);
    asio::awaitable<std::error_code> open_socket(
        const asio::ip::tcp::resolver::results_type& endpoints);
    asio::awaitable<void> run_connect(std::shared_ptr<connection> self);
    asio::awaitable<void> open_and_handshake();
    void finish_connect(std::error_code ec);
    std::error_code setup_tls();
    void begin_handshake();
    void on_handshake_step(client_handshake::step s);
    void describe_peer();

    void start_request(protocol::byte_buffer frame, std::error_code ec,
                       asio::cancellation_slot slot, request_handler h);

    void enqueue_frame(protocol::bytes_view frame, std::int16_t id);
    void write_handshake_frame();
    void flush();
    void schedule_flush();
    void on_write(std::error_code ec);
    void start_read();
    void on_read(std::error_code ec, std::size_t n);
    std::error_code process_input();
    std::error_code handle_frame(const protocol::stream_frame& f);
    std::error_code to_response(const protocol::frame_view& f, response& out);
    void prepare_read();
    protocol::bytes_view readable() const noexcept {
        return protocol::bytes_view(rbuf_).subspan(rbegin_, rend_ - rbegin_);
    }

    void enter_ready();
    void arm_watchdog();
    // How long a partial frame may stay incomplete while requests await answers.
    std::chrono::milliseconds stall_limit() const noexcept;
    void on_watchdog(std::error_code ec);
    void fail(std::error_code ec, std::string why = {});

    connection_config cfg_;
    executor_type strand_;
    socket_stream stream_;
    std::unique_ptr<asio::ssl::context> tls_ctx_;
    std::optional<asio::ip::tcp::resolver> resolver_;
    asio::ip::tcp::resolver::results_type endpoints_;
    // Bumped for each new socket: completions of an old socket's operations are ignored.
    std::uint32_t socket_gen_ = 0;
    asio::steady_timer connect_timer_;
    // Heartbeat, heartbeat answer and stalled-input checks: one timer, armed at the earliest.
    asio::steady_timer watchdog_;
    connect_handler connect_handler_;
    bool connect_timed_out_ = false;
    std::string connect_phase_ = "resolving";

    std::atomic<state> state_{state::idle};
    std::atomic<protocol::protocol_version> version_{protocol::protocol_version::v5};
    cql::compression compression_ = cql::compression::none;
    bool segments_ = false;  // v5 after READY / AUTHENTICATE
    std::error_code defunct_reason_;
    diagnostics diag_;
    client_handshake::supported_options supported_;
    std::optional<client_handshake> handshake_;
    std::vector<protocol::protocol_version> versions_;  // still to try
    std::size_t version_index_ = 0;

    stream_table streams_;
    std::atomic<std::size_t> in_use_{0};

    // Writing: frames wait in pending_ while a write is in flight, then go in one write.
    protocol::byte_buffer pending_;
    protocol::byte_buffer writing_;
    std::size_t pending_frames_ = 0;
    bool write_in_flight_ = false;
    bool flush_scheduled_ = false;
    std::atomic<std::uint64_t> frames_sent_{0};
    std::atomic<std::uint64_t> write_calls_{0};

    // Reading: one buffer, [rbegin_, rend_) not yet decoded; one decoder for the handshake
    // and after it.
    protocol::byte_buffer rbuf_;
    std::size_t rbegin_ = 0;
    std::size_t rend_ = 0;
    std::optional<protocol::stream_decoder> decoder_;
    bool first_bytes_seen_ = false;
    protocol::byte_buffer first_bytes_;  // the start of the peer's answer, to name a non-CQL peer

    // Liveness.
    using clock = std::chrono::steady_clock;
    clock::time_point last_read_{};
    clock::time_point last_frame_{};
    std::optional<clock::time_point> heartbeat_sent_;
    clock::time_point watchdog_at_ = clock::time_point::max();
    struct heartbeat_callback final : stream_callback {
        connection* owner = nullptr;
        void on_answer(std::error_code ec, response&& r) override;
    } heartbeat_cb_;
};

}  // namespace cql::detail
