// The connection against the scripted fake server: handshake and negotiation, LZ4, auth,
// multiplexing, timeouts, cancellation, defunct connections, events, heartbeats.
#include <catch2/catch.hpp>

#include <chrono>
#include <future>
#include <string>
#include <thread>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include "detail/connection.hpp"
#include "fake_server.hpp"

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace p = cql::protocol;
using cql::errc;
using cql::response;
using cql::detail::connection;
using cql::test::fake_server;
using cql::test::fake_server_options;
using cql::test::fake_session;
using cql::test::request_info;

namespace {

cql::detail::connection_config config_for(const fake_server& s) {
    cql::detail::connection_config cfg;
    cfg.host = "127.0.0.1";
    cfg.port = s.port();
    cfg.heartbeat_interval = 0ms;
    cfg.request_timeout = 5000ms;
    return cfg;
}

p::query_request query(std::string_view text) {
    p::query_request q;
    q.query = text;
    return q;
}

std::string text_of(const response& r) {
    p::response m;
    if (r.decode(m)) return "<undecodable>";
    if (auto* ks = std::get_if<p::set_keyspace_result>(&m)) return std::string(ks->keyspace);
    return "<not set_keyspace>";
}

// Runs `io` until pred() holds (or the limit passes); returns pred().
template <class Pred>
bool run_until(asio::io_context& io, Pred pred, std::chrono::milliseconds limit = 10s) {
    io.restart();
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!pred() && std::chrono::steady_clock::now() < deadline) {
        if (io.run_one_until(deadline) == 0 && io.stopped()) break;
    }
    return pred();
}

// Runs a coroutine on `io` until it finishes (bounded), rethrowing its exception.
template <class F>
void run_coro(asio::io_context& io, F f) {
    std::exception_ptr error;
    bool done = false;
    asio::co_spawn(io, f(), [&](std::exception_ptr e) {
        error = e;
        done = true;
    });
    REQUIRE(run_until(
        io, [&] { return done; }, 20s));
    if (error) std::rethrow_exception(error);
}

std::error_code connect(asio::io_context& io, const std::shared_ptr<connection>& c) {
    std::error_code result = errc::internal_error;
    bool done = false;
    c->async_connect([&](cql::error_code ec) {
        result = ec;
        done = true;
    });
    run_until(io, [&] { return done; });
    return result;
}

}  // namespace

TEST_CASE("handshake negotiates v5 and a query round-trips (co_await)") {
    fake_server server;
    asio::io_context io;
    auto c = connection::create(io.get_executor(), config_for(server));
    run_coro(io, [&]() -> asio::awaitable<void> {
        co_await c->async_connect(asio::use_awaitable);
        CHECK(c->is_ready());
        CHECK(c->version() == p::protocol_version::v5);
        CHECK(c->compression() == cql::compression::none);
        auto r = co_await c->async_request(query("hello"), asio::use_awaitable);
        CHECK(r.opcode() == p::opcode::result);
        CHECK(r.version() == p::protocol_version::v5);
        CHECK(text_of(r) == "hello");
        c->close();
    });
    REQUIRE(server.sessions().size() == 1);
    CHECK(server.sessions()[0]->version() == p::protocol_version::v5);
    // supported options are kept
    bool has_cql_version = false;
    for (auto& [k, v] : c->supported())
        if (k == "CQL_VERSION") has_cql_version = v == std::vector<std::string>{"3.0.0"};
    CHECK(has_cql_version);
}

TEST_CASE("a v4-only server makes the connection fall back to v4") {
    fake_server_options o;
    o.versions = {p::protocol_version::v4};
    fake_server server(o);
    asio::io_context io;
    auto c = connection::create(io.get_executor(), config_for(server));
    REQUIRE(connect(io, c) == std::error_code{});
    CHECK(c->version() == p::protocol_version::v4);
    CHECK(server.connections_accepted() == 2);  // the v5 attempt was closed by the server

    std::string got;
    c->async_request(query("v4 works"), [&](std::error_code ec, response r) {
        CHECK_FALSE(ec);
        got = text_of(r);
    });
    run_until(io, [&] { return !got.empty(); });
    CHECK(got == "v4 works");
    c->close();
}

