// The request engine without sockets: mock connections (channels), mock pools, a mock shard
// with a clock the test moves. Retries, speculative executions, pool waiting, cancellation,
// the one deadline, USE and re-prepare, as detail/engine.hpp describes them.
#include <catch2/catch.hpp>

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/error.hpp>

#include "cql/cluster.hpp"
#include "cql/protocol/requests.hpp"
#include "cql/protocol/responses.hpp"
#include "detail/direct_completion.hpp"
#include "detail/engine.hpp"
#include "detail/result_columns.hpp"

namespace {

using namespace std::chrono_literals;
using namespace cql;
using namespace cql::detail;
namespace p = cql::protocol;

// ---- mocks -----------------------------------------------------------------------------

// One request frame a mock channel was given.
struct sent {
    stream_callback* cb = nullptr;
    p::opcode op{};
    std::string query;  // QUERY / PREPARE text
    std::int16_t id = 0;
    bool skip_metadata = false;  // EXECUTE
    p::consistency cl{};         // QUERY, EXECUTE
    bool abandoned = false;
    bool answered = false;
};

class mock_channel final : public channel {
  public:
    explicit mock_channel(std::string n) : name(std::move(n)) {}
    std::error_code send(stream_callback* cb, p::bytes_view frame, std::int16_t& id) override {
        if (refuse) return refuse;
        auto split = p::split_frame(frame);
        p::decoded_request d;
        REQUIRE_FALSE(p::decode_request(split.frame, d));
        sent s;
        s.cb = cb;
        s.op = split.frame.header.op;
        if (auto* q = std::get_if<p::query_request>(&d.message)) s.query = std::string(q->query);
        if (auto* pr = std::get_if<p::prepare_request>(&d.message))
            s.query = std::string(pr->query);
        if (auto* q = std::get_if<p::query_request>(&d.message)) s.cl = q->params.consistency_level;
        if (auto* ex = std::get_if<p::execute_request>(&d.message)) {
            s.skip_metadata = ex->params.skip_metadata;
            s.cl = ex->params.consistency_level;
        }
        s.id = id = next_id++;
        log.push_back(s);
        return {};
    }
    void abandon(std::int16_t id) noexcept override {
        for (auto& s : log)
            if (s.id == id) s.abandoned = true;
    }
    p::protocol_version version() const noexcept override { return p::protocol_version::v4; }
    clock::time_point last_read() const noexcept override { return read_at; }

    // Answers the oldest unanswered, not abandoned frame.
    sent& pending() {
        for (auto& s : log)
            if (!s.answered && !s.abandoned) return s;
        FAIL("no frame waits for an answer on " << name);
        throw;
    }
    std::size_t sends() const { return log.size(); }

    std::string name;
    std::error_code refuse;       // send() fails with it (nothing sent)
    clock::time_point read_at{};  // when the answers were read (last_read())
    std::int16_t next_id = 0;
    std::vector<sent> log;
};

class mock_pool final : public channel_pool {
  public:
    mock_pool(std::string name, std::size_t room) : chan(name), room_(room) {}
    channel* try_acquire() override {
        if (closed || in_use >= room_) return nullptr;
        ++in_use;
        return &chan;
    }
    void release(channel&) override {
        --in_use;
        while (!waiters.empty() && in_use < room_) {
            auto* w = waiters.front();
            waiters.pop_front();
            w->waiting = false;
            ++in_use;
            w->on_channel(&chan, {});
        }
    }
    std::error_code wait(pool_waiter& w) override {
        if (closed) return session_errc::closed;
        if (!healthy) return errc::connection_defunct;
        if (waiters.size() >= max_waiters) return session_errc::busy;
        w.waiting = true;
        waiters.push_back(&w);
        return {};
    }
    void cancel_wait(pool_waiter& w) noexcept override {
        std::erase(waiters, &w);
        w.waiting = false;
    }

    mock_channel chan;
    std::size_t room_;
    std::size_t in_use = 0;
    std::deque<pool_waiter*> waiters;
    std::size_t max_waiters = 16;
    bool healthy = true;
    bool closed = false;
};

// Plans: the hosts in the order given.
class fixed_order_policy final : public load_balancing_policy {
  public:
    explicit fixed_order_policy(std::vector<host_ptr> hosts) : hosts_(std::move(hosts)) {}
    void init(std::span<const host_ptr>, std::span<const host_ptr>) override {}
    host_distance distance(const host&) const override { return host_distance::local; }
    void new_plan(const routing_info&, query_plan& plan) const override {
        plan.emplace_source<source>(hosts_);
    }
    void on_add(const host_ptr&) override {}
    void on_remove(const host_ptr&) override {}

