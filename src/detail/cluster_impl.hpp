#pragma once
// The cluster's implementation.
//
// Requests run on shards (shard.hpp), never on a cluster-wide strand: a request is encoded
// on the caller's thread (make_request), handed to one shard and driven there by the
// request engine (engine.hpp). The control work (control connection, discovery, events,
// schema, prepared statements, host states, close) runs on the control executor, which is
// shard 0's; it publishes what requests and users read (hosts, schema, token map, keyspace)
// as snapshots.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "cql/cluster.hpp"
#include "cql/execution_profile.hpp"
#include "cql/metadata.hpp"
#include "cql/prepared.hpp"
#include "cql/result.hpp"
#include "detail/connection.hpp"
#include "detail/engine.hpp"
#include "detail/pool.hpp"
#include "detail/shard.hpp"

namespace cql::detail {

class cluster_impl : public std::enable_shared_from_this<cluster_impl> {
  public:
    cluster_impl(asio::any_io_executor ex, cluster_config cfg);
    ~cluster_impl();

    // ---- public entry points (any thread) ----
    void start_connect(op_ptr<error_code> op, diagnostics* diag);
    void start_close(op_ptr<error_code> op);
    void start_refresh(op_ptr<error_code> op);
    void start_check_agreement(op_ptr<error_code, bool> op);
    // Runs a request made by make_request (completing r->op).
    void start_request(request_handle r, result_completion op, asio::cancellation_slot slot = {});
    void start_prepare(std::string query, prepare_completion op, asio::cancellation_slot slot = {},
                       std::string session_ks = {}, diagnostics* diag = nullptr);
    // Close from the destructor of cql::cluster: no completion, joins own threads.
    void shutdown();

    // session_ks: the keyspace of a bound session ("" : the cluster's current one).
    request_handle make_request(const statement& s, diagnostics* d, const std::string& session_ks);
    request_handle make_request(const bound_statement& s, diagnostics* d,
                                const std::string& session_ks);
    request_handle make_request(const batch& b, diagnostics* d, const std::string& session_ks);

    asio::any_io_executor user_executor() const noexcept { return user_ex_; }
    // The session bound to `keyspace` (made on first use; lives as long as the cluster).
    cql::session& bound_session(std::string_view keyspace);
    const cluster_config& config() const noexcept { return cfg_; }
    protocol::protocol_version version() const noexcept { return version_.load(); }
    std::vector<host_ptr> hosts() const;
    std::shared_ptr<const schema_metadata> metadata() const;
    std::shared_ptr<const token_map> tokens() const;
    std::string keyspace() const;
    void set_keyspace(const std::string& ks);
    std::string control_host() const;
    diagnostics last_error() const;
    bool closing() const noexcept { return closing_.load(); }
    void log(log_level l, const std::string& message) const;
    std::int64_t next_timestamp() noexcept;

    // ---- for shards and pools ----
    connection_config connection_settings(const host_ptr& h) const;
    std::shared_ptr<cql::reconnection_policy> reconnection() const { return reconnection_; }
    // A pool (of shard `shard`) got its first connection, or has none (on that shard).
    void pool_health(std::size_t shard, const host_ptr& h, bool healthy, std::error_code ec,
                     const std::string& why);
    void settle_schema_change(shard& s, request& r, host_ptr coordinator);
    // A closed shard has no request left (on that shard).
    void shard_drained(shard& s);

  private:
    struct host_state {
        std::vector<char> reported;  // per shard: its pool reported once
        std::vector<char> healthy;   // per shard
    };
    struct prepare_op;

    shard& control_shard() noexcept { return *shards_.front(); }
    const strand_executor& control_executor() const noexcept { return shards_.front()->executor(); }
    shard& pick_shard() noexcept;
    // Fills the parts of a spec every kind shares; false when it failed (spec.ec set).
    bool begin_spec(request& r, diagnostics* d, const std::string& session_ks, request_spec::kind k,
                    const std::string& profile_name);

