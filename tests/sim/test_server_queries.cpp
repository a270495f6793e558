// cqlsim on the wire: queries, prepared statements, paging, batches, pipelining, events,
// and system.local / system.peers answered per node.
#include <set>
#include <thread>

#include "test_server_util.hpp"

using namespace srvtest;

namespace {

void make_schema(client& cl) {
    REQUIRE(cl.query("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', "
                     "'replication_factor': 1}")
                .header.op == proto::opcode::result);
    cl.query("CREATE TABLE ks.t (k int, c int, v text, PRIMARY KEY (k, c))");
}

}  // namespace

TEST_CASE("paging over the wire, with paging state", "[server]") {
    cqlsim::cluster c(local_config());
    c.start();
    for (auto v : {proto::protocol_version::v4, proto::protocol_version::v5}) {
        client cl;
        cl.connect(c);
        cl.handshake(v);
        if (v == proto::protocol_version::v4) make_schema(cl);
        if (v == proto::protocol_version::v4)
            for (int i = 0; i < 25; ++i)
                cl.query("INSERT INTO ks.t (k, c, v) VALUES (1, " + std::to_string(i) + ", 'v" +
                         std::to_string(i) + "')");
        std::vector<int> seen;
        std::optional<proto::byte_buffer> state;
        int pages = 0;
        do {
            proto::query_parameters p;
            p.page_size = 10;
            if (state) p.paging_state = proto::bytes_view(*state);
            auto r = cl.query("SELECT c, v FROM ks.t WHERE k = 1", 2, p);
            auto& rows = r.rows();
            for (auto row : rows.rows())
                seen.push_back(as_int(row[0]));
            ++pages;
            if (rows.metadata.paging_state)
                state.emplace(rows.metadata.paging_state->begin(),
                              rows.metadata.paging_state->end());
            else
                state.reset();
        } while (state && pages < 10);
        CHECK(pages == 3);
        REQUIRE(seen.size() == 25);
        for (int i = 0; i < 25; ++i)
            CHECK(seen[static_cast<std::size_t>(i)] == i);
    }
}

TEST_CASE("prepared statements: bind, skip_metadata, unprepared id", "[server]") {
    cqlsim::cluster c(local_config());
    c.start();
    client cl;
    cl.connect(c);
    cl.handshake(proto::protocol_version::v4);
    make_schema(cl);
    auto ins = cl.request(prepare("INSERT INTO ks.t (k, c, v) VALUES (?, ?, ?)"), 1);
    auto& pi = ins.as<proto::prepared_result>();
    CHECK(pi.id.size() == 16);
    REQUIRE(pi.metadata.columns.size() == 3);
    CHECK(pi.metadata.pk_indexes == std::vector<std::uint16_t>{0});
    CHECK(pi.metadata.columns[2].name == "v");
    CHECK(pi.result.no_metadata);
    proto::byte_buffer id(pi.id.begin(), pi.id.end());

    auto k = int_bytes(7), cc = int_bytes(1);
    std::string text = "seven";
    proto::value_view vals[] = {proto::value_view::of(k), proto::value_view::of(cc),
                                proto::value_view::of(proto::as_bytes(text))};
    proto::execute_request ex;
    ex.id = id;
    ex.params.values = vals;
    CHECK(cl.request(ex, 2).header.op == proto::opcode::result);

    auto sel = cl.request(prepare("SELECT v FROM ks.t WHERE k = ?"), 3);
    auto& ps = sel.as<proto::prepared_result>();
    REQUIRE(ps.result.columns.size() == 1);
    CHECK(ps.result.columns[0].name == "v");
    proto::byte_buffer sid(ps.id.begin(), ps.id.end());
    proto::value_view kv[] = {proto::value_view::of(k)};
    proto::execute_request es;
    es.id = sid;
    es.params.values = kv;
    es.params.skip_metadata = true;
    auto r = cl.request(es, 4);
    CHECK(r.rows().metadata.no_metadata);
    CHECK(r.rows().metadata.column_count == 1);
    REQUIRE(r.rows().row_count == 1);
    CHECK(as_text((*r.rows().rows().begin())[0]) == "seven");

    proto::byte_buffer unknown(16, 0xAB);
    proto::execute_request eu;
    eu.id = unknown;
    auto u = cl.request(eu, 5);
    CHECK(u.error().code == proto::error_code::unprepared);
    auto& info = std::get<proto::unprepared_info>(u.error().details);
    CHECK(proto::byte_buffer(info.id.begin(), info.id.end()) == unknown);
}