  private:
    struct source final : query_plan::source {
        explicit source(const std::vector<host_ptr>& h) : hosts(&h) {}
        host_ptr next() override { return i < hosts->size() ? (*hosts)[i++] : nullptr; }
        const std::vector<host_ptr>* hosts;
        std::size_t i = 0;
    };
    std::vector<host_ptr> hosts_;
};

class mock_shard final : public request_env {
  public:
    clock::time_point now() override { return t; }
    channel_pool* pool_for(const host& h) override {
        auto it = pools.find(&h);
        return it == pools.end() ? nullptr : it->second;
    }
    timer_queue& timers() override { return q; }
    void timers_changed() override {}
    bool closing() const override { return is_closing; }
    void log(log_level, std::string_view m) override { logs.emplace_back(m); }
    std::vector<host_ptr> known_hosts() override { return hosts; }
    void keyspace_changed(const std::string& ks) override { cluster_keyspace = ks; }
    void settle_schema_change(request& r, const host_ptr&) override { settling = &r; }
    void done(request&) override { ++done_count; }

    // Moves the clock and runs the timers that are due.
    void advance(clock::duration d) {
        t += d;
        q.expire(t);
    }

    clock::time_point t = clock::time_point{} + 1h;
    timer_queue q;
    std::map<const host*, mock_pool*> pools;
    std::vector<host_ptr> hosts;
    bool is_closing = false;
    std::vector<std::string> logs;
    std::string cluster_keyspace;
    request* settling = nullptr;
    int done_count = 0;
};

struct outcome {
    bool done = false;
    cql::error_code ec;
    result r;
};
struct capture final : direct_completion<cql::error_code, result> {
    outcome* out;
    explicit capture(outcome* o) : out(o) {}
    void done(cql::error_code ec, result r) override {
        REQUIRE_FALSE(out->done);  // once
        out->done = true;
        out->ec = ec;
        out->r = std::move(r);
    }
};

// ---- answers ---------------------------------------------------------------------------

response make_response(const p::byte_buffer& frame) {
    auto split = p::split_frame(frame);
    response r;
    r.assign(split.frame.header, p::byte_buffer(split.frame.body.begin(), split.frame.body.end()));
    return r;
}
void answer_void(mock_channel& c) {
    auto& s = c.pending();
    s.answered = true;
    p::byte_buffer f;
    p::encode_response_frame(f, p::protocol_version::v4, s.id, p::void_result{});
    auto* cb = s.cb;  // (answering may send more: `s` may move)
    cb->on_answer({}, make_response(f));
}
void answer_error(mock_channel& c, p::error_response e) {
    auto& s = c.pending();
    s.answered = true;
    p::byte_buffer f;
    p::encode_response_frame(f, p::protocol_version::v4, s.id, e);
    auto r = make_response(f);
    auto ec = server_error_code(static_cast<std::int32_t>(e.code));
    auto* cb = s.cb;
    cb->on_answer(ec, std::move(r));
}
void answer_keyspace(mock_channel& c, std::string_view ks) {
    auto& s = c.pending();
    s.answered = true;
    p::byte_buffer f;
    p::encode_response_frame(f, p::protocol_version::v4, s.id, p::set_keyspace_result{ks});
    auto* cb = s.cb;
    cb->on_answer({}, make_response(f));
}
void answer_schema_change(mock_channel& c) {
    auto& s = c.pending();
    s.answered = true;
    p::schema_change_result sc;
    sc.change.change = p::schema_change_type::created;
    sc.change.target = p::schema_change_target::table;
    sc.change.keyspace = "ks";
    sc.change.name = "t";
    p::byte_buffer f;
    p::encode_response_frame(f, p::protocol_version::v4, s.id, sc);
    auto* cb = s.cb;
    cb->on_answer({}, make_response(f));
}
void break_connection(mock_channel& c) {
    auto& s = c.pending();
    s.answered = true;
    auto* cb = s.cb;
    cb->on_answer(errc::connection_closed, response{});
}

p::error_response unavailable() {
    p::error_response e;
    e.code = p::error_code::unavailable;
    e.message = "Cannot achieve consistency level QUORUM";
    e.details = p::unavailable_info{p::consistency::quorum, 2, 1};
    return e;
}
p::error_response unprepared(const prepared_info& info) {
    p::error_response e;
    e.code = p::error_code::unprepared;
    e.message = "Prepared query with ID 010203 not found";
    e.details = p::unprepared_info{info.id};
    return e;
}
p::error_response write_timeout() {
    p::error_response e;
    e.code = p::error_code::write_timeout;
    e.message = "Operation timed out";
    p::write_timeout_info w;
    w.cl = p::consistency::quorum;
    w.received = 1;
    w.block_for = 2;
    w.write_type = "SIMPLE";
    e.details = w;
    return e;
}

// Rows of text columns `names` (one row, `cells`), with their metadata or without it
// (skip_metadata), and with a v5 METADATA_CHANGED id when `new_id` is set.
void answer_rows(mock_channel& c, const std::vector<std::string>& names,
                 const std::vector<std::string>& cells, bool with_metadata,
                 std::optional<p::byte_buffer> new_id = std::nullopt) {
    auto& s = c.pending();
    s.answered = true;
    const auto v = new_id ? p::protocol_version::v5 : p::protocol_version::v4;
    p::result_metadata m;
    m.column_count = static_cast<std::int32_t>(names.size());
    m.no_metadata = !with_metadata;
    if (with_metadata)
        for (const auto& n : names)
            m.columns.push_back({"ks", "t", n, p::data_type(p::type_id::varchar)});
    if (new_id) m.new_metadata_id = p::bytes_view(*new_id);
    p::byte_buffer f;
    auto at = p::begin_response_frame(f, v, s.id, p::opcode::result);
    p::rows_result_writer w(f, v, m);
    for (const auto& cell : cells)
        w.add_cell(p::as_bytes(cell));
    REQUIRE_FALSE(w.finish());
    p::end_response_frame(f, at);
    auto* cb = s.cb;
    cb->on_answer({}, make_response(f));
}
// The PREPARED answer to a re-preparation: result columns `names` (text).
void answer_prepared(mock_channel& c, const prepared_info& info,
                     const std::vector<std::string>& names) {
    auto& s = c.pending();
    s.answered = true;
    p::prepared_result pr;
    pr.id = info.id;
    pr.metadata.columns.push_back({"ks", "t", "k", p::data_type(p::type_id::varchar)});
    pr.result.column_count = static_cast<std::int32_t>(names.size());
    for (const auto& n : names)
        pr.result.columns.push_back({"ks", "t", n, p::data_type(p::type_id::varchar)});
    p::byte_buffer f;
    p::encode_response_frame(f, p::protocol_version::v4, s.id, pr);
    auto* cb = s.cb;
    cb->on_answer({}, make_response(f));
}

// A prepared SELECT of text columns `names`, as the session prepares it: its EXECUTEs skip
// the result metadata.
std::shared_ptr<prepared_info> prepared_select(const std::vector<std::string>& names) {
    auto info = std::make_shared<prepared_info>();
    info->query = "SELECT k, v FROM ks.t WHERE k = ?";
    info->id = {1, 2, 3};
    for (const auto& n : names)
        info->result_columns.push_back({"ks", "t", n, p::data_type(p::type_id::varchar)});
    prepared_access::init(*info, true);
    return info;
}

// ---- the fixture -----------------------------------------------------------------------

struct fixture {
    fixture(std::size_t hosts = 3, std::size_t room = 4) {
        for (std::size_t i = 0; i < hosts; ++i) {
            host_info info;
            info.endpoint = {"10.0.0." + std::to_string(i + 1), 9042};
            info.datacenter = "dc1";
            auto h = make_host(info);
            host_list.push_back(h);
            pool_list.push_back(std::make_unique<mock_pool>(info.endpoint.address, room));
            shard.pools[h.get()] = pool_list.back().get();
        }
        shard.hosts = host_list;
        profile.load_balancing = std::make_shared<fixed_order_policy>(host_list);
        profile.retry = std::make_shared<default_retry_policy>();
    }
    mock_pool& pool(std::size_t i) { return *pool_list[i]; }
    mock_channel& chan(std::size_t i) { return pool_list[i]->chan; }

