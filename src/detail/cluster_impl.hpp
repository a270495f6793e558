#pragma once
// The cluster's implementation: control connection, hosts, pools, prepared cache and the
// request executor. All mutable state lives on one strand (strand_); the few values read
// from other threads (hosts, metadata, token map, keyspace, version) are snapshots guarded
// by mutex_ or atomics.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "connection.hpp"
#include "cql/cluster.hpp"
#include "cql/detail/recycled_allocator.hpp"
#include "cql/execution_profile.hpp"
#include "cql/metadata.hpp"
#include "cql/prepared.hpp"
#include "cql/result.hpp"

namespace cql::detail {

namespace asio = boost::asio;
using clock = std::chrono::steady_clock;

// One request, encoded when it was initiated.
struct request_spec {
    enum class kind : std::uint8_t { query, execute, batch };
    kind type = kind::query;
    std::error_code ec;  // could not be encoded: fails at once
    std::string ec_message;
    protocol::byte_buffer frame;
    protocol::protocol_version version = protocol::protocol_version::v4;
    std::string keyspace;          // for routing
    std::string session_keyspace;  // a bound session's keyspace ("" : the cluster's)
    protocol::byte_buffer routing_key;
    protocol::consistency cl = protocol::consistency::local_one;
    bool idempotent = false;
    std::chrono::milliseconds timeout{0};
    const execution_profile* profile = nullptr;
    std::shared_ptr<const prepared_info> prepared;  // execute
    std::vector<std::shared_ptr<const prepared_info>> batch_prepared;
    diagnostics* diag = nullptr;
};

// A new request_spec, recycled per thread: its object (with the capacity of its buffers)
// and the shared_ptr's control block come back to free lists of the thread that drops the
// last reference.
std::shared_ptr<request_spec> new_request_spec();

class cluster_impl;

struct pooled_connection {
    std::shared_ptr<connection> conn;
    std::size_t inflight = 0;
    std::string keyspace;  // the keyspace USE made current on it
};

// The connections to one host (on the cluster's strand).
class host_pool : public std::enable_shared_from_this<host_pool> {
  public:
    host_pool(cluster_impl& c, host_ptr h, std::size_t size);
    const host_ptr& host() const noexcept { return host_; }

    // Opens the missing connections once (no backoff); false if none is healthy.
    asio::awaitable<bool> fill();
    // Starts the maintenance loop (reconnection with backoff, health).
    void start();
    void close();
    // Reconnects now (an UP event, a connection failure).
    void wake(bool reset_schedule);

    // A connection with room, waiting in the bounded queue until `deadline` when all are
    // busy. Errors: session_errc::busy (queue full), errc::connection_defunct (no healthy
    // connection), errc::timed_out.
    asio::awaitable<std::pair<std::error_code, std::shared_ptr<pooled_connection>>> acquire(
        clock::time_point deadline);
    // The fast path: a connection with room now (its inflight counted), or null; no waiting.
    std::shared_ptr<pooled_connection> try_acquire();
    void release(pooled_connection& pc);
    bool healthy() const;
    std::size_t size() const noexcept { return conns_.size(); }
    std::vector<std::shared_ptr<pooled_connection>> connections() const { return conns_; }

  private:
    std::shared_ptr<pooled_connection> pick();
    void prune();
    asio::awaitable<std::error_code> open_one();
    asio::awaitable<void> maintain();

    cluster_impl& cluster_;
    host_ptr host_;
    std::size_t target_;
    std::vector<std::shared_ptr<pooled_connection>> conns_;
    std::deque<std::shared_ptr<asio::steady_timer>> waiters_;
    asio::steady_timer timer_;
    std::unique_ptr<reconnection_schedule> schedule_;
    bool reset_schedule_ = false;
    bool closed_ = false;
    bool connecting_ = false;
};

// The cluster's strand: over the concrete executor of the io_context the given executor
// runs on (see io_executor_of).
class cluster_strand : public asio::strand<io_executor> {
  public:
    // (A template: a plain converting constructor from any_io_executor makes Asio's
    // executor concept checks on this type recurse.)
    template <class E, std::enable_if_t<std::is_same_v<E, asio::any_io_executor>, int> = 0>
    explicit cluster_strand(const E& ex) : asio::strand<io_executor>(io_executor_of(ex)) {}
};

class cluster_impl : public std::enable_shared_from_this<cluster_impl> {
  public:
    using strand_type = cluster_strand;

    cluster_impl(asio::any_io_executor ex, cluster_config cfg);
    ~cluster_impl();

