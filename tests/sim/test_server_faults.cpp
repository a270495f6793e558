// cqlsim's faults: node stop/start with events, pause, latency, primed errors, closing
// connections, corrupt segment CRCs, wrong stream ids, stream caps, the request log, and
// the admin endpoint.
#include <boost/asio/buffers_iterator.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/streambuf.hpp>

#include "cqlsim/admin.hpp"
#include "test_server_util.hpp"

using namespace srvtest;

namespace {

const std::string_view all_events[] = {"SCHEMA_CHANGE", "STATUS_CHANGE", "TOPOLOGY_CHANGE"};

client ready_client(cqlsim::cluster& c, std::size_t node,
                    proto::protocol_version v = proto::protocol_version::v4) {
    client cl;
    cl.connect(c, node);
    REQUIRE(cl.handshake(v).header.op == proto::opcode::ready);
    return cl;
}

}  // namespace

TEST_CASE("stop and start a node: connections reset, STATUS_CHANGE to the others", "[faults]") {
    cqlsim::cluster c(local_config(2));
    c.start();
    auto watcher = ready_client(c, 0);
    watcher.request(proto::register_request{all_events}, 1);
    auto victim = ready_client(c, 1);
    auto port = c.endpoint(1).port;

    c.stop_node(1);
    CHECK_FALSE(c.endpoint(1).up);
    CHECK(victim.wait_closed());
    auto down = watcher.next();
    REQUIRE(down);
    CHECK(down->header.stream == -1);
    auto& d = down->as<proto::status_change_event>();
    CHECK(d.change == proto::status_change_type::down);
    CHECK(d.address.port == port);
    // Nobody listens any more.
    client refused;
    CHECK_THROWS(refused.connect("127.0.0.1", port));

    c.start_node(1);
    CHECK(c.endpoint(1).port == port);
    auto up = watcher.next();
    REQUIRE(up);
    CHECK(up->as<proto::status_change_event>().change == proto::status_change_type::up);
    auto again = ready_client(c, 1);
    CHECK(again.query("SELECT key FROM system.local").rows().row_count == 1);
}

TEST_CASE("pause: accepted but unanswered until resume", "[faults]") {
    cqlsim::cluster c(local_config());
    c.start();
    auto cl = ready_client(c, 0);
    c.pause_node(0);
    cl.send(proto::query_request{"SELECT key FROM system.local", {}}, 3);
    CHECK_FALSE(cl.next(300ms, false));
    client fresh;
    fresh.connect(c);  // the kernel accepts
    fresh.send(proto::options_request{}, 1);
    CHECK_FALSE(fresh.next(100ms, false));
    c.resume_node(0);
    auto r = cl.next();
    REQUIRE(r);
    CHECK(r->header.stream == 3);
    CHECK(fresh.next()->header.op == proto::opcode::supported);
}

TEST_CASE("latency delays data responses", "[faults]") {
    cqlsim::cluster c(local_config());
    c.start();
    auto cl = ready_client(c, 0);
    c.set_latency(0, 400ms);
    cl.send(proto::query_request{"SELECT key FROM system.local", {}}, 1);
    CHECK_FALSE(cl.next(100ms, false));
    auto r = cl.next(3000ms);
    REQUIRE(r);
    CHECK(r->header.stream == 1);

    SECTION("a stream cap answers OVERLOADED beyond it") {
        c.cap_concurrent_streams(0, 2);
        for (std::int16_t s = 10; s < 13; ++s)
            cl.send(proto::query_request{"SELECT key FROM system.local", {}}, s);
        auto first = cl.next();  // the refused one comes at once
        REQUIRE(first);
        CHECK(first->header.stream == 12);
        CHECK(first->error().code == proto::error_code::overloaded);
        CHECK(cl.next()->header.op == proto::opcode::result);
        CHECK(cl.next()->header.op == proto::opcode::result);
    }
}