    // A QUERY request (idempotent or not), started on the mock shard; it completes into `out`
    // and `diag`, or (another request beside it) into `*into` alone.
    request& start(std::string q = "SELECT * FROM t", bool idempotent = true,
                   std::chrono::milliseconds timeout = 1000ms, outcome* into = nullptr) {
        auto& r = *requests.emplace_back(std::make_unique<request>());
        r.spec.type = request_spec::kind::query;
        r.spec.version = p::protocol_version::v4;
        r.spec.profile = &profile;
        r.spec.idempotent = idempotent;
        r.spec.timeout = timeout;
        r.spec.diag = into ? nullptr : &diag;
        r.spec.track_latency = track_latency;
        r.spec.use_keyspace = use_keyspace;
        statement st(std::move(q));
        REQUIRE_FALSE(st.encode_query_frame(r.spec.frame, p::protocol_version::v4));
        r.op = result_completion(new capture(into ? into : &out));
        r.start(shard);
        return r;
    }

    // An EXECUTE of `info` (v4), encoded as the session does (skipping its result metadata
    // when it can), started on the mock shard; it completes into `out` and `diag`.
    request& execute(const std::shared_ptr<const prepared_info>& info, bool idempotent = true) {
        auto& r = *requests.emplace_back(std::make_unique<request>());
        r.spec.type = request_spec::kind::execute;
        r.spec.profile = &profile;
        r.spec.idempotent = idempotent;
        r.spec.timeout = 1000ms;
        r.spec.diag = &diag;
        r.spec.prepared = info;
        p::byte_buffer rmid;
        r.spec.skipped_columns = prepared_access::for_execute(*info, p::protocol_version::v4, rmid);
        p::execute_request e;
        e.id = info->id;
        e.params.skip_metadata = r.spec.skipped_columns != nullptr;
        REQUIRE_FALSE(p::encode_request_frame(r.spec.frame, p::protocol_version::v4, 0, e));
        r.op = result_completion(new capture(&out));
        r.start(shard);
        return r;
    }