TEST_CASE("a pinned version the server refuses fails with a clear error") {
    fake_server_options o;
    o.versions = {p::protocol_version::v4};
    fake_server server(o);
    asio::io_context io;
    auto cfg = config_for(server);
    cfg.version = p::protocol_version::v5;
    auto c = connection::create(io.get_executor(), cfg);
    CHECK(connect(io, c) == errc::protocol_negotiation_failed);
    CHECK(c->connect_diagnostics().message.find("unsupported protocol version") !=
          std::string::npos);
    CHECK(c->connect_diagnostics().code == 0x000A);
    CHECK_FALSE(c->is_ready());
}

TEST_CASE("LZ4 is negotiated and used in v5 segments and in v4 bodies") {
    auto version = GENERATE(p::protocol_version::v5, p::protocol_version::v4);
    fake_server server;
    asio::io_context io;
    auto cfg = config_for(server);
    cfg.compression = cql::compression::lz4;
    cfg.version = version;
    auto c = connection::create(io.get_executor(), cfg);
    std::string big(50000, 'x');
    big += "end";
    run_coro(io, [&]() -> asio::awaitable<void> {
        co_await c->async_connect(asio::use_awaitable);
        CHECK(c->version() == version);
        CHECK(c->compression() == cql::compression::lz4);
        auto r = co_await c->async_request(query(big), asio::use_awaitable);
        CHECK(text_of(r) == big);
        auto r2 = co_await c->async_request(query("small"), asio::use_awaitable);
        CHECK(text_of(r2) == "small");
        c->close();
    });
    REQUIRE(server.sessions().size() == 1);
    CHECK(server.sessions()[0]->compressed());
}

TEST_CASE("lz4 is not used when the server does not offer it") {
    fake_server_options o;
    o.offer_lz4 = false;
    fake_server server(o);
    asio::io_context io;
    auto cfg = config_for(server);
    cfg.compression = cql::compression::lz4;
    auto c = connection::create(io.get_executor(), cfg);
    REQUIRE(connect(io, c) == std::error_code{});
    CHECK(c->compression() == cql::compression::none);
    c->close();
}

TEST_CASE("SASL PLAIN authentication: success, wrong password, no credentials") {
    fake_server_options o;
    o.credentials = std::make_pair(std::string("cassandra"), std::string("secret"));
    fake_server server(o);
    asio::io_context io;

    SECTION("right password") {
        auto cfg = config_for(server);
        cfg.auth = cql::plain_text_auth("cassandra", "secret");
        auto c = connection::create(io.get_executor(), cfg);
        REQUIRE(connect(io, c) == std::error_code{});
        CHECK(c->is_ready());
        CHECK(c->version() == p::protocol_version::v5);
        std::string got;
        c->async_request(query("after auth"),
                         [&](std::error_code, response r) { got = text_of(r); });
        run_until(io, [&] { return !got.empty(); });
        CHECK(got == "after auth");
        c->close();
    }
    SECTION("wrong password") {
        auto cfg = config_for(server);
        cfg.auth = cql::plain_text_auth("cassandra", "wrong");
        auto c = connection::create(io.get_executor(), cfg);
        CHECK(connect(io, c) == errc::authentication_failed);
        CHECK(c->connect_diagnostics().code == 0x0100);
        CHECK(c->connect_diagnostics().message ==
              "Provided username cassandra and/or password are incorrect");
        CHECK(c->is_defunct());
    }
    SECTION("no credentials configured") {
        auto c = connection::create(io.get_executor(), config_for(server));
        CHECK(connect(io, c) == errc::authentication_failed);
        CHECK(c->connect_diagnostics().message.find("PasswordAuthenticator") != std::string::npos);
    }
    SECTION("an authenticator's own error code is the connection's") {
        struct refusing final : cql::authenticator {
            std::error_code initial_response(p::byte_buffer&) override {
                return std::make_error_code(std::errc::permission_denied);
            }
            std::error_code evaluate_challenge(p::bytes_view, p::byte_buffer&) override {
                return {};
            }
        };
        struct provider final : cql::auth_provider {
            std::unique_ptr<cql::authenticator> new_authenticator(std::string_view,
                                                                  std::string_view) override {
                return std::make_unique<refusing>();
            }
        };
        auto cfg = config_for(server);
        cfg.auth = std::make_shared<provider>();
        auto c = connection::create(io.get_executor(), cfg);
        CHECK(connect(io, c) == std::make_error_code(std::errc::permission_denied));
        CHECK(c->connect_diagnostics().message.find("the authenticator failed") !=
              std::string::npos);
    }
}