TEST_CASE("primed errors carry their fields", "[faults]") {
    cqlsim::cluster c(local_config());
    c.start();
    for (auto v : {proto::protocol_version::v4, proto::protocol_version::v5}) {
        auto cl = ready_client(c, 0, v);
        auto prime = [&](cqlsim::primed_error e) {
            c.clear_primes(0);
            c.prime(0, {"^SELECT .* system\\.local", e, 1});
        };
        proto::query_parameters quorum;
        quorum.consistency_level = proto::consistency::quorum;
        auto q = [&] { return cl.query("SELECT key FROM system.local", 5, quorum); };

        cqlsim::primed_error e;
        e.code = cqlsim::error_code::unavailable;
        e.required = 3;
        e.alive = 1;
        prime(e);
        auto r = q();
        CHECK(r.error().code == proto::error_code::unavailable);
        CHECK(std::get<proto::unavailable_info>(r.error().details) ==
              proto::unavailable_info{proto::consistency::quorum, 3, 1});
        // times = 1: the next one runs normally.
        CHECK(q().header.op == proto::opcode::result);

        e = {};
        e.code = cqlsim::error_code::read_timeout;
        e.received = 1;
        e.block_for = 2;
        e.data_present = true;
        e.consistency = proto::consistency::all;
        prime(e);
        r = q();
        CHECK(std::get<proto::read_timeout_info>(r.error().details) ==
              proto::read_timeout_info{proto::consistency::all, 1, 2, true});

        e = {};
        e.code = cqlsim::error_code::write_timeout;
        e.write_type = "BATCH_LOG";
        e.block_for = 2;
        prime(e);
        r = q();
        auto& wt = std::get<proto::write_timeout_info>(r.error().details);
        CHECK(wt.write_type == "BATCH_LOG");
        CHECK(wt.block_for == 2);
        CHECK(wt.cl == proto::consistency::quorum);

        e = {};
        e.code = cqlsim::error_code::read_failure;
        e.num_failures = 2;
        prime(e);
        r = q();
        auto& rf = std::get<proto::read_failure_info>(r.error().details);
        CHECK(rf.num_failures == 2);
        if (v == proto::protocol_version::v5) CHECK(rf.reasons.size() == 2);

        e = {};
        e.code = cqlsim::error_code::write_failure;
        e.write_type = "SIMPLE";
        prime(e);
        r = q();
        CHECK(std::get<proto::write_failure_info>(r.error().details).write_type == "SIMPLE");

        for (auto code : {cqlsim::error_code::overloaded, cqlsim::error_code::is_bootstrapping,
                          cqlsim::error_code::server_error, cqlsim::error_code::truncate_error}) {
            e = {};
            e.code = code;
            e.message = "primed";
            prime(e);
            r = q();
            CHECK(r.error().code == static_cast<proto::error_code>(code));
            CHECK(r.error().message == "primed");
        }
    }
}

TEST_CASE("primes match EXECUTE by the prepared text, forever until cleared", "[faults]") {
    cqlsim::cluster c(local_config());
    c.start();
    auto cl = ready_client(c, 0);
    auto p = cl.request(prepare("SELECT key FROM system.local WHERE key = 'local'"), 1);
    proto::byte_buffer id(p.as<proto::prepared_result>().id.begin(),
                          p.as<proto::prepared_result>().id.end());
    cqlsim::primed_error e;
    e.code = cqlsim::error_code::unprepared;
    c.prime(0, {"WHERE key", e, -1});
    proto::execute_request ex;
    ex.id = id;
    for (int i = 0; i < 3; ++i) {
        auto r = cl.request(ex, 2);
        auto& u = std::get<proto::unprepared_info>(r.error().details);
        CHECK(proto::byte_buffer(u.id.begin(), u.id.end()) == id);
    }
    c.clear_primes(0);
    CHECK(cl.request(ex, 3).rows().row_count == 1);
}

TEST_CASE("close a connection after N requests", "[faults]") {
    cqlsim::cluster c(local_config());
    c.start();
    auto cl = ready_client(c, 0);
    c.close_connection_after(0, 3);
    CHECK(cl.query("SELECT key FROM system.local", 1).header.op == proto::opcode::result);
    CHECK(cl.query("SELECT key FROM system.local", 2).header.op == proto::opcode::result);
    CHECK(cl.query("SELECT key FROM system.local", 3).header.op == proto::opcode::result);
    CHECK(cl.wait_closed());
    // Disarmed after firing.
    auto other = ready_client(c, 0);
    for (std::int16_t s = 0; s < 5; ++s)
        CHECK(other.query("SELECT key FROM system.local", s).header.op == proto::opcode::result);
}

