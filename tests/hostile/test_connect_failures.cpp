// async_connect against servers that cannot be used: nobody listening, a handshake that is
// never answered, refused credentials, garbage or an HTTP server on the port. Each fails
// with the error code of its cause and a message that names it (and the endpoint); where
// the server becomes healthy, the next connect works. The same causes must be named when a
// host's pool fails after the connect: "host down" must not say "TCP connect failed" for a
// refused login or a handshake timeout.
#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>

#include <boost/asio/awaitable.hpp>

#include "hostile_test.hpp"

using namespace cql::hostile;
namespace asio = boost::asio;
namespace p = cql::protocol;

namespace {

// A server whose handshake answers are swallowed (for connections with index >= from).
void silence_handshakes(server& srv, std::size_t from = 0) {
    srv.on_request(
        [from](connection& c, const request& r) { return r.handshake && c.index() >= from; });
}

// Garbage, or an HTTP server's answer, where the handshake's answer should be.
void not_a_cql_server(server& srv, bool http) {
    srv.on_request([http](connection& c, const request&) {
        if (http) {
            std::string_view text =
                "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n"
                "Connection: close\r\n\r\nBad Request";
            c.send_raw(p::byte_buffer(text.begin(), text.end()));
            c.close();
        } else {
            p::byte_buffer junk;
            for (int i = 0; i < 64; ++i)
                junk.push_back(static_cast<std::uint8_t>(0x9E ^ (i * 37)));
            c.send_raw(junk);
        }
        return true;
    });
}

}  // namespace

TEST_CASE("nobody listening: host_unreachable, saying the connection was refused") {
    auto cfg = base_config();
    const auto port = unused_port();
    cfg.contact_points = {"127.0.0.1:" + std::to_string(port)};
    auto r = connect_once(cfg);
    INFO(r.ec.message() << ": " << r.diag.message);
    CHECK(r.ec == cql::errc::host_unreachable);
    CHECK(contains(r.diag.message, "127.0.0.1:" + std::to_string(port)));
    CHECK(contains(r.diag.message, "refused"));
}

TEST_CASE("a silent handshake fails the connect within connect_timeout: connect_timed_out") {
    server srv;
    silence_handshakes(srv);
    auto cfg = config_for(srv);
    cfg.connect_timeout = 500ms;
    auto r = connect_once(cfg);
    INFO(r.ec.message() << ": " << r.diag.message);
    CHECK(r.ec == cql::errc::connect_timed_out);
    CHECK(contains(r.diag.message, srv.contact_point()));
    CHECK(r.took < 10s);
    srv.on_request(nullptr);  // once the server answers, the next connect works
    run(cfg, [](cql::cluster& cluster) -> asio::awaitable<void> {
        auto next = co_await probe(cluster.session());
        CHECK_FALSE(next.ec);
    });
}

TEST_CASE("refused credentials: authentication_failed with the server's message") {
    server_options o;
    o.credentials = {{"cassandra", "right"}};
    server srv(o);
    auto cfg = config_for(srv);
    SECTION("a wrong password") {
        cfg.auth = cql::plain_text_auth("cassandra", "wrong");
        auto r = connect_once(cfg);
        INFO(r.ec.message() << ": " << r.diag.message);
        CHECK(r.ec == cql::errc::authentication_failed);
        CHECK(
            contains(r.diag.message, "Provided username cassandra and/or password are incorrect"));
    }
    SECTION("no credentials configured") {
        auto r = connect_once(cfg);
        INFO(r.ec.message() << ": " << r.diag.message);
        CHECK(r.ec == cql::errc::authentication_failed);
        CHECK(contains(r.diag.message, "PasswordAuthenticator"));
    }
    cfg.auth = cql::plain_text_auth("cassandra", "right");  // the next connect works
    run(cfg, [&](cql::cluster& cluster) -> asio::awaitable<void> {
        auto next = co_await probe(cluster.session());
        CHECK_FALSE(next.ec);
    });
}

TEST_CASE("not a CQL server: a protocol error, told at once") {
    const bool http = GENERATE(false, true);
    INFO((http ? "an HTTP server" : "garbage"));
    server srv;
    not_a_cql_server(srv, http);
    auto cfg = config_for(srv);
    cfg.connect_timeout = 10s;
    auto r = connect_once(cfg);
    INFO(r.ec.message() << " (" << r.ec.category().name() << "): " << r.diag.message);
    CHECK(r.ec.category() == p::codec_category());
    CHECK(contains(r.diag.message, srv.contact_point()));
    CHECK(r.took < 5s);  // (told at once, not at connect_timeout)
}

TEST_CASE("not a CQL server: the message says protocol error, not a version problem") {
    const bool http = GENERATE(false, true);
    INFO((http ? "an HTTP server" : "garbage"));
    server srv;
    not_a_cql_server(srv, http);
    auto r = connect_once(config_for(srv));
    INFO(r.ec.message() << ": " << r.diag.message);
    CHECK(contains(r.diag.message, "protocol error"));
    CHECK_FALSE(contains(r.diag.message, "unsupported protocol version"));
}

TEST_CASE("host down names the cause, not 'TCP connect failed'") {
    server srv;
    std::mutex m;
    std::vector<std::string> host_down;
    auto cfg = config_for(srv);
    cfg.connect_timeout = 500ms;
    cfg.log_level = cql::log_level::warning;
    cfg.logger = [&](cql::log_level, std::string_view msg) {
        std::lock_guard lock(m);
        if (msg.find("host down") != std::string_view::npos) host_down.emplace_back(msg);
    };
    std::error_code cause;
    SECTION("the pool's login is refused") {
        // The control connection (the first) logs in; the pool's connections are refused.
        srv.on_request([](connection& c, const request& r) {
            if (c.index() < 1 || !r.handshake || r.op != p::opcode::startup) return false;
            c.reply_error(r.stream, p::error_code::bad_credentials,
                          "Provided username "
                          "cassandra and/or password "
                          "are incorrect");
            return true;
        });
        cause = cql::errc::authentication_failed;
    }
    SECTION("the pool's handshake is never answered") {
        silence_handshakes(srv, 1);
        cause = cql::errc::connect_timed_out;
    }
    run(cfg, [&](cql::cluster& cluster) -> asio::awaitable<void> {
        const bool reported = co_await until([&] {
            std::lock_guard lock(m);
            return !host_down.empty();
        });
        REQUIRE(reported);
        std::lock_guard lock(m);
        INFO(host_down.front());
        CHECK_FALSE(contains(host_down.front(), "TCP connect failed"));
        CHECK(contains(host_down.front(), cause.message()));
        CHECK_FALSE(cluster.hosts().front()->is_up());
    });
}