TEST_CASE("unreachable host: a closed loopback port") {
    std::uint16_t port;
    {
        asio::io_context tmp;
        asio::ip::tcp::acceptor a(tmp, {asio::ip::make_address("127.0.0.1"), 0});
        port = a.local_endpoint().port();
    }
    asio::io_context io;
    cql::detail::connection_config cfg;
    cfg.port = port;
    auto c = connection::create(io.get_executor(), cfg);
    CHECK(connect(io, c) == errc::host_unreachable);
    CHECK(c->connect_diagnostics().message.find("refused") != std::string::npos);
}

TEST_CASE("a name that does not resolve") {
    asio::io_context io;
    cql::detail::connection_config cfg;
    cfg.host = "no-such-host.invalid";
    auto c = connection::create(io.get_executor(), cfg);
    CHECK(connect(io, c) == errc::resolution_failed);
}

TEST_CASE("many concurrent requests on one connection get their own answers") {
    auto version = GENERATE(p::protocol_version::v5, p::protocol_version::v4);
    fake_server server;
    asio::io_context io;
    auto cfg = config_for(server);
    cfg.version = version;
    auto c = connection::create(io.get_executor(), cfg);
    REQUIRE(connect(io, c) == std::error_code{});

    constexpr int n = 3000;
    std::vector<std::string> texts(n), got(n);
    int ok = 0;
    for (int i = 0; i < n; ++i) {
        texts[static_cast<std::size_t>(i)] = std::string("q").append(std::to_string(i));
        c->async_request(query(texts[static_cast<std::size_t>(i)]),
                         [&, i](std::error_code ec, response r) {
                             if (!ec) ++ok;
                             got[static_cast<std::size_t>(i)] = text_of(r);
                         });
    }
    run_until(
        io, [&] { return got.back().size() > 0 && ok == n; }, 30s);
    CHECK(ok == n);
    CHECK(got == texts);
    CHECK(c->streams_in_use() == 0);
    // Write coalescing: far fewer writes than frames.
    CHECK(c->frames_sent() >= static_cast<std::uint64_t>(n));
    CHECK(c->write_calls() < c->frames_sent() / 4);
    c->close();
}

TEST_CASE("out-of-order responses are matched by stream id (futures)") {
    fake_server server;
    std::mutex m;
    std::vector<request_info> held;
    std::shared_ptr<fake_session> sess;
    server.on_request([&](const std::shared_ptr<fake_session>& s, const request_info& r) {
        std::lock_guard lock(m);
        held.push_back(r);
        sess = s;
        if (held.size() == 8) {
            for (auto it = held.rbegin(); it != held.rend(); ++it)
                s->reply_text(it->stream, "answer to " + it->query);
        }
    });
    asio::io_context io;
    auto c = connection::create(io.get_executor(), config_for(server));
    REQUIRE(connect(io, c) == std::error_code{});
    auto guard = asio::make_work_guard(io);
    std::thread t([&] { io.run(); });

    std::vector<std::future<response>> futures;
    std::vector<std::string> queries;
    for (int i = 0; i < 8; ++i)
        queries.push_back("query " + std::to_string(i));
    for (auto& q : queries)
        futures.push_back(c->async_request(query(q), asio::use_future));
    for (std::size_t i = 0; i < futures.size(); ++i) {
        REQUIRE(futures[i].wait_for(10s) == std::future_status::ready);
        CHECK(text_of(futures[i].get()) == "answer to " + queries[i]);
    }
    c->close();
    guard.reset();
    t.join();
}