TEST_CASE("v5: result metadata id and Metadata_changed", "[server]") {
    cqlsim::cluster c(local_config());
    c.start();
    client cl;
    cl.connect(c);
    cl.handshake(proto::protocol_version::v5);
    make_schema(cl);
    cl.query("INSERT INTO ks.t (k, c, v) VALUES (1, 1, 'a')");
    auto p = cl.request(prepare("SELECT * FROM ks.t WHERE k = 1"), 1);
    auto& pr = p.as<proto::prepared_result>();
    REQUIRE(pr.result_metadata_id.size() == 16);
    proto::byte_buffer id(pr.id.begin(), pr.id.end());
    proto::byte_buffer md(pr.result_metadata_id.begin(), pr.result_metadata_id.end());

    proto::execute_request ex;
    ex.id = id;
    ex.result_metadata_id = md;
    ex.params.skip_metadata = true;
    auto r1 = cl.request(ex, 2);
    CHECK(r1.rows().metadata.no_metadata);
    CHECK_FALSE(r1.rows().metadata.new_metadata_id);

    cl.query("ALTER TABLE ks.t ADD w int");
    auto r2 = cl.request(ex, 3);
    auto& m2 = r2.rows().metadata;
    CHECK_FALSE(m2.no_metadata);
    REQUIRE(m2.new_metadata_id);
    CHECK(proto::byte_buffer(m2.new_metadata_id->begin(), m2.new_metadata_id->end()) != md);
    CHECK(m2.columns.size() == 4);
}

TEST_CASE("batch over the wire", "[server]") {
    cqlsim::cluster c(local_config());
    c.start();
    client cl;
    cl.connect(c);
    cl.handshake(proto::protocol_version::v4);
    make_schema(cl);
    auto p = cl.request(prepare("INSERT INTO ks.t (k, c, v) VALUES (2, ?, 'p')"), 1);
    proto::byte_buffer id(p.as<proto::prepared_result>().id.begin(),
                          p.as<proto::prepared_result>().id.end());
    auto one = int_bytes(1);
    proto::value_view v1[] = {proto::value_view::of(one)};
    proto::batch_statement stmts[] = {
        proto::batch_statement::prepared(id, v1),
        proto::batch_statement::simple("INSERT INTO ks.t (k, c, v) VALUES (2, 2, 's')"),
    };
    proto::batch_request b;
    b.statements = stmts;
    CHECK(cl.request(b, 2).header.op == proto::opcode::result);
    auto r = cl.query("SELECT c, v FROM ks.t WHERE k = 2", 3);
    REQUIRE(r.rows().row_count == 2);
}

TEST_CASE("pipelined requests on many streams, answered in one go", "[server]") {
    cqlsim::cluster c(local_config());
    c.start();
    client cl;
    cl.connect(c);
    cl.handshake(proto::protocol_version::v5);
    proto::byte_buffer all;
    for (std::int16_t s = 1; s <= 200; ++s) {
        auto b = cl.encode(proto::query_request{"SELECT key FROM system.local", {}}, s);
        all.insert(all.end(), b.begin(), b.end());
    }
    cl.send_raw(all);
    std::set<std::int16_t> streams;
    for (int i = 0; i < 200; ++i) {
        auto r = cl.next();
        REQUIRE(r);
        CHECK(r->header.op == proto::opcode::result);
        streams.insert(r->header.stream);
    }
    CHECK(streams.size() == 200);
    CHECK(*streams.begin() == 1);
    CHECK(*streams.rbegin() == 200);
}

TEST_CASE("USE and errors over the wire", "[server]") {
    cqlsim::cluster c(local_config());
    c.start();
    client cl;
    cl.connect(c);
    cl.handshake(proto::protocol_version::v4);
    make_schema(cl);
    auto u = cl.query("USE ks", 1);
    CHECK(u.as<proto::set_keyspace_result>().keyspace == "ks");
    CHECK(cl.query("SELECT * FROM t", 2).rows().row_count == 0);
    auto e = cl.query("SELEC nothing", 3);
    CHECK(e.error().code == proto::error_code::syntax_error);
    auto ae = cl.query("CREATE TABLE t (k int PRIMARY KEY)", 4);
    CHECK(ae.error().code == proto::error_code::already_exists);
    auto& info = std::get<proto::already_exists_info>(ae.error().details);
    CHECK(info.keyspace == "ks");
    CHECK(info.table == "t");
}

TEST_CASE("SCHEMA_CHANGE events reach registered connections of every node", "[server]") {
    cqlsim::cluster c(local_config(2));
    c.start();
    client watcher;
    watcher.connect(c, 1);
    watcher.handshake(proto::protocol_version::v5);
    const std::string_view types[] = {"SCHEMA_CHANGE", "STATUS_CHANGE", "TOPOLOGY_CHANGE"};
    auto reg = watcher.request(proto::register_request{types}, 1);
    CHECK(reg.header.op == proto::opcode::ready);

    client cl;
    cl.connect(c, 0);
    cl.handshake(proto::protocol_version::v4);
    auto r = cl.query(
        "CREATE KEYSPACE ev WITH replication = {'class': 'SimpleStrategy', "
        "'replication_factor': 1}");
    auto& sc = r.as<proto::schema_change_result>();
    CHECK(sc.change.change == proto::schema_change_type::created);
    CHECK(sc.change.target == proto::schema_change_target::keyspace);

    auto ev = watcher.next();
    REQUIRE(ev);
    CHECK(ev->header.stream == -1);
    auto& e = ev->as<proto::schema_change_event>();
    CHECK(e.change.change == proto::schema_change_type::created);
    CHECK(e.change.target == proto::schema_change_target::keyspace);
    CHECK(e.change.keyspace == "ev");

    cl.query("CREATE TABLE ev.t (k int PRIMARY KEY)");
    auto ev2 = watcher.next();
    REQUIRE(ev2);
    auto& e2 = ev2->as<proto::schema_change_event>();
    CHECK(e2.change.target == proto::schema_change_target::table);
    CHECK(e2.change.name == "t");
    // The connection that did not register gets no event.
    CHECK_FALSE(cl.next(200ms, false));
}

