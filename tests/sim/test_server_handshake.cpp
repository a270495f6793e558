// cqlsim on the wire: OPTIONS, STARTUP in v4 and v5, LZ4 (frame bodies and segments),
// version negotiation errors, password authentication, TLS.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "test_server_util.hpp"

using namespace srvtest;

namespace {

std::string find_option(const proto::supported_response& s, std::string_view key) {
    auto* v = s.find(key);
    REQUIRE(v);
    std::string out;
    for (auto x : *v)
        out += std::string(x) + ",";
    return out;
}

// A self-signed certificate and key (PEM), made with the OpenSSL API at test time.
std::pair<std::string, std::string> self_signed() {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    REQUIRE(key);
    X509* x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
    X509_set_issuer_name(x, name);
    REQUIRE(X509_sign(x, key, EVP_sha256()) > 0);
    auto to_string = [](BIO* b) {
        char* data = nullptr;
        long n = BIO_get_mem_data(b, &data);
        std::string s(data, static_cast<std::size_t>(n));
        BIO_free(b);
        return s;
    };
    BIO* cb = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(cb, x);
    BIO* kb = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(kb, key, nullptr, nullptr, 0, nullptr, nullptr);
    X509_free(x);
    EVP_PKEY_free(key);
    return {to_string(cb), to_string(kb)};
}

proto::byte_buffer raw_header(std::uint8_t version, bool short_header, std::int16_t stream,
                              std::uint8_t op) {
    proto::byte_buffer b{version, 0};
    if (short_header) {
        b.push_back(static_cast<std::uint8_t>(stream));
    } else {
        b.push_back(static_cast<std::uint8_t>(static_cast<std::uint16_t>(stream) >> 8));
        b.push_back(static_cast<std::uint8_t>(stream));
    }
    b.insert(b.end(), {op, 0, 0, 0, 0});
    return b;
}

}  // namespace

TEST_CASE("OPTIONS answers SUPPORTED with versions, CQL version and lz4", "[server]") {
    cqlsim::cluster c(local_config());
    c.start();
    for (auto v : {proto::protocol_version::v4, proto::protocol_version::v5}) {
        client cl;
        cl.connect(c);
        cl.version = v;
        auto r = cl.request(proto::options_request{}, 7);
        CHECK(r.header.version == v);
        CHECK(r.header.is_response);
        auto& s = r.as<proto::supported_response>();
        CHECK(find_option(s, "PROTOCOL_VERSIONS") == "3/v3,4/v4,5/v5,");
        CHECK(find_option(s, "CQL_VERSION") == "3.4.5,");
        CHECK(find_option(s, "COMPRESSION") == "lz4,");
    }
}

TEST_CASE("v4 and v3 handshakes, then a query", "[server]") {
    cqlsim::cluster c(local_config());
    c.start();
    for (auto v : {proto::protocol_version::v3, proto::protocol_version::v4}) {
        client cl;
        cl.connect(c);
        auto r = cl.handshake(v);
        CHECK(r.header.op == proto::opcode::ready);
        auto q = cl.query("SELECT cluster_name, data_center FROM system.local", 3);
        CHECK(q.header.version == v);
        auto& rows = q.rows();
        REQUIRE(rows.row_count == 1);
        auto row = *rows.rows().begin();
        CHECK(as_text(row[0]) == "cqlsim");
        CHECK(as_text(row[1]) == "dc1");
        // The metadata carries a global table spec (one table).
        CHECK(rows.metadata.global_tables_spec);
        CHECK(rows.metadata.global_spec.keyspace == "system");
        CHECK(rows.metadata.global_spec.table == "local");
    }
}

