// cqlbench: end-to-end load tool for the cql-asio driver. Prepared INSERTs and/or
// single-row SELECTs with K requests in flight, against a cqlsim started as a child process
// (so the CPU time measured is the client's alone) or against any cluster (--contact).
// Reports throughput, latency percentiles, errors, client CPU time (getrusage) and heap
// allocations per operation, as a human summary and one JSON line on stdout.
// See benchmarks/README.md.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "alloc_counter.hpp"
#include "cql/cluster.hpp"
#include "histogram.hpp"

#ifndef CQLBENCH_CQLSIM_PATH
#define CQLBENCH_CQLSIM_PATH "cqlsim"
#endif

namespace {

namespace asio = boost::asio;
using clock_type = std::chrono::steady_clock;

enum class workload { insert, select, mixed };

struct options {
    workload work = workload::select;
    std::uint64_t ops = 0;  // 0: use duration
    double duration = 0;    // seconds
    std::size_t inflight = 256;
    std::size_t connections = 1;
    std::size_t threads = 0;
    std::size_t user_threads = 1;  // threads running the tool's own io_context
    double max_allocs = -1;        // >= 0: exit 1 when allocations per op exceed it
    std::size_t payload = 64;
    int protocol = 4;
    bool lz4 = false;
    cql::consistency consistency = cql::consistency::local_one;
    std::string consistency_name = "LOCAL_ONE";
    std::vector<std::string> contacts;
    std::uint64_t partitions = 10000;
    std::uint64_t warmup = 10000;
    unsigned read_ratio = 1, write_ratio = 1;
    std::string cqlsim = CQLBENCH_CQLSIM_PATH;
    std::string keyspace = "cqlbench";
    std::string local_dc;
    int replication = 1;
    bool check = false;
    bool quiet = false;
    std::size_t idle_connections = 0;  // > 0: the idle-connection memory measurement instead
};

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "cqlbench: %s\n", what.c_str());
    std::exit(2);
}

void usage() {
    std::fprintf(stderr,
                 "usage: cqlbench [insert|select|mixed] [options]\n"
                 "  --ops N              operations to measure (default 200000 unless --duration)\n"
                 "  --duration S         measure for S seconds instead\n"
                 "  --warmup N           operations before measuring (default 10000)\n"
                 "  --inflight K         requests in flight in total (default 256)\n"
                 "  --connections C      connections per host (default 1)\n"
                 "  --threads T          io threads of the cluster (default 0: the tool's thread)\n"
                 "  --user-threads U     threads running the tool's io_context (default 1), as a\n"
                 "                       server runs one io_context on several threads\n"
                 "  --payload BYTES      blob size written by inserts (default 64)\n"
                 "  --partitions N       key space (default 10000; select/mixed preload them)\n"
                 "  --ratio R:W          reads:writes of the mixed workload (default 1:1)\n"
                 "  --protocol 4|5       protocol version (default 4)\n"
                 "  --compression lz4|none\n"
                 "  --consistency CL     ONE, LOCAL_ONE (default), QUORUM, LOCAL_QUORUM, ALL, ...\n"
                 "  --contact HOST[:PORT] a cluster to use (repeatable); none: start cqlsim\n"
                 "  --local-dc DC        local datacenter (default: that of the first contact)\n"
                 "  --rf N               replication factor of the keyspace created (default 1)\n"
                 "  --keyspace KS        keyspace (default cqlbench)\n"
                 "  --cqlsim PATH        the cqlsim binary (default: the one built with cqlbench)\n"
                 "  --idle-connections N measure the memory of N idle connections instead\n"
                 "  --check              exit 1 unless every operation succeeded\n"
                 "  --max-allocs A       exit 1 when heap allocations per op exceed A\n"
                 "  --quiet              no progress line\n");
}

std::uint64_t to_u64(const char* s, const char* what) {
    char* end = nullptr;
    errno = 0;
    auto v = std::strtoull(s, &end, 10);
    if (!*s || *end || errno) die(std::string("bad ") + what + ": " + s);
    return v;
}

