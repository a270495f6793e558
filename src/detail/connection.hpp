#pragma once
// One connection to one host: a TCP (or TLS) socket, the handshake (OPTIONS, STARTUP,
// authentication, protocol version negotiation, v5 segments after READY), then up to
// max_streams requests multiplexed by stream id.
//
//   auto conn = cql::detail::connection::create(io.get_executor(), cfg);
//   co_await conn->async_connect(asio::use_awaitable);
//   cql::response r = co_await conn->async_request(protocol::query_request{...},
//                                                   asio::use_awaitable);
//
// Every operation is an Asio asynchronous operation: any completion token works.
// Signatures: async_connect void(cql::error_code); async_request
// void(cql::error_code, cql::response) (cql::error_code is boost::system::error_code, which
// Asio's tokens understand; it holds the std::error_code values of cql::errc etc.). A server ERROR
// completes a request with the server error code (cql.server category) and the response, whose
// diag() holds the details. Completion handlers run on their associated executor (the connection's
// strand if none), never inside the initiating function.
//
// All state lives on a strand over the given executor, so the public functions may be
// called from any thread. Per-operation cancellation (asio::bind_cancellation_slot,
// awaitable operators) completes the request with asio::error::operation_aborted; its
// stream id is kept until the late response arrives, exactly like a timed-out request.
// Emit cancellation signals from the thread that runs the connection's executor.
//
// A socket error, a malformed frame or segment (CRC mismatch, ...) makes the connection
// defunct: every request in flight completes at once with that error (socket errors
// mapped to cql::errc::connection_closed), later requests with
// cql::errc::connection_defunct.

#include <atomic>
#include <chrono>
#include <cstdint>
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
#include <boost/asio/dispatch.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/recycling_allocator.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "cql/config.hpp"
#include "cql/error.hpp"
#include "cql/protocol/compression.hpp"
#include "cql/protocol/requests.hpp"
#include "cql/protocol/segment.hpp"
#include "cql/response.hpp"

namespace cql::detail {

namespace asio = boost::asio;

// The io_context an executor runs on (any io_context executor, or a strand of one); for
// executors of other contexts (system_executor, thread pools) a driver-wide io_context run
// by one internal thread. Connections and the cluster keep their state on strands of these
// concrete executors: strand<any_io_executor> would query and re-wrap its type-erased inner
// executor (a heap allocation each) on every dispatch.
using io_executor = asio::io_context::executor_type;
io_executor io_executor_of(const asio::any_io_executor& ex);

// A pending completion handler, type-erased.
template <class... Args>
class completion {
  public:
    virtual ~completion() = default;
    // Posts the handler with these arguments (to its associated executor). Once.
    virtual void complete(Args... args) = 0;
    virtual asio::cancellation_slot cancellation_slot() const noexcept = 0;

    // Allocated through Asio's per-thread recycling cache (see op_completion).
    static void* operator new(std::size_t n) {
        return asio::recycling_allocator<unsigned char>().allocate(n);
    }
    static void operator delete(void* p, std::size_t n) noexcept {
        asio::recycling_allocator<unsigned char>().deallocate(static_cast<unsigned char*>(p), n);
    }
};

template <class Handler, class Executor, class... Args>
class completion_impl final : public completion<Args...> {
  public:
    completion_impl(Handler&& h, const Executor& ex)
        : handler_(std::move(h)),
          work_(asio::prefer(asio::get_associated_executor(handler_, ex),
                             asio::execution::outstanding_work.tracked)) {}

    void complete(Args... args) override {
        auto cs = asio::get_associated_cancellation_slot(handler_);
        if (cs.is_connected()) cs.clear();
        auto ex = std::move(work_);
        asio::post(ex, asio::append(std::move(handler_), std::move(args)...));
    }
    asio::cancellation_slot cancellation_slot() const noexcept override {
        return asio::get_associated_cancellation_slot(handler_);
    }

  private:
    using work_executor = std::decay_t<decltype(asio::prefer(
        std::declval<asio::associated_executor_t<Handler, Executor>>(),
        asio::execution::outstanding_work.tracked))>;
    Handler handler_;
    work_executor work_;
};

using request_completion = completion<error_code, response>;
using connect_completion = completion<error_code>;

template <class... Args, class Handler, class Executor>
std::unique_ptr<completion<Args...>> make_completion(Handler&& h, const Executor& ex) {
    return std::make_unique<completion_impl<std::decay_t<Handler>, Executor, Args...>>(
        std::forward<Handler>(h), ex);
}

// The socket: plain TCP or TLS over TCP.
class socket_stream {
  public:
    using executor_type = asio::any_io_executor;
    explicit socket_stream(const asio::strand<io_executor>& ex) : tcp_(ex) {}

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

// The fast path's completion (see connection::send_direct): an intrusive callback, no
// allocation; called on the connection's strand, possibly inside send_direct itself.
class stream_callback {
  public:
    virtual void on_response(std::error_code ec, response&& r) = 0;

