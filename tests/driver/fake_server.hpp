#pragma once
// A small scripted CQL server for the driver's tests: listens on 127.0.0.1 (port 0), runs
// on its own thread, does the handshake (OPTIONS/SUPPORTED, STARTUP, optional SASL PLAIN,
// v5 segments after READY, LZ4), then hands every request to a test-supplied handler,
// which answers (now or later, in any order) through the session.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>

#include "cql/protocol/bytes.hpp"
#include "cql/protocol/frame.hpp"
#include "cql/protocol/version.hpp"

namespace cql::test {

namespace asio = boost::asio;

struct fake_server_options {
    std::set<protocol::protocol_version> versions = {protocol::protocol_version::v4,
                                                     protocol::protocol_version::v5};
    bool offer_lz4 = true;
    // When set, STARTUP is answered by AUTHENTICATE and PLAIN credentials are checked.
    std::optional<std::pair<std::string, std::string>> credentials;
    // When both are set, connections are TLS (PEM certificate chain and private key).
    // Requests are then answered on the session's own thread only (no concurrent writes).
    std::string tls_cert_pem;
    std::string tls_key_pem;
};

struct request_info {
    std::int16_t stream = 0;
    protocol::opcode op = protocol::opcode::options;
    std::string query;  // QUERY text
};

class fake_session : public std::enable_shared_from_this<fake_session> {
  public:
    fake_session(asio::ip::tcp::socket socket, class fake_server& server);
    void start();

    // Thread-safe: each runs on the server thread.
    // RESULT Set_keyspace carrying `text`: lets tests see which request got which answer.
    void reply_text(std::int16_t stream, std::string text);
    void reply_void(std::int16_t stream);
    void reply_error(std::int16_t stream, std::int32_t code, std::string message);
    void send_status_event(bool up);
    void send_raw(protocol::byte_buffer bytes);  // bytes as they are, no framing
    // Flips one payload byte of the next segment (v5): its CRC32 no longer matches.
    void corrupt_next_segment();
    void close();
    // Sends a whole (uncompressed) response frame, framed as the connection is.
    void send_frame(const protocol::byte_buffer& frame);

    protocol::protocol_version version() const noexcept { return version_; }
    bool compressed() const noexcept { return lz4_; }

  private:
    friend class fake_server;
    void run();
    bool handle(const protocol::frame_view& f);
    void start_framing_if_v5();
    void write(const protocol::byte_buffer& bytes);

    asio::ip::tcp::socket socket_;
    std::optional<asio::ssl::stream<asio::ip::tcp::socket&>> tls_;
    fake_server& server_;
    protocol::protocol_version version_ = protocol::protocol_version::v4;
    bool lz4_ = false;
    bool ready_ = false;
    bool framed_ = false;  // v5 segments in both directions
    bool corrupt_next_ = false;
    bool closed_ = false;
};

class fake_server {
  public:
    using handler = std::function<void(const std::shared_ptr<fake_session>&, const request_info&)>;

    explicit fake_server(fake_server_options opts = {});
    ~fake_server();
    fake_server(const fake_server&) = delete;
    fake_server& operator=(const fake_server&) = delete;

    std::uint16_t port() const noexcept { return port_; }
    // Called on the server thread for each request after the handshake. Default: OPTIONS
    // gets SUPPORTED, QUERY gets reply_text(query), others reply_void.
    void on_request(handler h);
    const fake_server_options& options() const noexcept { return opts_; }

    std::size_t connections_accepted() const noexcept { return accepted_.load(); }
    // Sessions that finished the handshake, in order.
    std::vector<std::shared_ptr<fake_session>> sessions();
    std::vector<request_info> requests();  // every request seen after handshakes

    asio::io_context& context() noexcept { return io_; }

  private:
    friend class fake_session;
    void accept();
    void dispatch_request(const std::shared_ptr<fake_session>& s, const request_info& r);

    fake_server_options opts_;
    asio::io_context io_;
    std::unique_ptr<asio::ssl::context> tls_ctx_;
    asio::ip::tcp::acceptor acceptor_;
    std::uint16_t port_ = 0;
    std::thread thread_;
    std::mutex mutex_;
    handler handler_;
    std::vector<std::shared_ptr<fake_session>> sessions_;
    std::vector<request_info> requests_;
    std::atomic<std::size_t> accepted_{0};
};

}  // namespace cql::test