TEST_CASE("each node answers system.local for itself and lists the others in peers", "[server]") {
    cqlsim::cluster_config cfg;
    cfg.datacenters = cqlsim::parse_datacenters("dc1:2,dc2:1");
    cfg.base_address = "127.0.0.1";
    cfg.port = 0;
    cfg.vnodes = 4;
    cqlsim::cluster c(cfg);
    c.start();
    REQUIRE(c.size() == 3);
    CHECK(c.endpoint(0).address == "127.0.0.1");
    CHECK(c.endpoint(1).address == "127.0.0.2");
    CHECK(c.endpoint(2).address == "127.0.0.3");
    CHECK(c.endpoint(2).datacenter == "dc2");
    for (std::size_t n = 0; n < 3; ++n) {
        client cl;
        cl.connect(c, n);
        cl.handshake(proto::protocol_version::v4);
        auto l = cl.query("SELECT data_center, rpc_address, tokens FROM system.local", 1);
        REQUIRE(l.rows().row_count == 1);
        auto row = *l.rows().rows().begin();
        CHECK(as_text(row[0]) == c.endpoint(n).datacenter);
        CHECK(row[1].data.size() == 4);
        CHECK(row[1].data[3] == n + 1);
        proto::byte_reader tr(row[2].data);
        CHECK(tr.i32() == 4);  // four vnode tokens
        auto p = cl.query("SELECT peer, data_center FROM system.peers", 2);
        CHECK(p.rows().row_count == 2);
        for (auto pr : p.rows().rows())
            CHECK(pr[0].data[3] != n + 1);
    }
}

static bool is_loopback(proto::value_view v) {
    return v.data.size() == 4 && v.data[0] == 127 && v.data[1] == 0 && v.data[2] == 0 &&
           v.data[3] == 1;
}

TEST_CASE("single address: peers_v2 tells the nodes apart by port", "[server]") {
    // All three nodes on 127.0.0.1 with their own native ports, like a multi-port setup:
    // peers_v2 is keyed by (peer, peer_port), so each node needs its own storage port.
    cqlsim::cluster c(local_config(3));
    c.start();
    REQUIRE(c.size() == 3);
    for (std::size_t n = 0; n < 3; ++n) {
        client cl;
        cl.connect(c, n);
        cl.handshake(proto::protocol_version::v5);
        auto l = cl.query("SELECT rpc_address, rpc_port, listen_port FROM system.local", 1);
        REQUIRE(l.rows().row_count == 1);
        auto lr = *l.rows().rows().begin();
        CHECK(is_loopback(lr[0]));
        CHECK(as_int(lr[1]) == c.endpoint(n).port);
        CHECK(as_int(lr[2]) == 7000 + static_cast<int>(n));

        auto p =
            cl.query("SELECT peer, peer_port, native_address, native_port FROM system.peers_v2", 2);
        REQUIRE(p.rows().row_count == 2);
        std::set<int> native_ports, peer_ports;
        for (auto pr : p.rows().rows()) {
            CHECK(is_loopback(pr[0]));
            CHECK(is_loopback(pr[2]));
            peer_ports.insert(as_int(pr[1]));
            native_ports.insert(as_int(pr[3]));
        }
        std::set<int> want_native, want_peer;
        for (std::size_t k = 0; k < 3; ++k) {
            if (k == n) continue;
            want_native.insert(c.endpoint(k).port);
            want_peer.insert(7000 + static_cast<int>(k));
        }
        CHECK(native_ports == want_native);
        CHECK(peer_ports == want_peer);

        // system.peers is keyed by address alone (as in Cassandra): the two other nodes
        // share one row there, which is why drivers must use peers_v2 for such clusters.
        auto p1 = cl.query("SELECT peer, rpc_address FROM system.peers", 3);
        REQUIRE(p1.rows().row_count == 1);
        auto p1r = *p1.rows().rows().begin();
        CHECK(is_loopback(p1r[1]));
    }
}

TEST_CASE("a cluster on the caller's io_context, started and stopped cleanly", "[server]") {
    asio::io_context io;
    cqlsim::cluster c(io, local_config(2));
    c.start();
    std::thread runner([&] { io.run(); });
    {
        client cl;
        cl.connect(c, 1);
        cl.handshake(proto::protocol_version::v5, true);
        CHECK(cl.query("SELECT key FROM system.local", 1).rows().row_count == 1);
        c.restart_node(1);
        CHECK(cl.wait_closed());
        client again;
        again.connect(c, 1);
        CHECK(again.handshake(proto::protocol_version::v4).header.op == proto::opcode::ready);
        c.stop();
        CHECK(again.wait_closed());
    }
    runner.join();  // nothing left to run once the cluster stopped
    CHECK(c.connection_count(0) == 0);
}
