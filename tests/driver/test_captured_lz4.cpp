// The connection against Apache Cassandra 4.0.13's own bytes: tests/fixtures/cassandra-4.0.13-lz4
// holds cqlbench sessions recorded through tools/cqlcapture (its capture.sh says how). A replay
// server answers each request with exactly the bytes the real server sent for it, and the
// connection must hand out every answer with the captured (decompressed) body.
//
// v4 + LZ4: Cassandra compresses its READY, the answer to STARTUP (the connection once
// refused it: "compressed data where no compression was negotiated"). v5 + LZ4: rows and
// inserts of a 200,000-byte blob, each frame spread over two LZ4 segments.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <future>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>

#include "../support/io_runner.hpp"
#include "cql/protocol/stream_decoder.hpp"
#include "detail/connection.hpp"

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace p = cql::protocol;
using asio::ip::tcp;
using cql::test::io_runner;

namespace {

p::byte_buffer load(const std::string& name) {
    std::ifstream in(std::string(CQL_FIXTURES_DIR) + "/cassandra-4.0.13-lz4/" + name,
                     std::ios::binary);
    REQUIRE(in);
    return p::byte_buffer(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

struct captured_frame {
    p::frame_header header;  // as on the wire
    p::byte_buffer body;     // decompressed
    std::size_t end = 0;     // stream offset just after the frame (or its last segment)
    bool spread = false;     // gathered from several segments
    bool compressed = false;
};

std::vector<captured_frame> decode_all(const p::byte_buffer& bytes, p::stream_side side) {
    std::vector<captured_frame> out;
    p::stream_decoder d(side);
    std::size_t segment_end = 0;
    auto ec = d.feed(
        p::bytes_view(bytes),
        [&](const p::stream_frame& f) {
            captured_frame c;
            c.header = f.frame.header;
            c.body.assign(f.frame.body.begin(), f.frame.body.end());
            c.end = f.in_segments ? segment_end : f.offset + f.envelope.size();
            c.spread = f.spread;
            c.compressed = f.compressed;
            out.push_back(std::move(c));
        },
        [&](const p::stream_segment& s) { segment_end = s.offset + s.wire.size(); });
    REQUIRE_FALSE(ec);
    REQUIRE_FALSE(d.finish());
    return out;
}

// One captured request, the frame to send it again, and what the server answered.
struct exchange {
    p::frame_header request;
    p::byte_buffer request_frame;  // uncompressed, as encode_request_frame writes it
    captured_frame answer;
};

// Pairs each client frame with the next server frame on its stream (events in between are
// replayed along with the answer that follows them). A last request that was still in flight
// when the client closed the connection is left out.
std::vector<exchange> load_session(int conn) {
    char name[32];
    std::snprintf(name, sizeof name, "conn%02d", conn);
    const auto requests =
        decode_all(load(std::string(name) + ".client.bin"), p::stream_side::client);
    auto answers = decode_all(load(std::string(name) + ".server.bin"), p::stream_side::server);
    std::vector<exchange> out;
    std::size_t next = 0;
    for (const auto& rq : requests) {
        while (next < answers.size() && answers[next].header.stream != rq.header.stream)
            ++next;
        if (next == answers.size()) break;  // in flight when the client closed
        exchange x;
        x.request = rq.header;
        auto h = rq.header;
        h.flags = static_cast<std::uint8_t>(h.flags & ~p::frame_flags::compression);
        h.body_length = static_cast<std::uint32_t>(rq.body.size());
        p::byte_writer w(x.request_frame);
        p::encode_frame_header(w, h);
        x.request_frame.insert(x.request_frame.end(), rq.body.begin(), rq.body.end());
        x.answer = std::move(answers[next++]);
        out.push_back(std::move(x));
    }
    return out;
}

// Serves one connection: after the k-th request frame arrives (its opcode and stream id
// must be those captured), it writes the captured server bytes up to the end of the k-th
// answer, exactly as Cassandra sent them.
class replay_server {
  public:
    replay_server(std::vector<exchange> session, p::byte_buffer server_bytes)
        : session_(std::move(session)),
          server_bytes_(std::move(server_bytes)),
          acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
        asio::co_spawn(io_, serve(), [this](std::exception_ptr e) {
            if (e) problem_ = "the replay server stopped on an exception";
        });
        thread_ = std::thread([this] { io_.run(); });
    }
    ~replay_server() {
        io_.stop();
        if (thread_.joinable()) thread_.join();
    }

    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
    // Waits until the client has closed; returns how many requests were answered.
    std::size_t finish() {
        thread_.join();
        return replayed_;
    }
    // What went wrong (empty: nothing); valid after finish().
    const std::string& problem() const { return problem_; }

  private:
    asio::awaitable<void> serve() {
        auto tok = asio::as_tuple(asio::use_awaitable);
        auto [aec, sock] = co_await acceptor_.async_accept(tok);
        if (aec) co_return;
        p::stream_decoder live(p::stream_side::client);
        std::vector<p::frame_header> arrived;
        std::vector<std::uint8_t> buf(64 * 1024);
        std::size_t sent = 0;
        for (;;) {
            auto [rec, n] = co_await sock.async_read_some(asio::buffer(buf), tok);
            arrived.clear();
            if (auto dec = live.feed(p::bytes_view(buf.data(), n), [&](const p::stream_frame& f) {
                    arrived.push_back(f.frame.header);
                })) {
                problem_ = "the client sent undecodable bytes: " + dec.message();
                co_return;
            }
            for (const auto& h : arrived) {
                if (replayed_ == session_.size()) {
                    problem_ = "more requests than captured";
                    co_return;
                }
                const auto& want = session_[replayed_];
                if (h.op != want.request.op || h.stream != want.request.stream) {
                    problem_ = "request " + std::to_string(replayed_) + " is " +
                               std::string(p::to_string(h.op)) + " on stream " +
                               std::to_string(h.stream) +
                               ", captured: " + std::string(p::to_string(want.request.op)) +
                               " on stream " + std::to_string(want.request.stream);
                    co_return;
                }
                const std::size_t end = want.answer.end;
                auto [wec, wn] = co_await asio::async_write(
                    sock, asio::buffer(server_bytes_.data() + sent, end - sent), tok);
                if (wec) co_return;
                sent = end;
                ++replayed_;
            }
            if (rec) co_return;  // the client closed
        }
    }

    std::vector<exchange> session_;
    p::byte_buffer server_bytes_;
    asio::io_context io_;
    tcp::acceptor acceptor_;
    std::thread thread_;
    std::size_t replayed_ = 0;
    std::string problem_;
};

// Connects through the replay of connection `conn` and sends every captured request after
// STARTUP again; each answer must be the captured one.
void replay(int conn, p::protocol_version v, const std::vector<exchange>& session) {
    char name[32];
    std::snprintf(name, sizeof name, "conn%02d.server.bin", conn);
    replay_server server(session, load(name));

    io_runner client;
    cql::detail::connection_config cfg;
    cfg.port = server.port();
    cfg.version = v;
    cfg.compression = cql::compression::lz4;
    cfg.heartbeat_interval = 0ms;
    cfg.request_timeout = 10000ms;
    auto c = cql::detail::connection::create(client.io.get_executor(), cfg);

    auto connected = c->async_connect(asio::use_future);
    REQUIRE(connected.wait_for(20s) == std::future_status::ready);
    cql::error_code cec;
    try {
        connected.get();
    } catch (const boost::system::system_error& e) {
        cec = e.code();
    }
    INFO("connect: " << cec.message() << " " << c->connect_diagnostics().message);
    REQUIRE_FALSE(cec);
    CHECK(c->compression() == cql::compression::lz4);
    CHECK(c->version() == v);

    REQUIRE(session.size() > 2);
    for (std::size_t k = 2; k < session.size(); ++k) {  // after OPTIONS and STARTUP
        const auto& x = session[k];
        std::promise<std::pair<cql::error_code, cql::response>> promise;
        auto answered = promise.get_future();
        c->async_send_frame(x.request_frame, [&](cql::error_code e, cql::response resp) {
            promise.set_value({e, std::move(resp)});
        });
        REQUIRE(answered.wait_for(20s) == std::future_status::ready);
        auto [ec, r] = answered.get();
        INFO("request " << k << ": " << p::to_string(x.request.op) << " -> " << ec.message());
        REQUIRE_FALSE(r.empty());
        CHECK(r.opcode() == x.answer.header.op);
        CHECK(std::equal(r.body().begin(), r.body().end(), x.answer.body.begin(),
                         x.answer.body.end()));
    }
    c->close();
    CHECK(server.finish() == session.size());
    CHECK(server.problem() == "");
}

}  // namespace

TEST_CASE("v4 + LZ4 against Cassandra 4.0.13's bytes: the READY is already compressed",
          "[captured]") {
    const auto session = load_session(1);
    // What made the handshake fail: STARTUP asked for lz4 and the READY came compressed.
    REQUIRE(session[1].request.op == p::opcode::startup);
    REQUIRE(session[1].answer.header.op == p::opcode::ready);
    REQUIRE(session[1].answer.header.has(p::frame_flags::compression));
    replay(1, p::protocol_version::v4, session);
}

TEST_CASE("control connections (discovery, REGISTER, events) against Cassandra 4.0.13's bytes",
          "[captured]") {
    SECTION("v4 + LZ4") {
        const auto session = load_session(0);
        REQUIRE(session[1].answer.header.has(p::frame_flags::compression));
        replay(0, p::protocol_version::v4, session);
    }
    SECTION("v5 + LZ4") {
        replay(2, p::protocol_version::v5, load_session(2));
    }
}

TEST_CASE("v5 + LZ4 against Cassandra 4.0.13's bytes: frames over 128 KiB spread over segments",
          "[captured]") {
    const auto session = load_session(3);
    // The READY is a plain, uncompressed frame; the segments that follow are LZ4.
    REQUIRE_FALSE(session[1].answer.header.has(p::frame_flags::compression));
    std::size_t big_rows = 0;
    for (const auto& x : session) {
        if (x.answer.spread && x.answer.compressed && x.answer.body.size() > 128 * 1024) ++big_rows;
    }
    REQUIRE(big_rows >= 2);
    replay(3, p::protocol_version::v5, session);
}