    mock_shard shard;
    bool track_latency = false;  // of the requests started from now on
    std::string use_keyspace;    // (idem)
    execution_profile profile;
    std::vector<host_ptr> host_list;
    std::vector<std::unique_ptr<mock_pool>> pool_list;
    std::vector<std::unique_ptr<request>> requests;
    outcome out;
    diagnostics diag;
};

}  // namespace

TEST_CASE("engine: a request is sent to the plan's first host and completes with its answer") {
    fixture f;
    f.start();
    REQUIRE(f.chan(0).sends() == 1);
    CHECK(f.chan(1).sends() == 0);
    CHECK(f.pool(0).in_use == 1);
    CHECK_FALSE(f.out.done);
    answer_void(f.chan(0));
    REQUIRE(f.out.done);
    CHECK_FALSE(f.out.ec);
    CHECK(f.out.r.type() == result::kind::void_);
    CHECK(f.pool(0).in_use == 0);    // the connection went back to its pool
    CHECK(f.shard.done_count == 1);  // handed back for reuse
    CHECK(f.shard.q.empty());        // its deadline is gone
}

TEST_CASE("engine: UNAVAILABLE is retried once on the next host; a second one fails") {
    fixture f;
    f.start("UPDATE t SET v = 1 WHERE k = 1", /*idempotent=*/false);
    answer_error(f.chan(0), unavailable());
    CHECK_FALSE(f.out.done);
    REQUIRE(f.chan(1).sends() == 1);  // nothing was executed: safe even when not idempotent
    answer_error(f.chan(1), unavailable());
    REQUIRE(f.out.done);
    CHECK(f.out.ec == server_errc::unavailable);
    CHECK(f.diag.required == 2);
    CHECK(f.diag.alive == 1);
    CHECK(f.chan(2).sends() == 0);
}

TEST_CASE("engine: out of hosts after UNAVAILABLE: the server's message and fields remain") {
    fixture f(1);
    f.start("UPDATE t SET v = 1 WHERE k = 1", false);
    answer_error(f.chan(0), unavailable());  // next host: there is none
    REQUIRE(f.out.done);
    CHECK(f.out.ec == cql::session_errc::no_host_available);
    INFO(f.diag.message);
    CHECK(f.diag.message.find("Cannot achieve consistency level QUORUM") != std::string::npos);
    CHECK(f.diag.message.find("10.0.0.1:9042") != std::string::npos);
    CHECK(f.diag.from_server);
    CHECK(f.diag.required == 2);
    CHECK(f.diag.alive == 1);
}

TEST_CASE("engine: a write that may have been applied is never sent twice unless idempotent") {
    SECTION("write timeout, not idempotent: rethrown") {
        fixture f;
        f.start("UPDATE t SET v = 1 WHERE k = 1", false);
        answer_error(f.chan(0), write_timeout());
        REQUIRE(f.out.done);
        CHECK(f.out.ec == server_errc::write_timeout);
        CHECK(f.chan(1).sends() == 0);
    }
    SECTION("connection broken in flight, not idempotent: rethrown") {
        fixture f;
        f.start("UPDATE t SET v = 1 WHERE k = 1", false);
        break_connection(f.chan(0));
        REQUIRE(f.out.done);
        CHECK(f.out.ec == errc::connection_closed);
        CHECK(f.chan(1).sends() == 0);
        CHECK(f.pool(0).in_use == 0);
    }
    SECTION("connection broken in flight, idempotent: the next host") {
        fixture f;
        f.start("SELECT * FROM t", true);
        break_connection(f.chan(0));
        CHECK_FALSE(f.out.done);
        REQUIRE(f.chan(1).sends() == 1);
        answer_void(f.chan(1));
        REQUIRE(f.out.done);
        CHECK_FALSE(f.out.ec);
    }
}

TEST_CASE("engine: a frame that could not be sent goes to the next host, whatever its kind") {
    fixture f;
    f.chan(0).refuse = errc::no_stream_available;
    f.start("UPDATE t SET v = 1 WHERE k = 1", false);
    CHECK(f.chan(0).sends() == 0);
    REQUIRE(f.chan(1).sends() == 1);
    CHECK(f.pool(0).in_use == 0);
    answer_void(f.chan(1));
    CHECK(f.out.done);
    CHECK_FALSE(f.out.ec);
}

TEST_CASE("engine: the request's one deadline completes it and abandons its stream id") {
    fixture f;
    f.start("SELECT * FROM t", true, 200ms);
    f.shard.advance(199ms);
    CHECK_FALSE(f.out.done);
    f.shard.advance(1ms);
    REQUIRE(f.out.done);
    CHECK(f.out.ec == errc::timed_out);
    CHECK(f.diag.message.find("no response within 200 ms") != std::string::npos);
    CHECK(f.chan(0).log.at(0).abandoned);  // its id waits for the late answer
    CHECK(f.pool(0).in_use == 0);
    CHECK(f.chan(1).sends() == 0);  // a timeout is not retried
}