TEST_CASE("v5: READY unframed, then segments", "[server]") {
    cqlsim::cluster c(local_config());
    c.start();
    client cl;
    cl.connect(c);
    auto r = cl.handshake(proto::protocol_version::v5);
    CHECK(r.header.op == proto::opcode::ready);
    // The READY on the wire is a plain 9-byte frame header with an empty body.
    REQUIRE(cl.wire().size() == 9);
    CHECK(cl.wire()[0] == 0x85);
    auto q = cl.query("SELECT key FROM system.local", 12);
    CHECK(q.header.version == proto::protocol_version::v5);
    REQUIRE(q.rows().row_count == 1);
    CHECK(as_text((*q.rows().rows().begin())[0]) == "local");
    // What followed the READY is one self-contained segment with valid CRCs.
    auto rest = proto::bytes_view(cl.wire()).subspan(9);
    auto s = proto::split_segment(rest, proto::compression_algorithm::none);
    REQUIRE_FALSE(s.error);
    CHECK(s.consumed == rest.size());
    CHECK(s.header.self_contained);
}

TEST_CASE("v5 with LZ4 segments, large results spread over segments", "[server]") {
    cqlsim::cluster c(local_config());
    c.start();
    client cl;
    cl.connect(c);
    REQUIRE(cl.handshake(proto::protocol_version::v5, true).header.op == proto::opcode::ready);
    cl.query(
        "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', "
        "'replication_factor': 1}");
    cl.query("CREATE TABLE ks.big (k int, c int, v text, PRIMARY KEY (k, c))");
    std::string text(1000, 'x');
    for (int i = 0; i < 300; ++i)
        cl.query("INSERT INTO ks.big (k, c, v) VALUES (1, " + std::to_string(i) + ", '" + text +
                 "')");
    // ~300 KB of rows: more than one segment (128 KiB max payload).
    auto r = cl.query("SELECT * FROM ks.big WHERE k = 1", 5);
    REQUIRE(r.rows().row_count == 300);
    std::size_t n = 0;
    for (auto row : r.rows().rows())
        n += row[2].data.size();
    CHECK(n == 300 * 1000);
}

TEST_CASE("v4 with LZ4: compressed frame bodies from the READY on", "[server]") {
    cqlsim::cluster c(local_config());
    c.start();
    client cl;
    cl.connect(c);
    auto r = cl.handshake(proto::protocol_version::v4, true);
    CHECK(r.header.op == proto::opcode::ready);
    // Cassandra 4.0 compresses the answer to STARTUP already (its empty body too:
    // tests/fixtures/cassandra-4.0.13-lz4/conn00.server.bin).
    CHECK(r.header.has(proto::frame_flags::compression));
    auto q = cl.query("SELECT key FROM system.local", 1);
    CHECK(q.header.has(proto::frame_flags::compression));
    REQUIRE(q.rows().row_count == 1);
}

TEST_CASE("unknown compression is refused", "[server]") {
    cqlsim::cluster c(local_config());
    c.start();
    client cl;
    cl.connect(c);
    std::vector<proto::string_pair> opts{{"CQL_VERSION", "3.0.0"}, {"COMPRESSION", "snappy"}};
    auto r = cl.request(proto::startup_request{opts});
    CHECK(r.error().code == proto::error_code::protocol_error);
    CHECK(r.error().message == "Unknown compression algorithm: snappy");
}

TEST_CASE("unsupported protocol versions get Cassandra's error so drivers negotiate down",
          "[server]") {
    cqlsim::cluster c(local_config());
    c.start();
    SECTION("v6: answered in v6") {
        client cl;
        cl.connect(c);
        cl.send_raw(raw_header(0x06, false, 0x0102, 0x05));
        REQUIRE(cl.wait_closed());
        const auto& w = cl.wire();
        REQUIRE(w.size() > 9);
        CHECK(w[0] == 0x86);
        CHECK(w[2] == 0x01);
        CHECK(w[3] == 0x02);
        CHECK(w[4] == 0x00);  // ERROR
        proto::byte_reader rd(proto::bytes_view(w).subspan(9));
        CHECK(rd.i32() == 0x000A);
        CHECK(rd.string() ==
              "Invalid or unsupported protocol version (6); supported versions are (3/v3, 4/v4, "
              "5/v5)");
    }
    SECTION("v2: answered in v2 with its 8-byte header") {
        client cl;
        cl.connect(c);
        cl.send_raw(raw_header(0x02, true, 5, 0x05));
        REQUIRE(cl.wait_closed());
        const auto& w = cl.wire();
        REQUIRE(w.size() > 8);
        CHECK(w[0] == 0x82);
        CHECK(w[2] == 5);
        CHECK(w[3] == 0x00);
        proto::byte_reader rd(proto::bytes_view(w).subspan(8));
        CHECK(rd.i32() == 0x000A);
        CHECK(rd.string().find("Invalid or unsupported protocol version (2)") == 0);
    }
    SECTION("DSE v2 (0x42): answered in v4") {
        client cl;
        cl.connect(c);
        cl.send_raw(raw_header(0x42, false, 0, 0x05));
        REQUIRE(cl.wait_closed());
        REQUIRE(cl.wire().size() > 9);
        CHECK(cl.wire()[0] == 0x84);
    }
}