cql::consistency parse_consistency(std::string s) {
    for (auto& c : s)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    static const std::pair<const char*, cql::consistency> names[] = {
        {"ANY", cql::consistency::any},
        {"ONE", cql::consistency::one},
        {"TWO", cql::consistency::two},
        {"THREE", cql::consistency::three},
        {"QUORUM", cql::consistency::quorum},
        {"ALL", cql::consistency::all},
        {"LOCAL_QUORUM", cql::consistency::local_quorum},
        {"EACH_QUORUM", cql::consistency::each_quorum},
        {"LOCAL_ONE", cql::consistency::local_one},
    };
    for (const auto& [n, c] : names)
        if (s == n) return c;
    die("unknown consistency " + s);
}

options parse(int argc, char** argv) {
    options o;
    bool have_ops = false;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&]() -> const char* {
            if (i + 1 >= argc) die(a + " needs a value");
            return argv[++i];
        };
        if (a == "insert")
            o.work = workload::insert;
        else if (a == "select")
            o.work = workload::select;
        else if (a == "mixed")
            o.work = workload::mixed;
        else if (a == "--ops") {
            o.ops = to_u64(next(), "--ops");
            have_ops = true;
        } else if (a == "--duration")
            o.duration = std::atof(next());
        else if (a == "--warmup")
            o.warmup = to_u64(next(), "--warmup");
        else if (a == "--inflight")
            o.inflight = to_u64(next(), "--inflight");
        else if (a == "--connections")
            o.connections = to_u64(next(), "--connections");
        else if (a == "--threads")
            o.threads = to_u64(next(), "--threads");
        else if (a == "--user-threads")
            o.user_threads = std::max<std::uint64_t>(1, to_u64(next(), "--user-threads"));
        else if (a == "--max-allocs")
            o.max_allocs = std::strtod(next(), nullptr);
        else if (a == "--payload")
            o.payload = to_u64(next(), "--payload");
        else if (a == "--partitions")
            o.partitions = to_u64(next(), "--partitions");
        else if (a == "--ratio") {
            std::string r = next();
            auto colon = r.find(':');
            if (colon == std::string::npos) die("--ratio wants R:W");
            std::string rs = r.substr(0, colon);
            std::string ws = r.substr(colon + 1);
            o.read_ratio = static_cast<unsigned>(to_u64(rs.c_str(), "--ratio"));
            o.write_ratio = static_cast<unsigned>(to_u64(ws.c_str(), "--ratio"));
            if (o.read_ratio + o.write_ratio == 0) die("--ratio 0:0");
        } else if (a == "--protocol") {
            o.protocol = static_cast<int>(to_u64(next(), "--protocol"));
            if (o.protocol != 4 && o.protocol != 5) die("--protocol is 4 or 5");
        } else if (a == "--compression") {
            std::string c = next();
            if (c == "lz4")
                o.lz4 = true;
            else if (c == "none")
                o.lz4 = false;
            else
                die("--compression is lz4 or none");
        } else if (a == "--consistency") {
            o.consistency_name = next();
            o.consistency = parse_consistency(o.consistency_name);
        } else if (a == "--contact")
            o.contacts.push_back(next());
        else if (a == "--local-dc")
            o.local_dc = next();
        else if (a == "--rf")
            o.replication = static_cast<int>(to_u64(next(), "--rf"));
        else if (a == "--keyspace")
            o.keyspace = next();
        else if (a == "--cqlsim")
            o.cqlsim = next();
        else if (a == "--idle-connections")
            o.idle_connections = to_u64(next(), "--idle-connections");
        else if (a == "--check")
            o.check = true;
        else if (a == "--quiet")
            o.quiet = true;
        else if (a == "-h" || a == "--help") {
            usage();
            std::exit(0);
        } else {
            usage();
            die("unknown argument " + a);
        }
    }
    if (!have_ops && o.duration <= 0) o.ops = 200000;
    if (o.inflight == 0 || o.connections == 0 || o.partitions == 0) die("zero is not allowed");
    return o;
}

// ---- the cqlsim child process ----

pid_t g_child = -1;