TEST_CASE("engine: a statement timeout longer than the cluster's is honoured") {
    // The engine has one deadline: the statement's 5 s, whatever else is configured.
    fixture f;
    f.start("SELECT * FROM t", true, 5000ms);
    f.shard.advance(4999ms);
    CHECK_FALSE(f.out.done);
    answer_void(f.chan(0));
    REQUIRE(f.out.done);
    CHECK_FALSE(f.out.ec);
}

TEST_CASE("engine: cancellation completes at once; nothing is sent again") {
    fixture f;
    auto& r = f.start();
    r.cancel();
    REQUIRE(f.out.done);
    CHECK(f.out.ec == boost::asio::error::operation_aborted);
    CHECK(f.chan(0).log.at(0).abandoned);
    CHECK(f.pool(0).in_use == 0);
    CHECK(f.shard.q.empty());
    CHECK(f.chan(1).sends() == 0);
}

TEST_CASE("engine: speculative executions start on the next hosts; the first answer wins") {
    fixture f;
    f.profile.speculative_execution =
        std::make_shared<constant_speculative_execution_policy>(50ms, 3);
    f.start("SELECT * FROM t", /*idempotent=*/true);
    CHECK(f.chan(1).sends() == 0);
    f.shard.advance(50ms);
    CHECK(f.chan(1).sends() == 1);
    f.shard.advance(50ms);
    CHECK(f.chan(2).sends() == 1);
    answer_void(f.chan(1));
    REQUIRE(f.out.done);
    CHECK_FALSE(f.out.ec);
    // The others are abandoned and their connections released.
    CHECK(f.chan(0).log.at(0).abandoned);
    CHECK(f.chan(2).log.at(0).abandoned);
    for (std::size_t i = 0; i < 3; ++i)
        CHECK(f.pool(i).in_use == 0);
    CHECK(f.shard.q.empty());
}

TEST_CASE("engine: no speculative execution for a request that is not idempotent") {
    fixture f;
    f.profile.speculative_execution =
        std::make_shared<constant_speculative_execution_policy>(50ms, 3);
    f.start("UPDATE t SET v = 1 WHERE k = 1", false);
    f.shard.advance(500ms);
    CHECK(f.chan(1).sends() == 0);
    CHECK(f.chan(2).sends() == 0);
}

TEST_CASE("engine: a busy pool queues the request until a connection frees") {
    fixture f(1, /*room=*/1);
    f.start();  // takes the only slot
    outcome out2;
    f.start("SELECT 2", true, 1000ms, &out2);
    CHECK(f.pool(0).waiters.size() == 1);
    CHECK(f.chan(0).sends() == 1);
    answer_void(f.chan(0));  // the first completes: the waiter gets the connection
    CHECK(f.pool(0).waiters.empty());
    REQUIRE(f.chan(0).sends() == 2);
    CHECK(f.chan(0).log.at(1).query == "SELECT 2");
    answer_void(f.chan(0));
    CHECK(out2.done);
    CHECK_FALSE(out2.ec);
}

TEST_CASE("engine: a request whose deadline passed in the queue is never sent") {
    fixture f(1, 1);
    f.start("SELECT 1", true, 10000ms);
    outcome out2;
    f.start("SELECT 2", true, 100ms, &out2);
    REQUIRE(f.pool(0).waiters.size() == 1);
    SECTION("its timer runs first: it leaves the queue") {
        f.shard.advance(100ms);
        REQUIRE(out2.done);
        CHECK(out2.ec == errc::timed_out);
        CHECK(f.pool(0).waiters.empty());
        answer_void(f.chan(0));
        CHECK(f.chan(0).sends() == 1);
    }
    SECTION("a connection frees after the deadline, before its timer ran") {
        f.shard.t += 150ms;  // (the clock moved; the timer queue did not run yet)
        answer_void(f.chan(0));
        REQUIRE(out2.done);
        CHECK(out2.ec == errc::timed_out);
        CHECK(f.chan(0).sends() == 1);  // SELECT 2 was never sent
        CHECK(f.pool(0).in_use == 0);
    }
}

TEST_CASE("engine: every pool busy and its queue full: session_errc::busy") {
    fixture f(2, 0);
    for (auto& p : f.pool_list)
        p->max_waiters = 0;
    f.start();
    REQUIRE(f.out.done);
    CHECK(f.out.ec == cql::session_errc::busy);
    CHECK(f.diag.message.find("10.0.0.1:9042") != std::string::npos);
    CHECK(f.diag.message.find("10.0.0.2:9042") != std::string::npos);
}

TEST_CASE("engine: hosts down or without pools: no_host_available naming them") {
    SECTION("one down (left out of the plan), one without a pool") {
        fixture f(2);
        f.host_list[0]->set_up(false);
        f.shard.pools.erase(f.host_list[1].get());
        f.start();
        REQUIRE(f.out.done);
        CHECK(f.out.ec == cql::session_errc::no_host_available);
        INFO(f.diag.message);
        CHECK(f.diag.message.find("10.0.0.2:9042: connection is defunct") != std::string::npos);
        CHECK(f.chan(0).sends() == 0);
    }
    SECTION("all down: the known hosts and their states") {
        fixture f(2);
        for (auto& h : f.host_list)
            h->set_up(false);
        f.start();
        REQUIRE(f.out.done);
        CHECK(f.out.ec == cql::session_errc::no_host_available);
        INFO(f.diag.message);
        CHECK(f.diag.message.find("10.0.0.1:9042 (down, dc1)") != std::string::npos);
        CHECK(f.diag.message.find("10.0.0.2:9042 (down, dc1)") != std::string::npos);
    }
}