  protected:
    ~stream_callback() = default;
};

class connection : public std::enable_shared_from_this<connection> {
    struct private_tag {};

  public:
    using executor_type = asio::strand<io_executor>;

    static std::shared_ptr<connection> create(const asio::any_io_executor& ex,
                                              connection_config cfg);
    // On this strand (e.g. the cluster's, so the request fast path needs no strand hop).
    static std::shared_ptr<connection> create_on(const executor_type& strand,
                                                 connection_config cfg);
    connection(private_tag, const asio::any_io_executor& ex, connection_config cfg);
    connection(private_tag, const executor_type& strand, connection_config cfg);
    ~connection();
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    executor_type get_executor() const noexcept { return strand_; }
    const connection_config& config() const noexcept { return cfg_; }

    // Resolves, connects, negotiates. Once per connection.
    template <class Token>
    auto async_connect(Token&& token) {
        return asio::async_initiate<Token, void(error_code)>(
            [self = shared_from_this()](auto handler) {
                self->start_connect(make_completion<error_code>(std::move(handler), self->strand_));
            },
            token);
    }

    // Encodes the message now (its views need not outlive this call) and sends it on a
    // free stream id. Before the handshake is done the request fails with not_connected.
    template <class Token>
    auto async_request(const protocol::request& message, Token&& token) {
        protocol::byte_buffer frame;
        auto ec = protocol::encode_request_frame(frame, version(), 0, message);
        return async_send_frame(std::move(frame), std::forward<Token>(token), ec);
    }

    // Sends one whole, uncompressed request frame (as encode_request_frame writes it);
    // its stream id is set by the connection.
    template <class Token>
    auto async_send_frame(protocol::byte_buffer frame, Token&& token, std::error_code ec = {}) {
        return asio::async_initiate<Token, void(error_code, response)>(
            [self = shared_from_this()](auto handler, protocol::byte_buffer f, std::error_code e) {
                self->start_request(
                    make_completion<error_code, response>(std::move(handler), self->strand_),
                    std::move(f), e);
            },
            token, std::move(frame), ec);
    }

    // As async_send_frame, without copying the frame first: the bytes must stay valid and
    // unchanged until the operation completes (the connection copies them into its write
    // buffer on its strand).
    template <class Token>
    auto async_send_frame_view(protocol::bytes_view frame, Token&& token) {
        return asio::async_initiate<Token, void(error_code, response)>(
            [self = shared_from_this()](auto handler, protocol::bytes_view f) {
                self->start_request_view(
                    make_completion<error_code, response>(std::move(handler), self->strand_), f);
            },
            token, frame);
    }

    // The fast path: only on the connection's strand. Sends the frame (a view: valid until
    // completion) on a free stream id and stores `cb` in the stream slot; the request times
    // out at `deadline` or the connection's request timeout, whichever comes first (the id
    // stays reserved until the late answer). Returns an error, without sending anything and
    // without calling cb, when the request cannot be sent now (not ready, no stream id, too
    // large); otherwise cb->on_response is called exactly once (the response, a server
    // error, errc::timed_out, a connection error), maybe before send_direct returns.
    std::error_code send_direct(stream_callback* cb, protocol::bytes_view frame,
                                std::chrono::steady_clock::time_point deadline);

    // Closes the socket; requests in flight complete with errc::connection_closed.
    void close();

    // Observers; valid once async_connect completed (they are atomics or set before).
    protocol::protocol_version version() const noexcept { return version_.load(); }
    cql::compression compression() const noexcept { return compression_; }
    bool is_ready() const noexcept { return state_.load() == state::ready; }
    bool is_defunct() const noexcept { return state_.load() == state::defunct; }
    // The error that made the connection defunct.
    std::error_code defunct_reason() const noexcept { return defunct_reason_; }
    // Details of a failed handshake (server message, or what the client saw).
    const diagnostics& connect_diagnostics() const noexcept { return connect_diag_; }
    // SUPPORTED options of the server (owned copies).
    const std::vector<std::pair<std::string, std::vector<std::string>>>& supported()
        const noexcept {
        return supported_;
    }
    // Stream ids in use, including those of timed-out requests awaiting a late answer.
    std::size_t streams_in_use() const noexcept { return in_use_.load(); }
    // Statistics: frames sent and write calls (write coalescing puts many frames in one).
    std::uint64_t frames_sent() const noexcept { return frames_sent_.load(); }
    std::uint64_t write_calls() const noexcept { return write_calls_.load(); }

