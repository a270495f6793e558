// A host's pool without sockets: mock connections that the test opens, fails and closes at
// will, and a reconnection policy that records its delays. Opening, the least loaded
// connection, the bounded FIFO queue, replacement at once then with backoff, health
// reports, close.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "cql/cluster.hpp"
#include "detail/pool.hpp"

namespace {

using namespace std::chrono_literals;
using namespace cql;
using namespace cql::detail;
namespace asio = boost::asio;

// A connection the test drives: open() waits until the test says how it ends.
class mock_connection final : public pool_connection {
  public:
    explicit mock_connection(connection_config c) : cfg(std::move(c)) {}
    void open(unique_function<void(std::error_code)> done) override { on_open = std::move(done); }
    bool is_ready() const noexcept override { return ready; }
    void shutdown(std::error_code why) override {
        shut_down = why;
        if (on_open) finish_open(errc::connection_closed);
        if (ready) go_down(why);
    }
    const diagnostics& connect_diagnostics() const noexcept override { return diag; }
    std::error_code send(stream_callback*, cql::protocol::bytes_view, std::int16_t&) override {
        return {};
    }
    void abandon(std::int16_t) noexcept override {}
    cql::protocol::protocol_version version() const noexcept override {
        return cql::protocol::protocol_version::v4;
    }
    std::chrono::steady_clock::time_point last_read() const noexcept override { return {}; }

    void finish_open(std::error_code ec) {
        ready = !ec;
        if (ec) diag.message = "mock: " + ec.message();
        auto h = std::move(on_open);
        on_open = nullptr;
        h(ec);
    }
    void go_down(std::error_code ec) {
        ready = false;
        if (cfg.on_down) cfg.on_down(static_cast<const pool_connection*>(this), ec);
    }

    connection_config cfg;
    unique_function<void(std::error_code)> on_open;
    bool ready = false;
    std::error_code shut_down;
    diagnostics diag;
};

struct recording_schedule final : reconnection_schedule {
    std::vector<std::chrono::milliseconds>* delays;
    std::chrono::milliseconds next_delay() override {
        delays->push_back(1ms);
        return 1ms;
    }
};
struct recording_policy final : reconnection_policy {
    std::vector<std::chrono::milliseconds> delays;
    std::unique_ptr<reconnection_schedule> new_schedule() const override {
        auto s = std::make_unique<recording_schedule>();
        s->delays = &const_cast<recording_policy*>(this)->delays;
        return s;
    }
};

struct waiter final : pool_waiter {
    channel* got = nullptr;
    std::error_code ec;
    int calls = 0;
    void on_channel(channel* c, std::error_code e) override {
        ++calls;
        got = c;
        ec = e;
    }
};

struct fixture {
    explicit fixture(std::size_t connections = 2, std::size_t per_connection = 2,
                     std::size_t queue = 2) {
        policy = std::make_shared<recording_policy>();
        pool_settings s;
        s.connections = connections;
        s.max_requests_per_connection = per_connection;
        s.max_wait_queue = queue;
        s.reconnection = policy;
        s.connection_settings = [] { return connection_config{}; };
        s.factory = [this](const strand_executor&, connection_config c) {
            auto m = std::make_shared<mock_connection>(std::move(c));
            made.push_back(m);
            return m;
        };
        s.on_health = [this](bool healthy, std::error_code, const std::string& why) {
            health.push_back(healthy);
            last_why = why;
        };
        host_info info;
        info.endpoint = {"10.0.0.1", 9042};
        pool = std::make_shared<host_pool>(asio::make_strand(io.get_executor()), make_host(info),
                                           std::move(s));
    }
    std::vector<std::shared_ptr<mock_connection>> opening() {
        std::vector<std::shared_ptr<mock_connection>> out;
        for (auto& m : made)
            if (m->on_open) out.push_back(m);
        return out;
    }
    // Runs the timers that are due (the reconnection delays are 1 ms).
    void let_time_pass() {
        io.restart();
        io.run_for(20ms);
    }