TEST_CASE("engine: a connection on another keyspace gets a USE first") {
    fixture f;
    f.use_keyspace = "app";
    f.start("SELECT * FROM t");
    REQUIRE(f.chan(0).sends() == 1);
    CHECK(f.chan(0).log.at(0).query == "USE app");
    answer_keyspace(f.chan(0), "app");
    REQUIRE(f.chan(0).sends() == 2);
    CHECK(f.chan(0).log.at(1).query == "SELECT * FROM t");
    CHECK(f.chan(0).keyspace == "app");
    answer_void(f.chan(0));
    CHECK(f.out.done);
    CHECK_FALSE(f.out.ec);
}

TEST_CASE("engine: UNPREPARED: re-prepared on that connection, then executed again") {
    fixture f;
    auto info = std::make_shared<prepared_info>();
    info->query = "SELECT * FROM t WHERE k = ?";
    info->id = {1, 2, 3};
    f.execute(info, false);  // (re-preparing is not a retry: it was not executed)
    answer_error(f.chan(0), unprepared(*info));
    REQUIRE(f.chan(0).sends() == 2);
    CHECK(f.chan(0).log.at(1).op == p::opcode::prepare);
    CHECK(f.chan(0).log.at(1).query == info->query);
    // (the PREPARED answer's body does not matter to the engine: any success will do)
    answer_void(f.chan(0));
    REQUIRE(f.chan(0).sends() == 3);
    CHECK(f.chan(0).log.at(2).op == p::opcode::execute);
    answer_void(f.chan(0));
    CHECK(f.out.done);
    CHECK_FALSE(f.out.ec);
    CHECK(f.chan(1).sends() == 0);
}

TEST_CASE("engine: a closing cluster fails requests with session_errc::closed, no retry") {
    fixture f;
    f.start();
    f.shard.is_closing = true;
    break_connection(f.chan(0));
    REQUIRE(f.out.done);
    CHECK(f.out.ec == errc::connection_closed);
    CHECK(f.chan(1).sends() == 0);
    fixture g;
    g.shard.is_closing = true;
    g.start();
    REQUIRE(g.out.done);
    CHECK(g.out.ec == cql::session_errc::closed);
}

TEST_CASE("engine: a USE result changes the cluster's keyspace unless the session is bound") {
    fixture f;
    f.start("USE app");
    answer_keyspace(f.chan(0), "app");
    CHECK(f.shard.cluster_keyspace == "app");
    CHECK(f.chan(0).keyspace == "app");
}

TEST_CASE("engine: rows that came without metadata are read with the statement's columns") {
    fixture f;
    auto info = prepared_select({"k", "v"});
    f.execute(info);
    REQUIRE(f.chan(0).sends() == 1);
    CHECK(f.chan(0).log.at(0).skip_metadata);
    answer_rows(f.chan(0), {"k", "v"}, {"a", "b"}, false);
    REQUIRE(f.out.done);
    REQUIRE_FALSE(f.out.ec);
    const auto& r = f.out.r;
    REQUIRE(r.metadata().columns.size() == 2);
    CHECK(r.metadata().columns[1].name == "v");
    CHECK(r.front().get<std::string>("v") == "b");
    CHECK_FALSE(r.has_more_pages());
    CHECK(f.chan(0).sends() == 1);
}

TEST_CASE("engine: a prepared statement without result columns does not skip them") {
    fixture f;
    auto info = prepared_select({});
    f.execute(info);
    CHECK_FALSE(f.chan(0).log.at(0).skip_metadata);
    auto lwt = std::make_shared<prepared_info>();
    lwt->query = "UPDATE ks.t SET v = ? WHERE k = ? IF v = ?";
    lwt->result_columns.push_back({"ks", "t", "[applied]", p::data_type(p::type_id::boolean)});
    lwt->lwt = true;
    prepared_access::init(*lwt, false);
    p::byte_buffer rmid;
    CHECK(prepared_access::for_execute(*lwt, p::protocol_version::v5, rmid) == nullptr);
    // v4 cannot tell that the columns of `SELECT *` changed: those are not skipped there.
    auto star = prepared_select({"k", "v"});
    auto star_v4 = std::make_shared<prepared_info>();
    star_v4->query = "SELECT * FROM ks.t";
    star_v4->result_columns = star->result_columns;
    prepared_access::init(*star_v4, false);
    CHECK(prepared_access::for_execute(*star_v4, p::protocol_version::v4, rmid) == nullptr);
    CHECK(prepared_access::for_execute(*star_v4, p::protocol_version::v5, rmid) != nullptr);
}