void kill_child() {
    if (g_child > 0) {
        ::kill(g_child, SIGTERM);
        int st = 0;
        ::waitpid(g_child, &st, 0);
        g_child = -1;
    }
}

extern "C" void on_signal(int sig) {
    if (g_child > 0) ::kill(g_child, SIGTERM);
    ::_exit(128 + sig);
}

// Starts cqlsim on a free loopback port; returns "127.0.0.1:PORT".
std::string start_cqlsim(const std::string& path) {
    int fds[2];
    if (::pipe(fds) != 0) die("pipe failed");
    pid_t pid = ::fork();
    if (pid < 0) die("fork failed");
    if (pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        ::dup2(fds[1], STDOUT_FILENO);
        ::close(fds[0]);
        ::close(fds[1]);
        const char* args[] = {path.c_str(), "--nodes",        "1",         "--port",
                              "0",          "--base-address", "127.0.0.1", nullptr};
        ::execv(path.c_str(), const_cast<char* const*>(args));
        std::fprintf(stderr, "cqlbench: cannot run %s: %s\n", path.c_str(), std::strerror(errno));
        ::_exit(127);
    }
    g_child = pid;
    ::close(fds[1]);
    std::atexit(kill_child);
    FILE* in = ::fdopen(fds[0], "r");
    std::string endpoint;
    char line[512];
    while (std::fgets(line, sizeof line, in)) {
        unsigned node = 0;
        char addr[256];
        if (std::sscanf(line, "node %u %255s", &node, addr) == 2 && node == 1) endpoint = addr;
        if (std::strncmp(line, "ready", 5) == 0) break;
    }
    std::fclose(in);
    if (endpoint.empty()) die("cqlsim (" + path + ") did not start");
    return endpoint;
}

// ---- measurement helpers ----

struct cpu_times {
    double user = 0, sys = 0;
};
cpu_times cpu_now() {
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    auto sec = [](const timeval& t) {
        return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
    };
    return {sec(ru.ru_utime), sec(ru.ru_stime)};
}

long rss_bytes() {
    long pages = 0, resident = 0;
    if (FILE* f = std::fopen("/proc/self/statm", "r")) {
        if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
        std::fclose(f);
    }
    return resident * ::sysconf(_SC_PAGESIZE);
}

std::string json_escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            out += ' ';
        } else {
            out += c;
        }
    }
    return out;
}

// ---- the load ----

class bench;

// One of K request loops: issues a request, and the next one from its completion. Its
// figures are its own (the tool's io_context may run on several threads; a worker has one
// request at a time, so only its completion touches them), summed after each phase.
struct worker {
    bench* b = nullptr;
    cql::bound_statement insert_stmt;
    cql::bound_statement select_stmt;
    std::uint64_t rng = 0;
    clock_type::time_point started;
    bool reading = false;
    std::uint64_t budget = 0;                 // operations left in the phase (with a limit)
    std::uint64_t issued = 0;                 // in the phase
    std::uint64_t next_key = 0;               // sequential phases: this worker's next key
    std::atomic<std::uint64_t> completed{0};  // (read by the progress line)
    std::uint64_t errors = 0;
    std::uint64_t missing = 0;
    std::uint64_t bytes_read = 0;
    std::string first_error;

    // Starts the next request of the phase; false when the phase has no more.
    bool issue();
};

class bench {
  public:
    bench(asio::io_context& io, options o) : io_(io), opt_(std::move(o)) {}

    int run() {
        int rc = 0;
        asio::co_spawn(
            io_, [this, &rc]() -> asio::awaitable<void> { rc = co_await main_task(); },
            [](std::exception_ptr e) {
                if (e) std::rethrow_exception(e);
            });
        std::vector<std::thread> more;
        for (std::size_t i = 1; i < opt_.user_threads; ++i)
            more.emplace_back([this] { io_.run(); });
        io_.run();
        for (auto& t : more)
            t.join();
        return rc;
    }