TEST_CASE("per-request timeout; the stream id waits for the late response") {
    fake_server server;
    std::mutex m;
    std::vector<request_info> held;
    std::shared_ptr<fake_session> sess;
    server.on_request([&](const std::shared_ptr<fake_session>& s, const request_info& r) {
        if (r.query == "slow") {
            std::lock_guard lock(m);
            held.push_back(r);
            sess = s;
            return;
        }
        s->reply_text(r.stream, r.query);
    });
    asio::io_context io;
    auto cfg = config_for(server);
    cfg.request_timeout = 150ms;
    auto c = connection::create(io.get_executor(), cfg);
    REQUIRE(connect(io, c) == std::error_code{});

    std::error_code slow_ec;
    c->async_request(query("slow"), [&](std::error_code ec, response) { slow_ec = ec; });
    run_until(io, [&] { return static_cast<bool>(slow_ec); });
    CHECK(slow_ec == errc::timed_out);
    CHECK(c->streams_in_use() == 1);  // not reused until the late answer
    CHECK(c->is_ready());

    // Other requests still work and never get the held stream id.
    std::string got;
    c->async_request(query("fast"), [&](std::error_code ec, response r) {
        CHECK_FALSE(ec);
        got = text_of(r);
    });
    run_until(io, [&] { return !got.empty(); });
    CHECK(got == "fast");
    {
        std::lock_guard lock(m);
        REQUIRE(held.size() == 1);
        CHECK(server.requests().back().stream != held[0].stream);
        sess->reply_text(held[0].stream, "late");
    }
    run_until(io, [&] { return c->streams_in_use() == 0; });
    CHECK(c->streams_in_use() == 0);
    CHECK(c->is_ready());
    c->close();
}

TEST_CASE("per-operation cancellation completes with operation_aborted") {
    fake_server server;
    std::mutex m;
    std::vector<request_info> held;
    std::shared_ptr<fake_session> sess;
    server.on_request([&](const std::shared_ptr<fake_session>& s, const request_info& r) {
        std::lock_guard lock(m);
        held.push_back(r);
        sess = s;
    });
    asio::io_context io;
    auto c = connection::create(io.get_executor(), config_for(server));
    REQUIRE(connect(io, c) == std::error_code{});

    asio::cancellation_signal signal;
    std::error_code got = errc::internal_error;
    c->async_request(query("cancel me"),
                     asio::bind_cancellation_slot(signal.slot(),
                                                  [&](std::error_code ec, response) { got = ec; }));
    asio::steady_timer timer(io, 100ms);
    timer.async_wait(
        [&](boost::system::error_code) { signal.emit(asio::cancellation_type::terminal); });
    run_until(io, [&] { return got != errc::internal_error; });
    CHECK(got == std::errc::operation_canceled);
    CHECK(c->streams_in_use() == 1);
    {
        std::lock_guard lock(m);
        REQUIRE(held.size() == 1);
        sess->reply_text(held[0].stream, "too late");
    }
    run_until(io, [&] { return c->streams_in_use() == 0; });
    CHECK(c->streams_in_use() == 0);
    c->close();
}

TEST_CASE("a server ERROR completes the request with the server code and details") {
    fake_server server;
    server.on_request([](const std::shared_ptr<fake_session>& s, const request_info& r) {
        s->reply_error(r.stream, 0x2200, "table no_such_table does not exist");
    });
    asio::io_context io;
    auto c = connection::create(io.get_executor(), config_for(server));
    REQUIRE(connect(io, c) == std::error_code{});
    std::error_code got;
    std::string message;
    c->async_request(query("SELECT * FROM no_such_table"), [&](std::error_code ec, response r) {
        got = ec;
        message = r.diag().message;
    });
    run_until(io, [&] { return static_cast<bool>(got); });
    CHECK(got == cql::server_errc::invalid);
    CHECK(message == "table no_such_table does not exist");
    CHECK(c->is_ready());  // a server error does not hurt the connection
    c->close();
}