    asio::io_context io;
    std::shared_ptr<recording_policy> policy;
    std::vector<std::shared_ptr<mock_connection>> made;
    std::vector<bool> health;
    std::string last_why;
    std::shared_ptr<host_pool> pool;
};

}  // namespace

TEST_CASE("pool: opens its connections and reports healthy once") {
    fixture f(2);
    f.pool->start();
    REQUIRE(f.made.size() == 2);
    CHECK(f.pool->try_acquire() == nullptr);  // nothing open yet
    f.made[0]->finish_open({});
    CHECK(f.health == std::vector<bool>{true});
    f.made[1]->finish_open({});
    CHECK(f.health == std::vector<bool>{true});
    CHECK(f.pool->size() == 2);
    CHECK(f.pool->healthy());
}

TEST_CASE("pool: the least loaded connection with room; none when all are full") {
    fixture f(2, /*per_connection=*/2);
    f.pool->start();
    for (auto& m : f.opening())
        m->finish_open({});
    auto* a = f.pool->try_acquire();
    auto* b = f.pool->try_acquire();
    REQUIRE(a);
    REQUIRE(b);
    CHECK(a != b);  // spread over the two
    auto* c = f.pool->try_acquire();
    auto* d = f.pool->try_acquire();
    REQUIRE(c);
    REQUIRE(d);
    CHECK(f.pool->try_acquire() == nullptr);  // 2 x 2 in use
    f.pool->release(*c);
    CHECK(f.pool->try_acquire() == c);
}

TEST_CASE("pool: a bounded FIFO queue; a released connection goes to the first waiter") {
    fixture f(1, 1, /*queue=*/2);
    f.pool->start();
    f.made[0]->finish_open({});
    auto* only = f.pool->try_acquire();
    REQUIRE(only);
    waiter w1, w2, w3;
    CHECK_FALSE(f.pool->wait(w1));
    CHECK_FALSE(f.pool->wait(w2));
    CHECK(f.pool->wait(w3) == cql::session_errc::busy);  // the queue is full
    f.pool->release(*only);
    CHECK(w1.calls == 1);
    CHECK(w1.got == only);
    CHECK(w2.calls == 0);
    f.pool->cancel_wait(w2);  // (its request timed out)
    f.pool->release(*only);
    CHECK(w2.calls == 0);
    CHECK(f.pool->try_acquire() == only);
}

TEST_CASE("pool: a failed connection is replaced at once; waiters fail when none is left") {
    fixture f(1, 1, 4);
    f.pool->start();
    f.made[0]->finish_open({});
    auto* only = f.pool->try_acquire();
    waiter w;
    REQUIRE_FALSE(f.pool->wait(w));
    f.pool->release(*only);  // w got it
    REQUIRE(w.got == only);
    waiter w2;
    REQUIRE_FALSE(f.pool->wait(w2));
    f.made[0]->go_down(errc::connection_closed);
    CHECK(w2.calls == 1);
    CHECK(w2.ec == errc::connection_defunct);  // the request moves on to the next host
    CHECK(f.pool->size() == 0);
    REQUIRE(f.made.size() == 2);  // the replacement, opened at once
    CHECK(f.policy->delays.empty());
    f.made[1]->finish_open({});
    CHECK(f.pool->healthy());
    CHECK(f.health == std::vector<bool>{true, true});  // healthy again after losing all
}