    // connect / control connection / events (control executor)
    asio::awaitable<void> do_connect();
    void finish_connect(std::error_code ec, std::string message);
    asio::awaitable<std::error_code> open_control(const std::vector<host_endpoint>& candidates,
                                                  std::string& errors);
    asio::awaitable<std::pair<std::error_code, result>> control_query(std::string q);
    // Runs a request on the control shard and waits for it.
    asio::awaitable<std::pair<std::error_code, result>> run_on_control(request_handle r);
    asio::awaitable<std::error_code> refresh_topology();
    asio::awaitable<std::error_code> refresh_schema();
    asio::awaitable<void> reconnect_control();
    asio::awaitable<void> wait_for_pools();
    // schema_agreement.cpp: whether every up node reports one schema version, as `via`
    // sees it (system.local and peers read on that host; null: the control connection).
    asio::awaitable<std::pair<std::error_code, bool>> check_schema_agreement(
        host_ptr via = nullptr);
    asio::awaitable<bool> wait_schema_agreement(host_ptr via = nullptr);
    // A query on one host (through the engine, that host alone).
    asio::awaitable<std::pair<std::error_code, result>> host_query(const host_ptr& h,
                                                                   std::string q);
    // Sleeps on the control executor; close() wakes every sleeper at once (false then).
    asio::awaitable<bool> control_sleep(std::chrono::milliseconds d);
    void on_event(std::shared_ptr<response> r);
    void on_control_down(const void* c, std::error_code ec);
    void schedule_refresh(bool topology);
    void apply_hosts(std::vector<host_info> infos);
    void sync_pools();
    void add_pools(const host_ptr& h, host_distance d);
    void remove_pools(const host_ptr& h);
    void retire_pools(const host_ptr& h);
    void forget_pool_states(const host_ptr& h);
    void rebuild_token_map();
    host_ptr find_host(const protocol::inet_address& a) const;
    void host_down(const host_ptr& h, const std::string& why);
    void host_up(const host_ptr& h);
    std::vector<std::shared_ptr<load_balancing_policy>> lb_policies() const;
    // Runs f(shard&) on every shard's executor.
    template <class F>
    void on_every_shard(F f) {
        for (auto& s : shards_) {
            auto* sh = s.get();
            asio::post(sh->executor(), [sh, f, keep = shared_from_this()] { f(*sh); });
        }
    }

    // prepare (control executor)
    asio::awaitable<void> run_prepare(std::string query, std::shared_ptr<prepare_op> op,
                                      std::string session_ks);
    asio::awaitable<std::error_code> prepare_on(const host_ptr& h, const prepared_info& p,
                                                diagnostics& diag);
    asio::awaitable<void> reprepare_on_host(host_ptr h);

    // close (control executor)
    void maybe_finish_close();
    // Lets the own io threads end once they run out of work.
    void release_threads();

    asio::any_io_executor user_ex_;
    cluster_config cfg_;
    std::vector<std::unique_ptr<asio::io_context>> ios_;
    std::mutex work_mutex_;  // (the close and the destructor release work_ on other threads)
    std::vector<asio::executor_work_guard<asio::io_context::executor_type>> work_;
    std::vector<std::thread> threads_;
    std::vector<std::unique_ptr<shard>> shards_;
    execution_profiles profiles_;
    std::shared_ptr<cql::reconnection_policy> reconnection_;

    std::atomic<protocol::protocol_version> version_{protocol::protocol_version::v5};
    std::atomic<bool> connected_{false};
    std::atomic<bool> closing_{false};
    std::atomic<std::int64_t> last_timestamp_{0};

    // control executor only
    std::shared_ptr<connection> control_;
    std::unique_ptr<pooled_channel> control_channel_;  // the control connection, for requests
    std::shared_ptr<connection> control_opening_;      // a control connection being opened
    host_endpoint control_endpoint_;
    std::vector<host_endpoint> contact_points_;
    std::map<std::string, host_ptr> host_map_;  // key: endpoint text
    std::map<const host*, host_state> host_states_;
    bool lb_initialized_ = false;
    bool peers_v2_ = true;
    std::optional<asio::steady_timer> topology_timer_;  // (on the control executor)
    std::optional<asio::steady_timer> schema_timer_;
    bool topology_pending_ = false;
    bool schema_pending_ = false;
    bool reconnecting_control_ = false;
    std::size_t pools_pending_ = 0;  // first reports awaited by the connect
    std::optional<asio::steady_timer> pools_ready_;
    std::set<asio::steady_timer*> sleepers_;
    std::vector<op_ptr<error_code>> close_waiters_;
    std::vector<std::pair<op_ptr<error_code>, diagnostics*>> connect_waiters_;
    bool connect_running_ = false;
    bool closed_ = false;
    bool close_finished_ = false;
    std::size_t shards_drained_ = 0;
    std::map<std::string, std::shared_ptr<const prepared_info>> prepared_;  // ks '\0' query

    // snapshots for other threads
    mutable std::mutex mutex_;
    std::vector<host_ptr> hosts_;
    std::shared_ptr<const schema_metadata> schema_;
    std::shared_ptr<const token_map> token_map_;
    std::string keyspace_;
    // Whether keyspace_ is set (by the config or a USE): most clusters never set it, and
    // requests then read no string under the mutex.
    std::atomic<bool> has_keyspace_{false};
    std::string control_host_;
    diagnostics last_error_;

    std::mutex sessions_mutex_;
    std::map<std::string, std::unique_ptr<cql::session>, std::less<>> sessions_;

    // The user's logger is never called once the close completed.
    mutable std::mutex log_mutex_;
    bool log_silenced_ = false;
};

// metadata.cpp: system tables to driver structures.
std::vector<host_info> parse_local_and_peers(const result& local, const result& peers,
                                             bool peers_v2, const host_endpoint& control,
                                             std::uint16_t default_port);
std::shared_ptr<schema_metadata> parse_schema(const result& keyspaces, const result& tables,
                                              const result& columns, const result& types);

}  // namespace cql::detail
