// TLS refusals: a certificate from an unknown CA, an expired one, one for another name, a
// plain client at a TLS server and a TLS client at a plain one. Each fails the connect at
// once with errc::tls_handshake_failed (or the connection's end), never at the connect
// timeout, and with a trusted certificate the next connect works. The message must carry
// OpenSSL's reason (untrusted, expired, wrong name), not only "certificate verify failed".
// Certificates are made at test time (certificates.hpp).
#include <catch2/catch.hpp>

#include <openssl/x509_vfy.h>

#include <boost/asio/awaitable.hpp>

#include "certificates.hpp"
#include "hostile_test.hpp"

using namespace cql::hostile;
namespace asio = boost::asio;

namespace {

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

void next_connect_works(cql::cluster_config cfg, const certificate_authority& right_ca) {
    cfg.tls.ca_pem = right_ca.certificate_pem();
    run(cfg, [](cql::cluster& cluster) -> asio::awaitable<void> {
        auto next = co_await probe(cluster.session());
        CHECK_FALSE(next.ec);
    });
}

}  // namespace

TEST_CASE("refused certificates fail the connect at once with tls_handshake_failed") {
    certificate_authority ca("hostile CA");
    certificate_authority stranger("some other CA");
    SECTION("signed by a CA the client does not trust") {
        server srv(tls_server(ca.issue("node", "IP:127.0.0.1")));
        auto cfg = tls_client(srv, stranger);
        auto r = connect_once(cfg);
        INFO(r.ec.message() << ": " << r.diag.message);
        CHECK(r.ec == cql::errc::tls_handshake_failed);
        CHECK(contains(r.diag.message, srv.contact_point()));
        CHECK(r.took < 5s);
        next_connect_works(cfg, ca);
    }
    SECTION("expired") {
        server srv(tls_server(ca.issue("node", "IP:127.0.0.1", -48h, -24h)));
        auto r = connect_once(tls_client(srv, ca));
        INFO(r.ec.message() << ": " << r.diag.message);
        CHECK(r.ec == cql::errc::tls_handshake_failed);
        CHECK(r.took < 5s);
    }
    SECTION("for another name") {
        server srv(tls_server(ca.issue("node", "DNS:other.example")));
        auto cfg = tls_client(srv, ca);
        cfg.tls.server_name = "cassandra.example";
        auto r = connect_once(cfg);
        INFO(r.ec.message() << ": " << r.diag.message);
        CHECK(r.ec == cql::errc::tls_handshake_failed);
        CHECK(r.took < 5s);
    }
}

TEST_CASE("a TLS refusal names OpenSSL's reason") {
    certificate_authority ca("hostile CA");
    certificate_authority stranger("some other CA");
    SECTION("untrusted") {
        server srv(tls_server(ca.issue("node", "IP:127.0.0.1")));
        auto r = connect_once(tls_client(srv, stranger));
        INFO(r.diag.message);
        CHECK(contains(r.diag.message, X509_verify_cert_error_string(
                                           X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY)));
    }
    SECTION("expired") {
        server srv(tls_server(ca.issue("node", "IP:127.0.0.1", -48h, -24h)));
        auto r = connect_once(tls_client(srv, ca));
        INFO(r.diag.message);
        CHECK(contains(r.diag.message, X509_verify_cert_error_string(X509_V_ERR_CERT_HAS_EXPIRED)));
    }
    SECTION("wrong name") {
        server srv(tls_server(ca.issue("node", "DNS:other.example")));
        auto cfg = tls_client(srv, ca);
        cfg.tls.server_name = "cassandra.example";
        auto r = connect_once(cfg);
        INFO(r.diag.message);
        CHECK(
            contains(r.diag.message, X509_verify_cert_error_string(X509_V_ERR_HOSTNAME_MISMATCH)));
    }
}

TEST_CASE("TLS on one side only") {
    certificate_authority ca("hostile CA");
    SECTION("a plain client at a TLS server") {
        server srv(tls_server(ca.issue("node", "IP:127.0.0.1")));
        auto cfg = config_for(srv);
        cfg.connect_timeout = 10s;
        auto r = connect_once(cfg);
        INFO(r.ec.message() << ": " << r.diag.message);
        CHECK(r.ec == cql::errc::connection_closed);
        CHECK(r.took < 5s);
    }
    SECTION("a TLS client at a plain server") {
        server srv;
        auto r = connect_once(tls_client(srv, ca));
        INFO(r.ec.message() << ": " << r.diag.message);
        CHECK(r.ec == cql::errc::tls_handshake_failed);
        CHECK(r.took < 5s);
    }
}