TEST_CASE("pool: failing opens back off with the reconnection policy and report down once") {
    fixture f(1);
    f.pool->start();
    f.made[0]->finish_open(errc::host_unreachable);
    CHECK(f.health == std::vector<bool>{false});
    CHECK(f.last_why.find("10.0.0.1:9042") != std::string::npos);
    CHECK(f.last_why.find("mock: host unreachable") != std::string::npos);
    REQUIRE(f.policy->delays.size() == 1);
    f.let_time_pass();
    REQUIRE(f.made.size() == 2);  // tried again after the delay
    f.made[1]->finish_open(errc::host_unreachable);
    CHECK(f.policy->delays.size() == 2);
    f.let_time_pass();
    REQUIRE(f.made.size() == 3);
    f.made[2]->finish_open({});
    CHECK(f.health == std::vector<bool>{false, true});
}

TEST_CASE("pool: close shuts every connection down, also those connecting; waiters fail") {
    fixture f(2, 1, 4);
    f.pool->start();
    f.made[0]->finish_open({});  // made[1] still connecting
    auto* c = f.pool->try_acquire();
    REQUIRE(c);
    waiter w;
    REQUIRE_FALSE(f.pool->wait(w));
    f.pool->close(cql::session_errc::closed);
    CHECK(w.ec == cql::session_errc::closed);
    CHECK(f.made[0]->shut_down == cql::session_errc::closed);
    CHECK(f.made[1]->shut_down == cql::session_errc::closed);
    CHECK(f.pool->try_acquire() == nullptr);
    waiter late;
    CHECK(f.pool->wait(late) == cql::session_errc::closed);
    CHECK(f.made.size() == 2);  // nothing reopened
}

TEST_CASE("pool: retire closes each connection once its requests are done; waiters still served") {
    fixture f(3, 1, 4);
    f.pool->start();
    f.made[0]->finish_open({});
    f.made[1]->finish_open({});  // made[2] still connecting
    auto* busy = f.pool->try_acquire();
    auto* busy_too = f.pool->try_acquire();
    REQUIRE(busy);
    REQUIRE(busy_too);
    waiter w;
    REQUIRE_FALSE(f.pool->wait(w));  // every open connection is in use
    f.pool->retire();
    CHECK(f.made[2]->shut_down == errc::connection_closed);  // the one connecting
    CHECK(f.pool->size() == 2);                              // the busy ones stay
    CHECK_FALSE(f.pool->drained());
    f.pool->release(*busy);  // goes to the waiter, and stays open for it
    CHECK(w.calls == 1);
    CHECK(w.got == busy);
    CHECK(f.pool->size() == 2);
    f.pool->release(*busy);  // its last request: closed now
    CHECK(f.pool->size() == 1);
    const auto closed_first = std::count_if(f.made.begin(), f.made.begin() + 2, [](auto& m) {
        return m->shut_down == errc::connection_closed;
    });
    CHECK(closed_first == 1);
    CHECK_FALSE(f.pool->drained());
    f.pool->release(*busy_too);
    CHECK(f.pool->size() == 0);
    CHECK(f.pool->drained());
    f.let_time_pass();
    CHECK(f.made.size() == 3);  // nothing reopened, no report of the host's health
    CHECK(f.health == std::vector<bool>{true});
    CHECK(f.pool->try_acquire() == nullptr);
}

TEST_CASE("pool: a retiring pool does not replace a connection it loses") {
    fixture f(2, 2, 4);
    f.pool->start();
    f.made[0]->finish_open({});
    f.made[1]->finish_open({});
    auto* a = f.pool->try_acquire();
    auto* b = f.pool->try_acquire();
    REQUIRE(a);
    REQUIRE(b);
    REQUIRE(a != b);
    f.pool->retire();
    CHECK(f.pool->size() == 2);
    waiter w;  // a request that may still use the host (its retry on the same host)
    CHECK_FALSE(f.pool->wait(w));
    f.made[0]->go_down(errc::connection_closed);
    f.made[1]->go_down(errc::connection_closed);
    CHECK(w.calls == 1);
    CHECK(w.ec == errc::connection_defunct);  // no connection left: it moves on
    CHECK(f.pool->drained());
    f.let_time_pass();
    CHECK(f.made.size() == 2);
    CHECK(f.policy->delays.empty());
}