    // ---- public entry points (any thread) ----
    void start_connect(std::unique_ptr<op_completion<error_code>> op, diagnostics* diag);
    void start_close(std::unique_ptr<op_completion<error_code>> op);
    void start_refresh(std::unique_ptr<op_completion<error_code>> op);
    // The slot (when connected) cancels the operation: it completes at once with
    // operation_aborted; a request in flight keeps its stream id until its late response.
    void start_request(std::shared_ptr<request_spec> spec, std::unique_ptr<result_completion> op,
                       asio::cancellation_slot slot = {});
    void start_prepare(std::string query, std::unique_ptr<prepare_completion> op,
                       asio::cancellation_slot slot = {}, std::string session_ks = {},
                       diagnostics* diag = nullptr);
    void start_check_agreement(std::unique_ptr<op_completion<error_code, bool>> op);
    // Close from the destructor of cql::cluster: no completion, joins own threads.
    void shutdown();

    // session_ks: the keyspace of a bound session ("" : the cluster's current one).
    std::shared_ptr<request_spec> make_spec(const statement& s, diagnostics* d,
                                            const std::string& session_ks = {});
    std::shared_ptr<request_spec> make_spec(const bound_statement& s, diagnostics* d,
                                            const std::string& session_ks = {});
    std::shared_ptr<request_spec> make_spec(const batch& b, diagnostics* d,
                                            const std::string& session_ks = {});

    asio::any_io_executor user_executor() const noexcept { return user_ex_; }
    const cluster_config& config() const noexcept { return cfg_; }
    protocol::protocol_version version() const noexcept { return version_.load(); }
    std::vector<host_ptr> hosts() const;
    std::shared_ptr<const schema_metadata> metadata() const;
    std::shared_ptr<const token_map> tokens() const;
    std::string keyspace() const;
    // keyspace_ = ks, under the mutex.
    void set_keyspace(const std::string& ks);
    std::string control_host() const;
    diagnostics last_error() const;

    // ---- for pools ----
    strand_type& strand() noexcept { return strand_; }
    asio::any_io_executor next_io_executor();
    connection_config connection_settings(const host_ptr& h) const;
    const reconnection_policy& reconnection() const noexcept { return *reconnection_; }
    void host_down(const host_ptr& h, std::error_code why);
    void host_up(const host_ptr& h);
    bool closing() const noexcept { return closing_.load(); }
    void log(log_level l, const std::string& message) const;
    std::int64_t next_timestamp() noexcept;

  private:
    friend class host_pool;
    struct exec_ctx;
    // The request fast path (session.cpp): one attempt on a connection available at once,
    // driven by callbacks, its state recycled; anything else is handed over to run_request.
    struct fast_request;
    struct fast_request_deleter {
        void operator()(fast_request* r) const noexcept;
    };
    using fast_request_ptr = std::unique_ptr<fast_request, fast_request_deleter>;
    void start_fast(std::shared_ptr<cluster_impl> self, std::shared_ptr<request_spec> spec,
                    std::unique_ptr<result_completion> op);
    void on_fast_response(fast_request& r, std::error_code ec, response&& resp);
    void finish_fast(fast_request& r, std::error_code ec, result res, diagnostics diag);
    // To the coroutine path: resume_host is the next host to try (resume) or the plan's next.
    // (failed: a host to note in the errors, with its error)
    // answer: the first attempt's answer, for run_attempt to handle (UNPREPARED).
    void hand_over(fast_request& r, bool resume, host_ptr resume_host, int retries,
                   const host_ptr& failed = nullptr, std::error_code failed_ec = {},
                   response* answer = nullptr, std::error_code answer_ec = {});
    asio::awaitable<void> finish_fast_schema_change(fast_request* r, result res);
    // Whether a connection on keyspace conn_ks needs a USE first for this request.
    bool needs_use(const request_spec& spec, const std::string& conn_ks) const;
    // What a successful answer changes, on either path: the prepared statement's result
    // metadata id (v5), the keyspace of the connection (and of the cluster) after a USE.
    void note_answer(const request_spec& spec, pooled_connection& pc, const result& r);
    // After a schema change: waits for agreement (recorded in r), refreshes the metadata.
    asio::awaitable<void> settle_schema_change(result& r);
    // The retry policy's decision on an error (overruled by rethrow once the cluster is
    // closing).
    retry_decision judge_error(const request_spec& spec, int retries, std::error_code ec,
                               const diagnostics& diag) const;