    // ---- used by workers ----
    bool next_op(worker& w, bool& read) {
        if (stopping_.load(std::memory_order_relaxed)) return false;
        if (limit_ && w.budget == 0) return false;
        if (limit_) --w.budget;
        const auto i = w.issued++;
        switch (phase_work_) {
            case workload::insert:
                read = false;
                break;
            case workload::select:
                read = true;
                break;
            case workload::mixed:
                read = (i % (opt_.read_ratio + opt_.write_ratio)) < opt_.read_ratio;
                break;
        }
        return true;
    }
    std::uint64_t next_key(worker& w) {
        if (sequential_) return w.next_key++;
        // xorshift64*
        w.rng ^= w.rng >> 12;
        w.rng ^= w.rng << 25;
        w.rng ^= w.rng >> 27;
        return (w.rng * 2685821657736338717ULL) % opt_.partitions;
    }
    void finished(worker& w, cql::error_code ec, const cql::result& r, bool read) {
        const auto now = clock_type::now();
        w.completed.fetch_add(1, std::memory_order_relaxed);
        if (ec) {
            ++w.errors;
            if (w.first_error.empty()) w.first_error = ec.message();
        } else {
            latencies_.mine().record(static_cast<std::uint64_t>(
                std::chrono::duration_cast<std::chrono::nanoseconds>(now - w.started).count()));
            if (read) {
                if (r.empty()) {
                    ++w.missing;
                } else {
                    // zero-copy access to the row's blob
                    cql::protocol::bytes_view v;
                    if (!r.front().try_get(1, v)) w.bytes_read += v.size();
                }
            }
        }
        if (!w.issue()) worker_done();
    }
    void worker_done() {
        if (active_.fetch_sub(1) == 1)
            asio::post(io_, [this] { phase_done_->cancel(); });  // (the timer's thread)
    }
    std::uint64_t completed_so_far() const {
        std::uint64_t n = 0;
        for (const auto& w : workers_)
            n += w->completed.load(std::memory_order_relaxed);
        return n;
    }
    cql::session& session() { return cluster_->session(); }
    const std::vector<std::uint8_t>& payload() const { return payload_; }

  private:
    asio::awaitable<int> main_task();
    asio::awaitable<void> run_phase(workload w, std::uint64_t ops, double seconds, bool sequential,
                                    bool progress);
    asio::awaitable<bool> exec(const std::string& q);
    asio::awaitable<int> idle_connections();
    cql::cluster_config config(std::size_t connections) const;
    void report(double seconds, cpu_times cpu, std::uint64_t allocs, std::uint64_t alloc_bytes);

    asio::io_context& io_;
    options opt_;
    std::string endpoint_;
    std::unique_ptr<cql::cluster> cluster_;
    std::vector<std::unique_ptr<cql::cluster>> cluster_keep_;
    cql::prepared_statement insert_, select_;
    std::vector<std::unique_ptr<worker>> workers_;
    std::vector<std::uint8_t> payload_;

    // phase state
    workload phase_work_ = workload::select;
    std::uint64_t limit_ = 0;
    // Summed from the workers after each phase.
    std::uint64_t completed_ = 0;
    std::uint64_t errors_ = 0;
    std::uint64_t missing_ = 0;
    std::uint64_t bytes_read_ = 0;
    bool sequential_ = false;
    std::atomic<bool> stopping_{false};
    std::atomic<std::size_t> active_{0};
    std::optional<asio::steady_timer> phase_done_;
    std::string first_error_;
    cqlbench::histogram hist_;
    cqlbench::thread_histograms latencies_;

  public:
    std::string server_kind = "cqlsim-child";
    void set_endpoint(std::string e) { endpoint_ = std::move(e); }
};

bool worker::issue() {
    bool read = false;
    if (!b->next_op(*this, read)) return false;
    reading = read;
    auto& st = read ? select_stmt : insert_stmt;
    st.settings().clear_values();
    st.bind(static_cast<std::int64_t>(b->next_key(*this)));
    if (!read) st.bind(cql::protocol::bytes_view(b->payload().data(), b->payload().size()));
    started = clock_type::now();
    b->session().async_execute(
        st, [this](cql::error_code ec, cql::result r) { b->finished(*this, ec, r, reading); });
    return true;
}

