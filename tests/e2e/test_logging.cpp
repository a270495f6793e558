// The default logger: the driver's warnings reach stderr unless the application replaces or
// silences the logger.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/steady_timer.hpp>

#include "e2e_fixture.hpp"

using namespace e2e;

namespace {

// Sends this process's stderr to a temporary file while alive; text() reads what arrived.
class captured_stderr {
  public:
    captured_stderr() {
        std::fflush(stderr);
        char name[] = "/tmp/cql-stderr-XXXXXX";
        file_ = ::mkstemp(name);
        REQUIRE(file_ >= 0);
        ::unlink(name);
        saved_ = ::dup(2);
        REQUIRE(saved_ >= 0);
        REQUIRE(::dup2(file_, 2) == 2);
    }
    ~captured_stderr() {
        std::fflush(stderr);
        ::dup2(saved_, 2);
        ::close(saved_);
        ::close(file_);
    }
    captured_stderr(const captured_stderr&) = delete;
    captured_stderr& operator=(const captured_stderr&) = delete;

    std::string text() const {
        std::fflush(stderr);
        std::string out;
        char buf[4096];
        for (off_t at = 0;;) {
            auto n = ::pread(file_, buf, sizeof buf, at);
            if (n <= 0) break;
            out.append(buf, static_cast<std::size_t>(n));
            at += n;
        }
        return out;
    }

  private:
    int file_ = -1;
    int saved_ = -1;
};

asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(use_awaitable);
}

// Waits (at most `limit`) until pred() holds.
template <class Pred>
asio::awaitable<bool> eventually(Pred pred, std::chrono::milliseconds limit = 30s) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
        if (std::chrono::steady_clock::now() >= until) co_return pred();
        co_await sleep_for(20ms);
    }
    co_return true;
}

cql::host_ptr host_at(cql::cluster& c, const cqlsim::node_endpoint& ep) {
    for (const auto& h : c.hosts())
        if (h->address() == ep.address && h->port() == ep.port) return h;
    return nullptr;
}

}  // namespace

TEST_CASE("stderr_logger writes one line per message") {
    captured_stderr err;
    cql::stderr_logger(cql::log_level::warning, "host down: 127.0.0.2:9042");
    cql::stderr_logger(cql::log_level::error, "no host for the control connection");
    CHECK(err.text() ==
          "cql-asio warning: host down: 127.0.0.2:9042\n"
          "cql-asio error: no host for the control connection\n");
}

TEST_CASE("a default cluster_config logs warnings to stderr") {
    E2E_NEEDS_CQLSIM("stops a node");
    cql::cluster_config defaults;
    REQUIRE(defaults.logger);
    CHECK(defaults.log_level == cql::log_level::warning);

    test_cluster tc;
    captured_stderr err;
    run([&](asio::io_context& io) -> asio::awaitable<void> {
        auto cfg = tc.config();
        cfg.logger = defaults.logger;
        cfg.log_level = defaults.log_level;
        cql::cluster cluster(io.get_executor(), cfg);
        co_await cluster.async_connect(use_awaitable);
        CHECK(err.text().empty());  // info messages ("connected to ...") stay quiet
        tc.sim().stop_node(2);
        auto lost = [&] {
            return err.text().find("cql-asio warning: host down: ") != std::string::npos;
        };
        const bool warned = co_await eventually(lost);
        CHECK(warned);
        co_await cluster.async_close(use_awaitable);
    });
}

TEST_CASE("the logger is replaceable and silenceable") {
    E2E_NEEDS_CQLSIM("stops a node");
    test_cluster tc;
    captured_stderr err;
    std::mutex m;
    std::vector<std::string> mine;
    run([&](asio::io_context& io) -> asio::awaitable<void> {
        auto replaced = tc.config();
        replaced.logger = [&](cql::log_level l, std::string_view msg) {
            std::lock_guard lk(m);
            mine.push_back(std::string(cql::to_string(l)) + ": " + std::string(msg));
        };
        auto silent = tc.config();
        silent.logger = nullptr;
        auto off = tc.config();
        off.log_level = cql::log_level::off;
        cql::cluster a(io.get_executor(), replaced);
        cql::cluster b(io.get_executor(), silent);
        cql::cluster c(io.get_executor(), off);
        co_await a.async_connect(use_awaitable);
        co_await b.async_connect(use_awaitable);
        co_await c.async_connect(use_awaitable);
        tc.sim().stop_node(2);
        auto down = [&](cql::cluster& cl) {
            auto h = host_at(cl, tc.sim().endpoint(2));
            return h && !h->is_up();
        };
        const bool all_down = co_await eventually([&] { return down(a) && down(b) && down(c); });
        CHECK(all_down);
        const bool logged = co_await eventually([&] {
            std::lock_guard lk(m);
            for (const auto& line : mine)
                if (line.rfind("warning: host down: ", 0) == 0) return true;
            return false;
        });
        CHECK(logged);
        co_await a.async_close(use_awaitable);
        co_await b.async_close(use_awaitable);
        co_await c.async_close(use_awaitable);
    });
    CHECK(err.text().empty());
}
