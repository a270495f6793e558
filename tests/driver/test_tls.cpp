// TLS: the connection verifies the server's certificate chain and host name by default,
// trusts a custom CA given as PEM, and fails the handshake with a clear error otherwise.
// The test makes its own self-signed certificate (for 127.0.0.1 and localhost).
#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <boost/asio/io_context.hpp>

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

namespace {

struct pem_pair {
    std::string cert;
    std::string key;
};

std::string bio_string(BIO* bio) {
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<std::size_t>(n));
}

pem_pair make_self_signed() {
    pem_pair out;
    EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    REQUIRE(key);
    X509* x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("cql-asio test"), -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
    X509_EXTENSION* san =
        X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
    REQUIRE(san);
    X509_add_ext(x, san, -1);
    X509_EXTENSION_free(san);
    REQUIRE(X509_sign(x, key, EVP_sha256()) > 0);

    BIO* cb = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(cb, x);
    out.cert = bio_string(cb);
    BIO_free(cb);
    BIO* kb = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(kb, key, nullptr, nullptr, 0, nullptr, nullptr);
    out.key = bio_string(kb);
    BIO_free(kb);
    X509_free(x);
    EVP_PKEY_free(key);
    return out;
}

std::error_code connect(asio::io_context& io, const std::shared_ptr<connection>& c) {
    std::error_code result = errc::internal_error;
    bool done = false;
    c->async_connect([&](cql::error_code ec) {
        result = ec;
        done = true;
    });
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!done && std::chrono::steady_clock::now() < deadline)
        if (io.run_one_until(deadline) == 0 && io.stopped()) break;
    io.restart();
    return result;
}

}  // namespace

TEST_CASE("TLS with a custom CA, peer and host name verified") {
    static const pem_pair pem = make_self_signed();
    fake_server_options o;
    o.tls_cert_pem = pem.cert;
    o.tls_key_pem = pem.key;
    fake_server server(o);
    asio::io_context io;
    cql::detail::connection_config cfg;
    cfg.port = server.port();
    cfg.heartbeat_interval = 0ms;
    cfg.tls.enabled = true;
    cfg.tls.ca_pem = pem.cert;

    SECTION("the certificate names 127.0.0.1: handshake and a query over TLS") {
        auto c = connection::create(io.get_executor(), cfg);
        REQUIRE(connect(io, c) == std::error_code{});
        CHECK(c->version() == p::protocol_version::v5);
        std::string got;
        p::query_request q;
        q.query = "over tls";
        c->async_request(q, [&](std::error_code ec, response r) {
            CHECK_FALSE(ec);
            p::response m;
            REQUIRE_FALSE(r.decode(m));
            got = std::string(std::get<p::set_keyspace_result>(m).keyspace);
        });
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        while (got.empty() && std::chrono::steady_clock::now() < deadline)
            io.run_one_until(deadline);
        CHECK(got == "over tls");
        c->close();
    }
    SECTION("a name the certificate does not carry fails verification") {
        cfg.tls.server_name = "cassandra.example.com";
        auto c = connection::create(io.get_executor(), cfg);
        CHECK(connect(io, c) == errc::tls_handshake_failed);
        CHECK(c->connect_diagnostics().message.find("certificate verify failed") !=
              std::string::npos);
    }
    SECTION("the name check can be switched off") {
        cfg.tls.server_name = "cassandra.example.com";
        cfg.tls.verify_host_name = false;
        auto c = connection::create(io.get_executor(), cfg);
        CHECK(connect(io, c) == std::error_code{});
        c->close();
    }
    SECTION("an untrusted certificate fails verification") {
        cfg.tls.ca_pem.clear();  // system CAs only
        auto c = connection::create(io.get_executor(), cfg);
        CHECK(connect(io, c) == errc::tls_handshake_failed);
    }
    SECTION("a plain-text client against a TLS server does not hang") {
        cfg.tls.enabled = false;
        cfg.connect_timeout = 1000ms;
        auto c = connection::create(io.get_executor(), cfg);
        auto ec = connect(io, c);
        CHECK(ec);
        CHECK_FALSE(c->is_ready());
    }
}
