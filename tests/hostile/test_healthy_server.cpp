// The hostile server before it misbehaves: every handshake it offers (v4 and v5, with and
// without LZ4, PLAIN authentication, TLS) gets the driver connected, and a request works.
// The other tests start from here, so a failure here says the server, not the driver, is
// broken.
#include <catch2/catch.hpp>

#include <boost/asio/awaitable.hpp>

#include "certificates.hpp"
#include "hostile_test.hpp"

using namespace cql::hostile;
namespace p = cql::protocol;

namespace {

void connect_and_probe(server& srv, cql::cluster_config cfg, p::protocol_version expected) {
    run(cfg, [&](cql::cluster& cluster) -> boost::asio::awaitable<void> {
        CHECK(cluster.version() == expected);
        REQUIRE(cluster.hosts().size() == 1);
        CHECK(cluster.hosts().front()->datacenter() == "dc1");
        auto out = co_await probe(cluster.session());
        INFO(out.ec.message() << ": " << out.diag.message);
        REQUIRE_FALSE(out.ec);
        CHECK(out.res.size() == 1);
        CHECK_FALSE(first_text(out.res).empty());
    });
    // The control connection and one pool connection shook hands (a v5 attempt refused
    // by a v4-only server did not).
    std::size_t ready = 0;
    for (auto& c : srv.connections())
        ready += c->ready() ? 1 : 0;
    CHECK(ready >= 2);
}

}  // namespace

TEST_CASE("v5 and v4, with and without LZ4") {
    auto version = GENERATE(p::protocol_version::v4, p::protocol_version::v5);
    auto compression = GENERATE(cql::compression::none, cql::compression::lz4);
    server srv;
    auto cfg = config_for(srv);
    cfg.version = version;
    cfg.compression = compression;
    connect_and_probe(srv, cfg, version);
    for (auto& c : srv.connections())
        CHECK(c->compressed() == (compression == cql::compression::lz4));
}

TEST_CASE("v5 negotiated down to v4") {
    server_options o;
    o.versions = {p::protocol_version::v4};
    server srv(o);
    connect_and_probe(srv, config_for(srv), p::protocol_version::v4);
}

TEST_CASE("PLAIN authentication") {
    server_options o;
    o.credentials = {{"cassandra", "secret"}};
    server srv(o);
    auto cfg = config_for(srv);
    cfg.auth = cql::plain_text_auth("cassandra", "secret");
    connect_and_probe(srv, cfg, p::protocol_version::v5);
}

TEST_CASE("TLS with a trusted certificate") {
    certificate_authority ca("hostile test CA");
    auto creds = ca.issue("hostile server", "IP:127.0.0.1,DNS:localhost");
    server_options o;
    o.tls_cert_pem = creds.certificate;
    o.tls_key_pem = creds.private_key;
    server srv(o);
    auto cfg = config_for(srv);
    cfg.tls.enabled = true;
    cfg.tls.ca_pem = ca.certificate_pem();
    connect_and_probe(srv, cfg, p::protocol_version::v5);
}