    // connect / control connection / events
    asio::awaitable<void> do_connect();
    // Completes every async_connect waiting for the connect under way.
    void finish_connect(std::error_code ec, std::string message);
    asio::awaitable<std::error_code> open_control(const std::vector<host_endpoint>& candidates,
                                                  std::string& errors);
    asio::awaitable<std::pair<std::error_code, result>> control_query(std::string q);
    asio::awaitable<std::error_code> refresh_topology();
    asio::awaitable<std::error_code> refresh_schema();
    asio::awaitable<void> watch_control();
    // schema_agreement.cpp: one check (every up node on one schema_version), and the wait
    // after a schema change (false when max_schema_agreement_wait passed first).
    asio::awaitable<std::pair<std::error_code, bool>> check_schema_agreement();
    asio::awaitable<bool> wait_schema_agreement();
    void on_event(std::shared_ptr<response> r);
    void schedule_refresh(bool topology);
    void apply_hosts(std::vector<host_info> infos);
    void rebuild_token_map();
    std::shared_ptr<host_pool> pool_for(const host_ptr& h) const;
    host_ptr find_host(const protocol::inet_address& a) const;
    std::vector<std::shared_ptr<load_balancing_policy>> lb_policies() const;

    // requests
    asio::awaitable<void> run_request(std::shared_ptr<exec_ctx> ctx,
                                      std::unique_ptr<result_completion> op);
    asio::awaitable<void> run_attempt(std::shared_ptr<exec_ctx> ctx);
    asio::awaitable<std::error_code> use_keyspace(pooled_connection& pc, const std::string& ks);
    asio::awaitable<std::error_code> prepare_on(pooled_connection& pc, const prepared_info& p,
                                                diagnostics& diag);
    struct prepare_op {
        std::unique_ptr<prepare_completion> op;
        diagnostics* diag = nullptr;  // the caller's: filled on failure, while op is pending
        void complete(error_code ec, prepared_statement p, const diagnostics* details = nullptr) {
            if (!op) return;
            if (ec && diag && details) *diag = *details;
            auto o = std::move(op);
            o->complete(ec, std::move(p));
        }
    };
    asio::awaitable<void> run_prepare(std::string query, std::shared_ptr<prepare_op> op,
                                      std::string session_ks);
    asio::awaitable<void> prepare_everywhere(std::shared_ptr<const prepared_info> p,
                                             host_ptr except);
    asio::awaitable<void> reprepare_on_host(host_ptr h);
    void request_done();
    void finish_close();

    asio::any_io_executor user_ex_;
    cluster_config cfg_;
    std::vector<std::unique_ptr<asio::io_context>> ios_;
    std::vector<asio::executor_work_guard<asio::io_context::executor_type>> work_;
    std::vector<std::thread> threads_;
    std::atomic<std::size_t> next_io_{0};
    strand_type strand_;
    execution_profiles profiles_;
    std::shared_ptr<reconnection_policy> reconnection_;

    std::atomic<protocol::protocol_version> version_{protocol::protocol_version::v5};
    std::atomic<bool> connected_{false};
    std::atomic<bool> closing_{false};
    std::atomic<std::int64_t> last_timestamp_{0};

    // strand-only
    std::shared_ptr<connection> control_;
    host_endpoint control_endpoint_;
    std::vector<host_endpoint> contact_points_;
    std::map<std::string, std::shared_ptr<host_pool>> pools_;  // key: endpoint text
    std::map<std::string, host_ptr> host_map_;
    bool lb_initialized_ = false;
    bool peers_v2_ = true;
    asio::steady_timer topology_timer_;
    asio::steady_timer schema_timer_;
    bool topology_pending_ = false;
    bool schema_pending_ = false;
    std::size_t inflight_ = 0;
    std::vector<std::unique_ptr<op_completion<error_code>>> close_waiters_;
    // async_connect calls waiting for the connect under way (each with its diagnostics).
    std::vector<std::pair<std::unique_ptr<op_completion<error_code>>, diagnostics*>>
        connect_waiters_;
    bool connect_running_ = false;
    bool closed_ = false;
    std::map<std::string, std::shared_ptr<const prepared_info>> prepared_;  // ks '\0' query
    std::vector<fast_request_ptr> fast_free_;  // recycled fast-path request states

    // snapshots for other threads
    mutable std::mutex mutex_;
    std::vector<host_ptr> hosts_;
    std::shared_ptr<const schema_metadata> schema_;
    std::shared_ptr<const token_map> token_map_;
    std::string keyspace_;
    // Whether keyspace_ is set (by the config or a USE): most clusters never set it, and
    // the hot path then reads no string under the mutex.
    std::atomic<bool> has_keyspace_{false};
    std::string control_host_;
    diagnostics last_error_;
};

// metadata.cpp: system tables to driver structures.
std::vector<host_info> parse_local_and_peers(const result& local, const result& peers,
                                             bool peers_v2, const host_endpoint& control,
                                             std::uint16_t default_port);
std::shared_ptr<schema_metadata> parse_schema(const result& keyspaces, const result& tables,
                                              const result& columns, const result& types);

}  // namespace cql::detail