cql::cluster_config bench::config(std::size_t connections) const {
    cql::cluster_config cfg;
    cfg.contact_points =
        opt_.contacts.empty() ? std::vector<std::string>{endpoint_} : opt_.contacts;
    cfg.local_datacenter = opt_.local_dc;
    cfg.version = opt_.protocol == 5 ? cql::protocol::protocol_version::v5
                                     : cql::protocol::protocol_version::v4;
    cfg.compression = opt_.lz4 ? cql::compression::lz4 : cql::compression::none;
    cfg.pool.local_connections = connections;
    cfg.pool.remote_connections = connections;
    const auto per_conn = (opt_.inflight + connections - 1) / connections;
    if (per_conn + 16 > cfg.pool.max_requests_per_connection)
        cfg.pool.max_requests_per_connection = per_conn + 16;
    cfg.io_threads = opt_.threads;
    cfg.request_timeout = std::chrono::milliseconds(30000);
    cfg.logger = [](cql::log_level l, std::string_view m) {
        std::fprintf(stderr, "[%.*s] %.*s\n", static_cast<int>(cql::to_string(l).size()),
                     cql::to_string(l).data(), static_cast<int>(m.size()), m.data());
    };
    cfg.log_level = cql::log_level::warning;
    return cfg;
}

asio::awaitable<bool> bench::exec(const std::string& q) {
    cql::diagnostics diag;
    auto [ec, r] = co_await session().async_execute(cql::statement(q), diag,
                                                    asio::as_tuple(asio::use_awaitable));
    if (ec) {
        std::fprintf(stderr, "cqlbench: %s: %s\n", q.c_str(), diag.message.c_str());
        co_return false;
    }
    co_return true;
}

asio::awaitable<void> bench::run_phase(workload w, std::uint64_t ops, double seconds,
                                       bool sequential, bool progress) {
    phase_work_ = w;
    limit_ = ops;
    completed_ = errors_ = missing_ = bytes_read_ = 0;
    sequential_ = sequential;
    stopping_ = false;
    hist_.reset();
    {
        // The operations are shared out among the workers (each its own key range when
        // sequential): no shared counter on the request path.
        const auto n = workers_.size();
        std::uint64_t key = 0;
        for (std::size_t i = 0; i < n; ++i) {
            auto& wk = *workers_[i];
            wk.budget = ops ? ops / n + (i < ops % n ? 1 : 0) : 0;
            wk.issued = 0;
            wk.next_key = key;
            key += wk.budget;
            wk.completed = 0;
            wk.errors = wk.missing = wk.bytes_read = 0;
            wk.first_error.clear();
        }
        latencies_.reset();
    }
    phase_done_.emplace(io_, clock_type::time_point::max());
    const auto start = clock_type::now();
    active_ = workers_.size() + 1;  // (+1 until every worker was started)
    for (auto& wk : workers_)
        if (!wk->issue()) worker_done();
    active_.fetch_sub(1);
    std::optional<asio::steady_timer> ticker;
    std::uint64_t last_done = 0;
    auto last_tick = start;
    const bool show = progress && !opt_.quiet && ::isatty(STDERR_FILENO);
    while (active_.load() > 0) {
        auto next = clock_type::now() + std::chrono::seconds(1);
        if (seconds > 0) {
            auto end = start + std::chrono::duration_cast<clock_type::duration>(
                                   std::chrono::duration<double>(seconds));
            if (end < next) next = end;
        }
        phase_done_->expires_at(next);
        co_await phase_done_->async_wait(asio::as_tuple(asio::use_awaitable));
        if (active_.load() == 0) break;
        auto now = clock_type::now();
        if (seconds > 0 && now - start >= std::chrono::duration<double>(seconds)) stopping_ = true;
        if (show && now - last_tick >= std::chrono::milliseconds(990)) {
            const double dt = std::chrono::duration<double>(now - last_tick).count();
            const auto done = completed_so_far();
            std::fprintf(stderr, "\r[%5.0fs] ops %-12" PRIu64 " rate %-10.0f   ",
                         std::chrono::duration<double>(now - start).count(), done,
                         static_cast<double>(done - last_done) / dt);
            std::fflush(stderr);
            last_done = done;
            last_tick = now;
        }
    }
    if (show) std::fprintf(stderr, "\n");
    for (const auto& wk : workers_) {
        completed_ += wk->completed.load();
        errors_ += wk->errors;
        missing_ += wk->missing;
        bytes_read_ += wk->bytes_read;
        if (first_error_.empty()) first_error_ = wk->first_error;
    }
    latencies_.merge_into(hist_);
}