TEST_CASE("requests before STARTUP are refused", "[server]") {
    cqlsim::cluster c(local_config());
    c.start();
    client cl;
    cl.connect(c);
    auto r = cl.query("SELECT * FROM system.local", 4);
    CHECK(r.error().code == proto::error_code::protocol_error);
    CHECK(r.error().message.find("expecting STARTUP") != std::string_view::npos);
}

TEST_CASE("password authentication", "[server]") {
    auto cfg = local_config();
    cfg.users = {{"alice", "secret"}};
    cqlsim::cluster c(cfg);
    c.start();
    for (auto v : {proto::protocol_version::v4, proto::protocol_version::v5}) {
        SECTION("AUTHENTICATE names the PasswordAuthenticator") {
            client cl;
            cl.connect(c);
            cl.version = v;
            std::vector<proto::string_pair> opts{{"CQL_VERSION", "3.0.0"}};
            auto r = cl.request(proto::startup_request{opts});
            CHECK(r.as<proto::authenticate_response>().authenticator ==
                  "org.apache.cassandra.auth.PasswordAuthenticator");
        }
        SECTION("right password") {
            client cl;
            cl.connect(c);
            auto r = cl.handshake(v, false, "alice", "secret");
            CHECK(r.header.op == proto::opcode::auth_success);
            CHECK(cl.query("SELECT key FROM system.local").rows().row_count == 1);
        }
        SECTION("wrong password") {
            client cl;
            cl.connect(c);
            auto r = cl.handshake(v, false, "alice", "nope");
            CHECK(r.error().code == proto::error_code::bad_credentials);
            CHECK(r.error().message == "Provided username alice and/or password are incorrect");
        }
        SECTION("queries before authentication are refused") {
            client cl;
            cl.connect(c);
            cl.version = v;
            std::vector<proto::string_pair> opts{{"CQL_VERSION", "3.0.0"}};
            cl.request(proto::startup_request{opts});
            // Still unframed from the client's side in v4; v5 would need segments, so v4 only.
            if (v == proto::protocol_version::v4) {
                auto q = cl.query("SELECT key FROM system.local", 2);
                CHECK(q.error().code == proto::error_code::protocol_error);
            }
        }
    }
}

TEST_CASE("TLS with a self-signed certificate", "[server]") {
    auto [cert, key] = self_signed();
    auto cfg = local_config();
    cfg.tls = cqlsim::tls_config{cert, key, {}, {}};
    cqlsim::cluster c(cfg);
    c.start();
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    ctx.add_certificate_authority(asio::buffer(cert));
    ctx.set_verify_mode(asio::ssl::verify_peer);
    for (auto v : {proto::protocol_version::v4, proto::protocol_version::v5}) {
        client cl;
        auto e = c.endpoint(0);
        cl.connect(e.address, e.port, &ctx);
        REQUIRE(cl.handshake(v, v == proto::protocol_version::v5).header.op ==
                proto::opcode::ready);
        CHECK(cl.query("SELECT key FROM system.local", 9).rows().row_count == 1);
    }
}