  private:
    enum class state : std::uint8_t { idle, connecting, ready, defunct, closed };
    enum class slot_state : std::uint8_t { free, active, orphaned };
    struct slot {
        std::unique_ptr<request_completion> op;
        stream_callback* cb = nullptr;  // the fast path's completion (instead of op)
        slot_state st = slot_state::free;
        std::uint32_t generation = 0;
        // When the request times out (max: never). One timer per connection scans them.
        std::chrono::steady_clock::time_point deadline =
            std::chrono::steady_clock::time_point::max();
    };
    asio::awaitable<std::error_code> do_connect();
    asio::awaitable<std::error_code> connect_socket(
        const asio::ip::tcp::resolver::results_type& endpoints);
    asio::awaitable<std::error_code> exchange(const protocol::request& m, response& out);
    asio::awaitable<std::error_code> authenticate(std::string_view authenticator_class);
    void start_segments();  // v5: switch both directions to segment framing
    std::error_code handshake_error(std::error_code ec, const response& r);
    std::error_code io_error(std::error_code ec) const;
    std::error_code make_frame_response(const protocol::frame_view& f, response& out);
    void prepare_read(std::size_t needed);
    protocol::bytes_view readable() const noexcept {
        return protocol::bytes_view(rbuf_).subspan(rbegin_, rend_ - rbegin_);
    }

    void start_connect(std::unique_ptr<connect_completion> op);
    void finish_connect(std::error_code ec);
    void start_request(std::unique_ptr<request_completion> op, protocol::byte_buffer frame,
                       std::error_code encode_ec);
    void start_request_view(std::unique_ptr<request_completion> op, protocol::bytes_view frame);
    void on_strand_request(std::unique_ptr<request_completion> op, protocol::bytes_view frame);
    std::error_code check_sendable(protocol::bytes_view frame) const;
    // A free stream id (-1: none), its slot active.
    std::int16_t take_stream();
    // Completes an active slot's operation (op or cb) with ec.
    static void complete_slot(slot& s, std::error_code ec, response&& r);
    void enqueue_frame(protocol::bytes_view frame, std::int16_t id);
    void flush();
    void on_write(std::error_code ec, std::size_t n);
    void start_read();
    void on_read(std::error_code ec, std::size_t n);
    std::error_code process_input();
    std::error_code handle_frame(const protocol::frame_view& f);
    void complete_stream(std::int16_t id, std::error_code ec, response&& r);
    void release_stream(std::int16_t id);
    void on_timeout(std::int16_t id);
    void arm_deadline(std::chrono::steady_clock::time_point t);
    void on_deadline(std::error_code ec);
    void on_cancel(std::int16_t id, std::uint32_t generation);
    void start_heartbeat();
    void on_heartbeat(std::error_code ec);
    void fail(std::error_code ec);
    void enter_ready();

    connection_config cfg_;
    executor_type strand_;
    socket_stream stream_;
    std::unique_ptr<asio::ssl::context> tls_ctx_;
    asio::steady_timer heartbeat_timer_;
    asio::steady_timer connect_timer_;
    // Request timeouts: one timer armed at the earliest deadline of the requests in flight
    // (not re-armed per request: a later deadline waits for the next scan).
    asio::steady_timer deadline_timer_;
    std::chrono::steady_clock::time_point deadline_armed_ =
        std::chrono::steady_clock::time_point::max();
    std::optional<asio::ip::tcp::resolver> resolver_;
    bool connect_timed_out_ = false;

    std::atomic<state> state_{state::idle};
    std::atomic<protocol::protocol_version> version_{protocol::protocol_version::v5};
    cql::compression compression_ = cql::compression::none;
    bool segments_ = false;  // v5 after READY
    std::error_code defunct_reason_;
    diagnostics connect_diag_;
    std::vector<std::pair<std::string, std::vector<std::string>>> supported_;

    std::vector<slot> slots_;             // stream id -> slot; grows up to max_slots_
    std::vector<std::int16_t> free_ids_;  // released ids, reused first (LIFO)
    std::uint32_t max_slots_ = 32768;
    std::atomic<std::size_t> in_use_{0};

    // Writing: frames wait in pending_ while a write is in flight, then go in one write.
    protocol::byte_buffer pending_;
    protocol::byte_buffer writing_;
    protocol::byte_buffer scratch_;
    std::size_t pending_frames_ = 0;
    bool write_in_flight_ = false;
    std::atomic<std::uint64_t> frames_sent_{0};
    std::atomic<std::uint64_t> write_calls_{0};

    // Reading: one buffer, [rbegin_, rend_) not yet consumed.
    protocol::byte_buffer rbuf_;
    std::size_t rbegin_ = 0;
    std::size_t rend_ = 0;
    std::size_t rneeded_ = 0;
    protocol::segment_stream segments_in_;
    std::chrono::steady_clock::time_point last_read_;
    bool heartbeat_in_flight_ = false;
};

}  // namespace cql::detail