asio::awaitable<int> bench::idle_connections() {
    // Heap and RSS growth of a connected cluster with 1 connection, then of one with
    // 1 + N connections to the same host; the difference over N is one idle connection.
    auto measure = [this](std::size_t conns) -> asio::awaitable<std::pair<long, long>> {
        const auto heap0 = cqlbench::live_heap_bytes();
        const auto rss0 = rss_bytes();
        auto c = std::make_unique<cql::cluster>(io_.get_executor(), config(conns));
        auto [ec] = co_await c->async_connect(asio::as_tuple(asio::use_awaitable));
        if (ec) die("connect: " + c->last_error().message);
        asio::steady_timer t(io_, std::chrono::milliseconds(300));
        co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
        const auto heap = cqlbench::live_heap_bytes() - heap0;
        const auto rss = rss_bytes() - rss0;
        cluster_keep_.push_back(std::move(c));  // stays open: idle
        co_return std::pair<long, long>{heap, rss};
    };
    auto [h1, r1] = co_await measure(1);
    auto [hn, rn] = co_await measure(1 + opt_.idle_connections);
    const double n = static_cast<double>(opt_.idle_connections);
    const double heap_per = static_cast<double>(hn - h1) / n;
    const double rss_per = static_cast<double>(rn - r1) / n;
    std::printf("idle connections: %zu\n", opt_.idle_connections);
    std::printf("  cluster with 1 connection: heap %+ld B, rss %+ld B\n", h1, r1);
    std::printf("  cluster with %zu connections: heap %+ld B, rss %+ld B\n",
                1 + opt_.idle_connections, hn, rn);
    std::printf(
        "  per idle connection: heap %.0f B, rss %.0f B (client side; kernel socket "
        "buffers not included)\n",
        heap_per, rss_per);
    std::printf(
        "{\"tool\":\"cqlbench\",\"mode\":\"idle_connections\",\"connections\":%zu,"
        "\"heap_bytes_per_connection\":%.0f,\"rss_bytes_per_connection\":%.0f}\n",
        opt_.idle_connections, heap_per, rss_per);
    for (auto& c : cluster_keep_)
        co_await c->async_close(asio::as_tuple(asio::use_awaitable));
    cluster_keep_.clear();
    co_return 0;
}