TEST_CASE("corrupt the CRC of the next v5 segment", "[faults]") {
    cqlsim::cluster c(local_config());
    c.start();
    auto cl = ready_client(c, 0, proto::protocol_version::v5);
    c.corrupt_next_segment_crc(0);
    cl.send(proto::query_request{"SELECT key FROM system.local", {}}, 1);
    CHECK_FALSE(cl.next(1000ms, false));
    CHECK(cl.stream_error() == proto::codec_errc::payload_crc_mismatch);
    // One-shot: a new connection is fine.
    auto other = ready_client(c, 0, proto::protocol_version::v5);
    CHECK(other.query("SELECT key FROM system.local", 1).rows().row_count == 1);
}

TEST_CASE("reply on a stream the client did not use", "[faults]") {
    cqlsim::cluster c(local_config());
    c.start();
    auto cl = ready_client(c, 0);
    c.reply_on_wrong_stream(0, 1);
    cl.send(proto::query_request{"SELECT key FROM system.local", {}}, 5);
    auto r = cl.next();
    REQUIRE(r);
    CHECK(r->header.stream == 5 + 16384);
    CHECK(cl.query("SELECT key FROM system.local", 6).header.stream == 6);
}

TEST_CASE("the request log records what each node received", "[faults]") {
    cqlsim::cluster c(local_config(2));
    c.start();
    auto cl = ready_client(c, 1);
    c.clear_request_log(1);
    auto two = int_bytes(2);
    proto::value_view vals[] = {proto::value_view::of(two)};
    proto::query_parameters p;
    p.consistency_level = proto::consistency::local_quorum;
    p.values = vals;
    cl.query("SELECT key FROM system.local WHERE key = 'x' AND ? = ?", 7, p);
    auto prep = cl.request(prepare("SELECT key FROM system.local"), 8);
    proto::byte_buffer id(prep.as<proto::prepared_result>().id.begin(),
                          prep.as<proto::prepared_result>().id.end());
    proto::execute_request ex;
    ex.id = id;
    cl.request(ex, 9);
    auto log = c.request_log(1);
    REQUIRE(log.size() == 3);
    CHECK(log[0].op == proto::opcode::query);
    CHECK(log[0].stream == 7);
    CHECK(log[0].consistency == proto::consistency::local_quorum);
    CHECK(log[0].values == 1);
    CHECK(log[0].query == "SELECT key FROM system.local WHERE key = 'x' AND ? = ?");
    CHECK(log[1].op == proto::opcode::prepare);
    CHECK(log[2].op == proto::opcode::execute);
    CHECK(log[2].prepared_id == id);
    CHECK(log[2].query == "SELECT key FROM system.local");
    CHECK(log[0].timestamp <= log[2].timestamp);
    CHECK(c.request_log(0).empty());
}