TEST_CASE("garbage bytes make the connection defunct and fail every request in flight") {
    auto version = GENERATE(p::protocol_version::v5, p::protocol_version::v4);
    fake_server server;
    std::atomic<int> seen{0};
    std::shared_ptr<fake_session> sess;
    server.on_request([&](const std::shared_ptr<fake_session>& s, const request_info&) {
        if (++seen == 5) {
            if (s->version() == p::protocol_version::v5) {
                s->corrupt_next_segment();  // CRC32 mismatch
                s->reply_text(0, "x");
            } else {
                s->send_raw({0x02, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00});  // v2
            }
        }
    });
    asio::io_context io;
    auto cfg = config_for(server);
    cfg.version = version;
    auto c = connection::create(io.get_executor(), cfg);
    REQUIRE(connect(io, c) == std::error_code{});
    std::vector<std::error_code> results;
    for (int i = 0; i < 5; ++i)
        c->async_request(query("q"), [&](std::error_code ec, response) { results.push_back(ec); });
    run_until(io, [&] { return results.size() == 5; });
    REQUIRE(results.size() == 5);
    auto expected = version == p::protocol_version::v5
                        ? std::error_code(p::codec_errc::payload_crc_mismatch)
                        : std::error_code(p::codec_errc::unsupported_version);
    for (auto& ec : results)
        CHECK(ec == expected);
    CHECK(c->is_defunct());
    CHECK(c->defunct_reason() == expected);

    std::error_code after;
    c->async_request(query("q"), [&](std::error_code ec, response) { after = ec; });
    run_until(io, [&] { return static_cast<bool>(after); });
    CHECK(after == errc::connection_defunct);
}

TEST_CASE("the server closing the socket fails requests with connection_closed") {
    fake_server server;
    server.on_request(
        [](const std::shared_ptr<fake_session>& s, const request_info&) { s->close(); });
    asio::io_context io;
    auto c = connection::create(io.get_executor(), config_for(server));
    REQUIRE(connect(io, c) == std::error_code{});
    std::error_code got;
    c->async_request(query("q"), [&](std::error_code ec, response) { got = ec; });
    run_until(io, [&] { return static_cast<bool>(got); });
    CHECK(got == errc::connection_closed);
    CHECK(c->is_defunct());
}

TEST_CASE("EVENT frames go to the event callback") {
    fake_server server;
    server.on_request([](const std::shared_ptr<fake_session>& s, const request_info& r) {
        s->send_status_event(false);
        s->reply_void(r.stream);
    });
    asio::io_context io;
    auto cfg = config_for(server);
    int events = 0;
    bool down = false;
    cfg.on_event = [&](response&& r) {
        ++events;
        CHECK(r.stream() == -1);
        p::response m;
        REQUIRE_FALSE(r.decode(m));
        auto* ev = std::get_if<p::status_change_event>(&m);
        REQUIRE(ev);
        down = ev->change == p::status_change_type::down;
    };
    auto c = connection::create(io.get_executor(), cfg);
    REQUIRE(connect(io, c) == std::error_code{});
    bool done = false;
    c->async_request(p::register_request{}, [&](std::error_code ec, response) { done = !ec; });
    run_until(io, [&] { return done; });
    CHECK(done);
    CHECK(events == 1);
    CHECK(down);
    c->close();
}

TEST_CASE("heartbeats: OPTIONS when idle; no answer makes the connection defunct") {
    fake_server server;
    std::atomic<bool> answer{true};
    std::atomic<int> options{0};
    server.on_request([&](const std::shared_ptr<fake_session>& s, const request_info& r) {
        if (r.op == p::opcode::options) {
            ++options;
            if (answer) s->reply_void(r.stream);  // any answer will do
        }
    });
    asio::io_context io;
    auto cfg = config_for(server);
    cfg.heartbeat_interval = 100ms;
    cfg.request_timeout = 150ms;
    auto c = connection::create(io.get_executor(), cfg);
    REQUIRE(connect(io, c) == std::error_code{});
    run_until(
        io, [&] { return options >= 2; }, 5s);
    CHECK(options >= 2);
    CHECK(c->is_ready());
    answer = false;
    run_until(
        io, [&] { return c->is_defunct(); }, 5s);
    CHECK(c->is_defunct());
    CHECK(c->defunct_reason() == errc::heartbeat_failed);
}

TEST_CASE("requests before connect fail with not_connected") {
    asio::io_context io;
    auto c = connection::create(io.get_executor(), cql::detail::connection_config{});
    std::error_code got;
    c->async_request(query("q"), [&](std::error_code ec, response) { got = ec; });
    run_until(io, [&] { return static_cast<bool>(got); });
    CHECK(got == errc::not_connected);
}