asio::awaitable<int> bench::main_task() {
    if (opt_.idle_connections > 0) co_return co_await idle_connections();

    cluster_ = std::make_unique<cql::cluster>(io_.get_executor(), config(opt_.connections));
    {
        auto [ec] = co_await cluster_->async_connect(asio::as_tuple(asio::use_awaitable));
        if (ec) {
            std::fprintf(stderr, "cqlbench: connect failed: %s\n",
                         cluster_->last_error().message.c_str());
            co_return 2;
        }
    }
    const std::string table = opt_.keyspace + ".kv";
    std::string ks_q = "CREATE KEYSPACE IF NOT EXISTS " + opt_.keyspace;
    ks_q += " WITH replication = {'class': 'SimpleStrategy', 'replication_factor': ";
    ks_q += std::to_string(opt_.replication) + "}";
    std::string tbl_q = "CREATE TABLE IF NOT EXISTS " + table;
    tbl_q += " (k bigint PRIMARY KEY, v blob)";
    bool ok = co_await exec(ks_q);
    if (ok) ok = co_await exec(tbl_q);
    if (!ok) co_return 2;
    std::string ins_q = "INSERT INTO " + table;
    ins_q += " (k, v) VALUES (?, ?)";
    std::string sel_q = "SELECT k, v FROM " + table;
    sel_q += " WHERE k = ?";
    {
        auto [e1, p1] =
            co_await session().async_prepare(ins_q, asio::as_tuple(asio::use_awaitable));
        auto [e2, p2] =
            co_await session().async_prepare(sel_q, asio::as_tuple(asio::use_awaitable));
        if (e1 || e2) {
            std::fprintf(stderr, "cqlbench: prepare failed: %s\n",
                         (e1 ? e1 : e2).message().c_str());
            co_return 2;
        }
        insert_ = p1;
        select_ = p2;
    }
    payload_.resize(opt_.payload);
    for (std::size_t i = 0; i < payload_.size(); ++i)
        payload_[i] = static_cast<std::uint8_t>(i * 131 + 7);
    for (std::size_t i = 0; i < opt_.inflight; ++i) {
        auto w = std::make_unique<worker>();
        w->b = this;
        w->insert_stmt = cql::bound_statement(insert_.info());
        w->select_stmt = cql::bound_statement(select_.info());
        w->insert_stmt.consistency(opt_.consistency);
        w->select_stmt.consistency(opt_.consistency);
        w->rng = 0x9E3779B97F4A7C15ULL * (i + 1);
        workers_.push_back(std::move(w));
    }

    if (opt_.work != workload::insert) {
        if (!opt_.quiet) std::fprintf(stderr, "loading %" PRIu64 " partitions\n", opt_.partitions);
        co_await run_phase(workload::insert, opt_.partitions, 0, true, false);
        if (errors_) {
            std::fprintf(stderr, "cqlbench: loading failed: %s\n", first_error_.c_str());
            co_return 1;
        }
    }
    if (opt_.warmup > 0) {
        if (!opt_.quiet) std::fprintf(stderr, "warming up: %" PRIu64 " ops\n", opt_.warmup);
        co_await run_phase(opt_.work, opt_.warmup, 0, false, false);
    }

    const auto cpu0 = cpu_now();
    const auto t0 = clock_type::now();
    cqlbench::start_counting();
    co_await run_phase(opt_.work, opt_.ops, opt_.duration, false, true);
    cqlbench::stop_counting();
    const auto t1 = clock_type::now();
    const auto cpu1 = cpu_now();
    const auto allocs = cqlbench::allocations();
    report(std::chrono::duration<double>(t1 - t0).count(),
           {cpu1.user - cpu0.user, cpu1.sys - cpu0.sys}, allocs, cqlbench::allocated_bytes());
    const double allocs_per_op =
        completed_ ? static_cast<double>(allocs) / static_cast<double>(completed_) : 0;

    {
        auto [ec] = co_await cluster_->async_close(asio::as_tuple(asio::use_awaitable));
        (void)ec;
    }
    workers_.clear();
    if (opt_.max_allocs >= 0 && allocs_per_op > opt_.max_allocs) {
        std::fprintf(stderr, "cqlbench: %.4f heap allocations per op, more than %.4f\n",
                     allocs_per_op, opt_.max_allocs);
        co_return 1;
    }
    if (opt_.check) {
        if (errors_ > 0 || (opt_.ops && completed_ != opt_.ops) || completed_ == 0 ||
            (opt_.work == workload::select && missing_ > 0)) {
            std::fprintf(stderr,
                         "cqlbench: check failed: %" PRIu64 " done, %" PRIu64 " errors, %" PRIu64
                         " rows missing\n",
                         completed_, errors_, missing_);
            co_return 1;
        }
    }
    co_return 0;
}

const char* workload_name(workload w) {
    switch (w) {
        case workload::insert:
            return "insert";
        case workload::select:
            return "select";
        case workload::mixed:
            return "mixed";
    }
    return "?";
}

