#pragma once
// A CQL server of our own for the hostile-server tests (issue 14): it listens on 127.0.0.1
// (port 0), runs on its own thread, does a proper handshake (v4 or v5, optional LZ4,
// optional SASL PLAIN, optional TLS) and answers like one healthy node (system tables and
// queries through cqlsim's engine, whose system.local names this server), until a test's
// request hook decides otherwise: answer late, twice, on another stream or version, with
// garbage, a huge header, a bad CRC, or not at all, close or reset the connection.
//
//   hostile::server srv;
//   srv.on_request([](hostile::connection& c, const hostile::request& r) {
//       if (r.query != "SELECT * FROM hostile.silent") return false;  // default answer
//       return true;                                                  // swallowed
//   });
//
// Threading: every hook and every connection's state live on the server's thread. The
// connection's actions (answer, send_*, close, reset) may be called from any thread:
// off the server thread they are posted there, in call order.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>

#include "cql/protocol/bytes.hpp"
#include "cql/protocol/frame.hpp"
#include "cql/protocol/responses.hpp"
#include "cql/protocol/segment.hpp"
#include "cql/protocol/version.hpp"
#include "cqlsim/engine.hpp"

namespace cql::hostile {

namespace asio = boost::asio;
namespace p = cql::protocol;
using clock = std::chrono::steady_clock;

struct server_options {
    std::set<p::protocol_version> versions = {p::protocol_version::v4, p::protocol_version::v5};
    bool offer_lz4 = true;
    // Set: STARTUP is answered by AUTHENTICATE (PasswordAuthenticator), SASL PLAIN checked.
    std::optional<std::pair<std::string, std::string>> credentials;
    // Both set: every connection starts with a TLS handshake (PEM chain and key).
    std::string tls_cert_pem;
    std::string tls_key_pem;
    std::string datacenter = "dc1";
};

// One request as the server received it (uncompressed, unframed).
struct request {
    std::size_t connection = 0;  // the connection's index (accept order, from 0)
    std::int16_t stream = 0;
    p::opcode op = p::opcode::options;
    p::protocol_version version = p::protocol_version::v4;
    bool handshake = false;  // before READY / AUTH_SUCCESS (OPTIONS, STARTUP, AUTH_RESPONSE)
    std::string query;       // QUERY and PREPARE text; EXECUTE: the text prepared here
    p::byte_buffer frame;    // the whole frame, header included, body uncompressed
};

class server;

class connection : public std::enable_shared_from_this<connection> {
  public:
    connection(server& s, asio::ip::tcp::socket socket, std::size_t index);

    std::size_t index() const noexcept { return index_; }
    p::protocol_version version() const noexcept { return version_.load(); }
    bool compressed() const noexcept { return lz4_.load(); }
    bool ready() const noexcept { return ready_.load(); }  // handshake finished
    bool closed() const noexcept { return closed_.load(); }
    // Whether the client closed (or reset) the connection, and when we saw it.
    bool closed_by_client() const noexcept { return client_closed_.load(); }
    clock::time_point client_closed_at() const;
    // When the last byte we sent was handed to the socket (the connection's start if none).
    clock::time_point last_write() const;
    std::size_t requests_received() const noexcept { return received_.load(); }

    // What a healthy node answers to `r`: sent, or (on the server thread only, e.g. in a
    // hook) returned as an unframed, uncompressed frame for the test to tamper with.
    void answer(const request& r);
    p::byte_buffer healthy_answer(const request& r);
    // RESULT Rows: one text column "v", one row per value; sent, or (on the server thread
    // only) returned unframed for the test to tamper with.
    void reply_rows(std::int16_t stream, std::vector<std::string> values);
    p::byte_buffer rows_answer(std::int16_t stream, const std::vector<std::string>& values);
    void reply_error(std::int16_t stream, p::error_code code, std::string message);
    // A whole response frame (header + uncompressed body), framed as the connection is:
    // in v5 segments after the handshake, LZ4-compressed in v4 when negotiated.
    void send_frame(p::byte_buffer frame);
    // On the server thread: the bytes send_frame would write for `frame`.
    p::byte_buffer framed(const p::byte_buffer& frame) const;
    // v5: `payload` as one segment (CRCs right), whatever it holds.
    void send_segment(p::byte_buffer payload, bool self_contained = true);
    void send_raw(p::byte_buffer bytes);  // bytes exactly as given
    void close();                         // FIN, once everything queued is written
    void reset();                         // RST, now

  private:
    friend class server;
    template <class F>
    void on_thread(F&& f);
    void start();
    void read();
    void process();
    bool handle(const p::frame_view& f);  // false: stop reading
    void handshake(const request& r, const p::frame_view& f);
    void write(p::bytes_view bytes);
    void flush();
    void shut(bool rst);

    server& server_;
    asio::ip::tcp::socket socket_;
    std::unique_ptr<asio::ssl::stream<asio::ip::tcp::socket&>> tls_;
    const std::size_t index_;
    std::atomic<p::protocol_version> version_{p::protocol_version::v4};
    std::atomic<bool> lz4_{false};
    std::atomic<bool> ready_{false};
    std::atomic<bool> closed_{false};
    std::atomic<bool> client_closed_{false};
    std::atomic<std::size_t> received_{0};
    std::atomic<clock::rep> last_write_;
    std::atomic<clock::rep> client_closed_at_{0};

    bool version_known_ = false;
    bool framed_ = false;   // v5 segments both ways
    bool closing_ = false;  // close() once out_ drained
    bool writing_now_ = false;
    p::byte_buffer in_;
    std::optional<p::segment_stream> segments_;
    p::byte_buffer out_;
    p::byte_buffer writing_;
    cqlsim::session_state session_;
};

class server {
  public:
    // A hook sees every request (handshake ones too) before the server does; it returns
    // true when it took care of the request (answered it, or chose not to).
    using request_hook = std::function<bool(connection&, const request&)>;

    explicit server(server_options opts = {});
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    std::uint16_t port() const noexcept { return port_; }
    std::string contact_point() const;  // "127.0.0.1:PORT"
    const server_options& options() const noexcept { return opts_; }

    void on_request(request_hook h);
    // Runs f on the server thread after `delay`.
    void after(std::chrono::milliseconds delay, std::function<void()> f);

    std::size_t accepted() const noexcept { return accepted_.load(); }
    std::vector<std::shared_ptr<connection>> connections();  // in accept order
    // QUERY / EXECUTE requests received with this text (on any connection).
    std::size_t received(std::string_view query);

  private:
    friend class connection;
    void accept();
    bool dispatch(connection& c, const request& r);

    server_options opts_;
    asio::io_context io_;
    std::unique_ptr<asio::ssl::context> tls_ctx_;
    asio::ip::tcp::acceptor acceptor_;
    std::uint16_t port_ = 0;
    cqlsim::engine engine_;
    std::atomic<std::size_t> accepted_{0};

    std::mutex mutex_;  // guards what tests read from their thread
    request_hook hook_;
    std::vector<std::shared_ptr<connection>> connections_;
    std::map<std::string, std::size_t, std::less<>> received_;
    std::map<std::string, std::string, std::less<>> prepared_;  // id bytes -> text

    std::thread thread_;
};

// A loopback port nobody listens on (bound, then released): connecting is refused.
std::uint16_t unused_port();

}  // namespace cql::hostile