TEST_CASE("engine: rows that do not fit the columns skipped: executed again with metadata") {
    fixture f;
    auto info = prepared_select({"k", "v"});
    f.execute(info);
    // Another client prepared the statement again after `ALTER TABLE ... ADD w`, unnoticed.
    answer_rows(f.chan(0), {"k", "v", "w"}, {"a", "b", "c"}, false);
    CHECK_FALSE(f.out.done);
    REQUIRE(f.chan(0).sends() == 2);
    CHECK(f.chan(0).log.at(1).op == p::opcode::execute);
    CHECK_FALSE(f.chan(0).log.at(1).skip_metadata);
    answer_rows(f.chan(0), {"k", "v", "w"}, {"a", "b", "c"}, true);
    REQUIRE(f.out.done);
    REQUIRE_FALSE(f.out.ec);
    CHECK(f.out.r.front().get<std::string>("w") == "c");
    CHECK(f.chan(1).sends() == 0);
    // The statement no longer skips its columns.
    p::byte_buffer rmid;
    CHECK(prepared_access::for_execute(*info, p::protocol_version::v4, rmid) == nullptr);
    fixture g;
    g.execute(info);
    CHECK_FALSE(g.chan(0).log.at(0).skip_metadata);
}

TEST_CASE("engine: a server that answers without metadata again fails the request clearly") {
    fixture f;
    f.execute(prepared_select({"k", "v"}));
    answer_rows(f.chan(0), {"k", "v", "w"}, {"a", "b", "c"}, false);
    answer_rows(f.chan(0), {"k", "v", "w"}, {"a", "b", "c"}, false);
    REQUIRE(f.out.done);
    CHECK(f.out.ec == errc::unexpected_response);
    CHECK(f.diag.message ==
          "malformed response: rows of 3 columns for a statement prepared with 2, without "
          "metadata");
    CHECK(f.chan(0).sends() == 2);
}

TEST_CASE("engine: a re-preparation's answer gives the statement's columns as they are now") {
    fixture f;
    auto info = prepared_select({"k", "v"});
    f.execute(info);
    answer_error(f.chan(0), unprepared(*info));
    answer_prepared(f.chan(0), *info, {"k", "v", "w"});
    REQUIRE(f.chan(0).sends() == 3);
    CHECK(f.chan(0).log.at(2).skip_metadata);
    answer_rows(f.chan(0), {"k", "v", "w"}, {"a", "b", "c"}, false);
    REQUIRE(f.out.done);
    REQUIRE_FALSE(f.out.ec);
    REQUIRE(f.out.r.metadata().columns.size() == 3);
    CHECK(f.out.r.front().get<std::string>("w") == "c");
    // Later executions read with the new columns too.
    fixture g;
    g.execute(info);
    answer_rows(g.chan(0), {"k", "v", "w"}, {"d", "e", "f"}, false);
    REQUIRE(g.out.done);
    CHECK(g.out.r.front().get<std::string>("w") == "f");
}

TEST_CASE("engine: v5 METADATA_CHANGED replaces the statement's columns and id") {
    auto info = prepared_select({"k", "v"});
    info->set_result_metadata_id(p::byte_buffer{7});
    fixture before;
    before.execute(info);
    answer_rows(before.chan(0), {"k", "v"}, {"a", "b"}, false);
    REQUIRE(before.out.done);
    fixture f;
    f.execute(info);
    answer_rows(f.chan(0), {"k", "v", "w"}, {"a", "b", "c"}, true, p::byte_buffer{8, 9});
    REQUIRE(f.out.done);
    REQUIRE_FALSE(f.out.ec);
    CHECK(f.out.r.front().get<std::string>("w") == "c");
    p::byte_buffer rmid;
    const auto* now = prepared_access::for_execute(*info, p::protocol_version::v5, rmid);
    CHECK(rmid == p::byte_buffer{8, 9});
    REQUIRE(now != nullptr);
    REQUIRE(now->metadata.columns.size() == 3);
    CHECK(now->metadata.columns[2].name == "w");
    // A result read with the old columns stays valid: every version is kept.
    REQUIRE(before.out.r.metadata().columns.size() == 2);
    CHECK(before.out.r.front().get<std::string>("v") == "b");
}

TEST_CASE("engine: answers and server errors are timed for a policy that reads latencies") {
    fixture f;
    f.track_latency = true;
    auto& lat = f.host_list[0]->latency();
    f.start();
    f.chan(0).read_at = f.shard.t + 3ms;
    answer_void(f.chan(0));
    CHECK(lat.get().samples == 1);
    CHECK(lat.get().average == 3ms);
    CHECK(lat.get().last_update == f.shard.t + 3ms);
    f.out = {};
    f.start("SELECT 1", false);
    answer_error(f.chan(0), unavailable());  // a server error counts
    CHECK(lat.get().samples == 2);
    outcome broken;
    f.start("SELECT 2", false, 1000ms, &broken);
    break_connection(f.chan(0));  // a client error does not
    CHECK(lat.get().samples == 2);

    fixture g;  // a policy that does not read them: nothing measured
    g.start();
    answer_void(g.chan(0));
    CHECK(g.host_list[0]->latency().get().samples == 0);
}