void bench::report(double seconds, cpu_times cpu, std::uint64_t allocs, std::uint64_t alloc_bytes) {
    const double ops = static_cast<double>(completed_);
    const double cpu_s = cpu.user + cpu.sys;
    const double rate = seconds > 0 ? ops / seconds : 0;
    const double per_cpu = cpu_s > 0 ? ops / cpu_s : 0;
    const double apo = ops > 0 ? static_cast<double>(allocs) / ops : 0;
    const double bpo = ops > 0 ? static_cast<double>(alloc_bytes) / ops : 0;
    auto us = [&](double q) { return static_cast<double>(hist_.percentile(q)) / 1000.0; };
    const double maxus = static_cast<double>(hist_.max()) / 1000.0;
    std::printf("cqlbench %s: %" PRIu64 " ops in %.2f s, %" PRIu64 " errors%s%s\n",
                workload_name(opt_.work), completed_, seconds, errors_,
                first_error_.empty() ? "" : " (first: ", first_error_.empty() ? "" : ")");
    if (!first_error_.empty()) std::printf("  first error: %s\n", first_error_.c_str());
    std::printf("  server %s (%s), protocol v%d, compression %s, CL %s\n", server_kind.c_str(),
                opt_.contacts.empty() ? endpoint_.c_str() : opt_.contacts.front().c_str(),
                opt_.protocol, opt_.lz4 ? "lz4" : "none", opt_.consistency_name.c_str());
    std::printf(
        "  %zu in flight, %zu connection(s) per host, %zu io thread(s), %zu user thread(s), "
        "payload %zu B\n",
        opt_.inflight, opt_.connections, opt_.threads, opt_.user_threads, opt_.payload);
    std::printf("  throughput   %.0f ops/s\n", rate);
    std::printf("  latency us   p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f\n", us(0.5),
                us(0.9), us(0.99), us(0.999), maxus);
    std::printf(
        "  client CPU   %.3f s (user %.3f, sys %.3f): %.0f ops per CPU-second, %.2f us "
        "per op\n",
        cpu_s, cpu.user, cpu.sys, per_cpu, ops > 0 ? cpu_s * 1e6 / ops : 0.0);
    std::printf("  heap         %.3f allocations per op (%.0f bytes per op)\n", apo, bpo);
    if (missing_) std::printf("  rows missing %" PRIu64 "\n", missing_);
    std::printf(
        "{\"tool\":\"cqlbench\",\"workload\":\"%s\",\"server\":\"%s\",\"protocol\":%d,"
        "\"compression\":\"%s\",\"consistency\":\"%s\",\"inflight\":%zu,\"connections\":%zu,"
        "\"threads\":%zu,\"user_threads\":%zu,\"payload\":%zu,\"ops\":%" PRIu64
        ",\"errors\":%" PRIu64 ",\"rows_missing\":%" PRIu64
        ",\"seconds\":%.4f,\"throughput_ops_s\":%.1f,"
        "\"latency_us\":{\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"p999\":%.1f,\"max\":%.1f,"
        "\"mean\":%.1f},\"cpu_user_s\":%.4f,\"cpu_sys_s\":%.4f,\"cpu_s\":%.4f,"
        "\"ops_per_cpu_s\":%.1f,\"allocs_per_op\":%.4f,\"alloc_bytes_per_op\":%.1f,"
        "\"first_error\":\"%s\"}\n",
        workload_name(opt_.work), server_kind.c_str(), opt_.protocol, opt_.lz4 ? "lz4" : "none",
        opt_.consistency_name.c_str(), opt_.inflight, opt_.connections, opt_.threads,
        opt_.user_threads, opt_.payload, completed_, errors_, missing_, seconds, rate, us(0.5),
        us(0.9), us(0.99), us(0.999), maxus, hist_.mean() / 1000.0, cpu.user, cpu.sys, cpu_s,
        per_cpu, apo, bpo, json_escape(first_error_).c_str());
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
    options opt = parse(argc, argv);
    std::string endpoint;
    if (opt.contacts.empty()) {
        endpoint = start_cqlsim(opt.cqlsim);  // before any thread exists
        struct sigaction sa {};
        sa.sa_handler = on_signal;
        ::sigaction(SIGINT, &sa, nullptr);
        ::sigaction(SIGTERM, &sa, nullptr);
    }
    int rc = 0;
    {
        asio::io_context io(static_cast<int>(opt.user_threads));
        bench b(io, opt);
        b.set_endpoint(endpoint);
        if (!opt.contacts.empty()) b.server_kind = "cluster";
        rc = b.run();
    }
    kill_child();
    return rc;
}
