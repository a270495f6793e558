// TLS refusals: a certificate from an unknown CA, an expired one, one for another name, a
// plain client at a TLS server and a TLS client at a plain one. Each fails the connect at
// once with errc::tls_handshake_failed (or the connection's end), never at the connect
// timeout, and with a trusted certificate the next connect works. The message must carry
// OpenSSL's reason (untrusted, expired, wrong name), not only "certificate verify failed".
// Certificates are made at test time (certificates.hpp).
#include <catch2/catch.hpp>

#include <openssl/x509_vfy.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "certificates.hpp"
#include "hostile_test.hpp"

using namespace cql::hostile;
namespace asio = boost::asio;

namespace {

constexpr auto no_throw = asio::as_tuple(asio::use_awaitable);

server_options tls_server(const pem_credentials& creds) {
    server_options o;
    o.tls_cert_pem = creds.certificate;
    o.tls_key_pem = creds.private_key;
    return o;
}

cql::cluster_config tls_client(const server& srv, const certificate_authority& trusted) {
    auto cfg = config_for(srv);
    cfg.tls.enabled = true;
    cfg.tls.ca_pem = trusted.certificate_pem();
    cfg.connect_timeout = 10s;  // a refusal must be told at once, long before this
    return cfg;
}

struct refusal {
    std::error_code ec;
    std::string message;
    std::chrono::milliseconds took{0};
};

refusal connect_refused(const cql::cluster_config& cfg) {
    refusal out;
    run(
        cfg,
        [&](cql::cluster& cluster) -> asio::awaitable<void> {
            cql::diagnostics diag;
            const auto t0 = clock::now();
            auto [ec] = co_await cluster.async_connect(diag, no_throw);
            out.took = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - t0);
            out.ec = ec;
            out.message = diag.message;
        },
        false);
    return out;
}

void next_connect_works(cql::cluster_config cfg, const certificate_authority& right_ca) {
    cfg.tls.ca_pem = right_ca.certificate_pem();
    run(cfg, [](cql::cluster& cluster) -> asio::awaitable<void> {
        auto next = co_await probe(cluster.session());
        CHECK_FALSE(next.ec);
    });
}

bool contains(const std::string& text, const char* part) {
    return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("refused certificates fail the connect at once with tls_handshake_failed") {
    certificate_authority ca("hostile CA");
    certificate_authority stranger("some other CA");
    SECTION("signed by a CA the client does not trust") {
        server srv(tls_server(ca.issue("node", "IP:127.0.0.1")));
        auto cfg = tls_client(srv, stranger);
        auto r = connect_refused(cfg);
        INFO(r.ec.message() << ": " << r.message);
        CHECK(r.ec == cql::errc::tls_handshake_failed);
        CHECK(contains(r.message, srv.contact_point().c_str()));
        CHECK(r.took < 5s);
        next_connect_works(cfg, ca);
    }
    SECTION("expired") {
        server srv(tls_server(ca.issue("node", "IP:127.0.0.1", -48h, -24h)));
        auto r = connect_refused(tls_client(srv, ca));
        INFO(r.ec.message() << ": " << r.message);
        CHECK(r.ec == cql::errc::tls_handshake_failed);
        CHECK(r.took < 5s);
    }
    SECTION("for another name") {
        server srv(tls_server(ca.issue("node", "DNS:other.example")));
        auto cfg = tls_client(srv, ca);
        cfg.tls.server_name = "cassandra.example";
        auto r = connect_refused(cfg);
        INFO(r.ec.message() << ": " << r.message);
        CHECK(r.ec == cql::errc::tls_handshake_failed);
        CHECK(r.took < 5s);
    }
}

TEST_CASE("a TLS refusal names OpenSSL's reason", "[fails-today]") {
    certificate_authority ca("hostile CA");
    certificate_authority stranger("some other CA");
    SECTION("untrusted") {
        server srv(tls_server(ca.issue("node", "IP:127.0.0.1")));
        auto r = connect_refused(tls_client(srv, stranger));
        INFO(r.message);
        CHECK(contains(r.message, X509_verify_cert_error_string(
                                      X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY)));
    }
    SECTION("expired") {
        server srv(tls_server(ca.issue("node", "IP:127.0.0.1", -48h, -24h)));
        auto r = connect_refused(tls_client(srv, ca));
        INFO(r.message);
        CHECK(contains(r.message, X509_verify_cert_error_string(X509_V_ERR_CERT_HAS_EXPIRED)));
    }
    SECTION("wrong name") {
        server srv(tls_server(ca.issue("node", "DNS:other.example")));
        auto cfg = tls_client(srv, ca);
        cfg.tls.server_name = "cassandra.example";
        auto r = connect_refused(cfg);
        INFO(r.message);
        CHECK(contains(r.message, X509_verify_cert_error_string(X509_V_ERR_HOSTNAME_MISMATCH)));
    }
}

TEST_CASE("TLS on one side only") {
    certificate_authority ca("hostile CA");
    SECTION("a plain client at a TLS server") {
        server srv(tls_server(ca.issue("node", "IP:127.0.0.1")));
        auto cfg = config_for(srv);
        cfg.connect_timeout = 10s;
        auto r = connect_refused(cfg);
        INFO(r.ec.message() << ": " << r.message);
        CHECK(r.ec == cql::errc::connection_closed);
        CHECK(r.took < 5s);
    }
    SECTION("a TLS client at a plain server") {
        server srv;
        auto r = connect_refused(tls_client(srv, ca));
        INFO(r.ec.message() << ": " << r.message);
        CHECK(r.ec == cql::errc::tls_handshake_failed);
        CHECK(r.took < 5s);
    }
}