TEST_CASE("engine: a request larger than the frame size limit fails at once, on no other host") {
    fixture f;
    f.chan(0).refuse = errc::request_too_large;
    f.start("UPDATE t SET v = 1 WHERE k = 1", true);
    REQUIRE(f.out.done);
    CHECK(f.out.ec == errc::request_too_large);
    CHECK(f.diag.message.find("larger than cluster_config::max_frame_size") != std::string::npos);
    CHECK(f.chan(1).sends() == 0);
    CHECK(f.pool(0).in_use == 0);
}

TEST_CASE("engine: a connection lost before the request went out: the next host, any request") {
    fixture f;
    f.use_keyspace = "app";
    f.start("UPDATE t SET v = 1 WHERE k = 1", false);  // not idempotent
    REQUIRE(f.chan(0).log.at(0).query == "USE app");
    break_connection(f.chan(0));  // during the USE
    REQUIRE(f.chan(1).sends() == 1);
    CHECK(f.chan(1).log.at(0).query == "USE app");
    answer_keyspace(f.chan(1), "app");
    REQUIRE(f.chan(1).sends() == 2);
    CHECK(f.chan(1).log.at(1).query == "UPDATE t SET v = 1 WHERE k = 1");
    answer_void(f.chan(1));
    REQUIRE(f.out.done);
    CHECK_FALSE(f.out.ec);
    CHECK(f.chan(0).sends() == 1);  // the UPDATE never went to host 0

    // During the re-preparation after UNPREPARED (not applied there either).
    fixture g;
    auto info = prepared_select({});
    g.execute(info, false);
    answer_error(g.chan(0), unprepared(*info));
    REQUIRE(g.chan(0).log.at(1).op == p::opcode::prepare);
    break_connection(g.chan(0));
    REQUIRE(g.chan(1).sends() == 1);
    CHECK(g.chan(1).log.at(0).op == p::opcode::execute);
    answer_void(g.chan(1));
    REQUIRE(g.out.done);
    CHECK_FALSE(g.out.ec);
}

TEST_CASE("engine: a host's response time counts from the request's send, not the USE before") {
    fixture f;
    f.track_latency = true;
    f.use_keyspace = "app";
    f.start();
    f.shard.advance(5ms);
    answer_keyspace(f.chan(0), "app");  // the request goes now
    f.chan(0).read_at = f.shard.t + 2ms;
    answer_void(f.chan(0));
    REQUIRE(f.out.done);
    CHECK(f.host_list[0]->latency().get().samples == 1);
    CHECK(f.host_list[0]->latency().get().average == 2ms);
}

TEST_CASE("engine: a retry goes at the consistency the retry policy chose") {
    // Retries an UNAVAILABLE once on the next host at ONE.
    struct downgrading final : default_retry_policy {
        retry_decision on_unavailable(const retry_request& req, p::consistency, int,
                                      int) const override {
            return req.retry_count == 0 ? retry_decision::retry_next_host(p::consistency::one)
                                        : retry_decision::rethrow();
        }
    };
    fixture f;
    f.profile.retry = std::make_shared<downgrading>();
    f.start("SELECT * FROM t");
    CHECK(f.chan(0).log.at(0).cl == p::consistency::local_one);
    answer_error(f.chan(0), unavailable());
    REQUIRE(f.chan(1).sends() == 1);
    CHECK(f.chan(1).log.at(0).cl == p::consistency::one);
    CHECK(f.chan(1).log.at(0).query == "SELECT * FROM t");
    answer_void(f.chan(1));
    REQUIRE(f.out.done);
    CHECK_FALSE(f.out.ec);
}

TEST_CASE("engine: a DDL completes after its schema settles, or at once when cancelled") {
    fixture f;
    auto& r = f.start("CREATE TABLE ks.t (k int PRIMARY KEY)", false);
    answer_schema_change(f.chan(0));
    REQUIRE(f.shard.settling == &r);
    CHECK_FALSE(f.out.done);  // waiting for the schema agreement
    r.complete_schema_change(false);
    REQUIRE(f.out.done);
    CHECK_FALSE(f.out.ec);
    CHECK(f.out.r.type() == result::kind::schema_change);
    CHECK_FALSE(f.out.r.schema_in_agreement());
    CHECK(f.shard.done_count == 1);

    fixture g;
    auto& q = g.start("CREATE TABLE ks.t (k int PRIMARY KEY)", false);
    answer_schema_change(g.chan(0));
    REQUIRE(g.shard.settling == &q);
    q.cancel();
    REQUIRE(g.out.done);  // at once
    CHECK(g.out.ec == boost::asio::error::operation_aborted);
    CHECK(g.shard.done_count == 0);  // still held by the settling (control executor)
    q.complete_schema_change(true);  // the settling ends: the request is handed back
    CHECK(g.shard.done_count == 1);
}