TEST_CASE("admin commands", "[faults][admin]") {
    cqlsim::cluster c(local_config(2));
    c.start();
    CHECK(cqlsim::run_admin_command(c, "nodes").find("node 2 127.0.0.1:") != std::string::npos);
    CHECK(cqlsim::run_admin_command(c, "stop 2") == "ok\n");
    CHECK_FALSE(c.endpoint(1).up);
    CHECK(cqlsim::run_admin_command(c, "start 2") == "ok\n");
    CHECK(c.endpoint(1).up);
    CHECK(cqlsim::run_admin_command(c, "stop 3").rfind("error no node 3", 0) == 0);
    CHECK(cqlsim::run_admin_command(c, "bogus").rfind("error unknown command", 0) == 0);
    CHECK(cqlsim::run_admin_command(c, "latency 1 5ms") == "ok\n");
    CHECK(cqlsim::run_admin_command(c, "clear 1") == "ok\n");
    CHECK(cqlsim::run_admin_command(
              c,
              "prime 1 \"INSERT.*\" write_timeout times=1 cl=QUORUM received=1 "
              "block_for=2 write_type=BATCH message=\"primed write\"") == "ok\n");
    CHECK(cqlsim::run_admin_command(c, "prime 1 \"(\" overloaded").rfind("error bad regex", 0) ==
          0);

    auto cl = ready_client(c, 0);
    cl.query(
        "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', "
        "'replication_factor': 1}");
    cl.query("CREATE TABLE ks.t (k int PRIMARY KEY)");
    auto r = cl.query("INSERT INTO ks.t (k) VALUES (1)", 3);
    CHECK(r.error().message == "primed write");
    auto& wt = std::get<proto::write_timeout_info>(r.error().details);
    CHECK(wt == proto::write_timeout_info{proto::consistency::quorum, 1, 2, "BATCH", {}});
    CHECK(cl.query("INSERT INTO ks.t (k) VALUES (1)", 4).header.op == proto::opcode::result);
    auto log = cqlsim::run_admin_command(c, "log 1");
    CHECK(log.find("op=QUERY") != std::string::npos);
    CHECK(log.find("query=INSERT INTO ks.t (k) VALUES (1)") != std::string::npos);

    SECTION("over TCP") {
        cqlsim::admin_server admin(c);
        asio::io_context io;
        tcp::socket s(io);
        s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), admin.port()));
        asio::write(s, asio::buffer(std::string("pause 2\nnodes\nquit\n")));
        asio::streambuf buf;
        boost::system::error_code ec;
        asio::read(s, buf, ec);  // until the server closes after quit
        std::string all(asio::buffers_begin(buf.data()), asio::buffers_end(buf.data()));
        CHECK(all.find("ok\n") == 0);
        CHECK(all.find("dc1 rack1 up paused") != std::string::npos);
        CHECK(all.size() >= 4);
        CHECK(all.substr(all.size() - 4) == "bye\n");
        CHECK(c.endpoint(1).paused);
    }
}

TEST_CASE("remove and add a node: TOPOLOGY_CHANGE, peers follow", "[faults]") {
    auto cfg = local_config(3);
    cfg.single_address = false;  // 127.0.0.1-3: peers are keyed by address
    cqlsim::cluster c(cfg);
    c.start();
    auto watcher = ready_client(c, 0);
    watcher.request(proto::register_request{all_events}, 1);
    auto last = ready_client(c, 2);
    auto port1 = c.endpoint(1).port;

    c.remove_node(1);
    CHECK(c.endpoint(1).removed);
    auto down = watcher.next();
    REQUIRE(down);
    CHECK(down->as<proto::status_change_event>().change == proto::status_change_type::down);
    auto removed = watcher.next();
    REQUIRE(removed);
    auto& rm = removed->as<proto::topology_change_event>();
    CHECK(rm.change == proto::topology_change_type::removed_node);
    CHECK(rm.address.port == port1);
    CHECK(watcher.query("SELECT peer FROM system.peers", 2).rows().row_count == 1);
    // Node 3 (after the removed one) still answers system.local for itself.
    auto l = last.query("SELECT rpc_port FROM system.local", 3);
    REQUIRE(l.rows().row_count == 1);
    CHECK(as_int((*l.rows().rows().begin())[0]) == c.endpoint(2).port);
    CHECK(cqlsim::run_admin_command(c, "nodes").find("down removed") != std::string::npos);

    CHECK(cqlsim::run_admin_command(c, "add 2") == "ok\n");
    auto added = watcher.next();
    REQUIRE(added);
    CHECK(added->as<proto::topology_change_event>().change ==
          proto::topology_change_type::new_node);
    auto up = watcher.next();
    REQUIRE(up);
    CHECK(up->as<proto::status_change_event>().change == proto::status_change_type::up);
    CHECK(watcher.query("SELECT peer FROM system.peers", 4).rows().row_count == 2);
    auto back = ready_client(c, 1);
    auto lb = back.query("SELECT rpc_port FROM system.local", 5);
    CHECK(as_int((*lb.rows().rows().begin())[0]) == port1);
}
