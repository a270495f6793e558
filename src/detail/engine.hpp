#pragma once
// The request engine: one state machine per request, without I/O of its own.
//
// A request is encoded when it is initiated (request_spec), then driven on one shard (one
// executor: everything that happens to it happens there): it takes hosts from its query
// plan, a connection (channel) from each host's pool (waiting in the pool's queue when all
// are busy), sends a USE first when the connection is on another keyspace, sends its frame,
// and judges the answer: success, UNPREPARED (re-prepare on that connection, send again),
// or an error the retry policy decides on (same host, next host, ignore, rethrow). An
// idempotent request may have speculative executions: more attempts on the next hosts
// while the first waits. It has one deadline; when it passes, or the user cancels, the
// request completes at once and its attempts are abandoned (their stream ids wait for the
// late answers; nothing is sent again).
//
// What it needs from the world is behind three interfaces, so that tests drive it with a
// mock clock, mock pools and mock connections: request_env (the shard), channel_pool (the
// connections to one host) and channel (one connection).

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "cql/error.hpp"
#include "cql/execution_profile.hpp"
#include "cql/host.hpp"
#include "cql/policies/load_balancing.hpp"
#include "cql/policies/speculative_execution.hpp"
#include "cql/prepared.hpp"
#include "cql/result.hpp"
#include "cql/session.hpp"
#include "detail/stream_table.hpp"
#include "detail/timer_queue.hpp"

namespace cql {
enum class log_level : std::uint8_t;
}

namespace cql::detail {

// One connection, as requests see it.
class channel {
  public:
    // Sends a whole request frame on a free stream id (see connection::send).
    virtual std::error_code send(stream_callback* cb, protocol::bytes_view frame,
                                 std::int16_t& id) = 0;
    // The request of stream `id` gives up (see connection::abandon).
    virtual void abandon(std::int16_t id) noexcept = 0;
    virtual protocol::protocol_version version() const noexcept = 0;
    // When the last bytes arrived (an answer's time, without reading the clock again).
    virtual clock::time_point last_read() const noexcept = 0;

    std::string keyspace;  // of the last USE that succeeded on it

  protected:
    ~channel() = default;
};

// A request waiting in a pool's queue.
class pool_waiter {
  public:
    // A channel became free (counted as acquired), or the wait failed (ec: the pool closed,
    // or it has no healthy connection left).
    virtual void on_channel(channel* c, std::error_code ec) = 0;

    pool_waiter* prev_waiter = nullptr;  // the pool's intrusive queue
    pool_waiter* next_waiter = nullptr;
    bool waiting = false;

  protected:
    ~pool_waiter() = default;
};

// The connections to one host on one shard.
class channel_pool {
  public:
    // A channel with room now (counted as acquired), or null.
    virtual channel* try_acquire() = 0;
    virtual void release(channel& c) = 0;
    // No channel has room: queue `w` (FIFO, bounded) and return success, or say why not:
    // session_errc::busy (queue full), errc::connection_defunct (no healthy connection),
    // session_errc::closed.
    virtual std::error_code wait(pool_waiter& w) = 0;
    virtual void cancel_wait(pool_waiter& w) noexcept = 0;

  protected:
    ~channel_pool() = default;
};

class request;
struct result_columns;  // (result_columns.hpp)

// What a user's cancellation slot holds: the request while it runs (nulled, on its shard,
// when it completes).
struct cancel_link {
    request* target = nullptr;
};

// The shard a request runs on.
class request_env {
  public:
    virtual clock::time_point now() = 0;
    // The pool of `h` on this shard (null: none, e.g. an ignored host).
    virtual channel_pool* pool_for(const host& h) = 0;
    virtual timer_queue& timers() = 0;
    // After timers() changed: the earliest deadline may be new.
    virtual void timers_changed() = 0;
    virtual bool closing() const = 0;
    virtual void log(log_level l, std::string_view message) = 0;
    // Every known host, for a message naming them.
    virtual std::vector<host_ptr> known_hosts() = 0;
    // A USE through a session without a bound keyspace changed the cluster's keyspace.
    virtual void keyspace_changed(const std::string& ks) = 0;
    // The request got a SCHEMA_CHANGE result from `coordinator`: the env waits for schema
    // agreement (as the coordinator sees it), refreshes the metadata, then calls
    // r.complete_schema_change(agreed) on this shard.
    virtual void settle_schema_change(request& r, const host_ptr& coordinator) = 0;
    // The request completed (its handler was posted): the env may reuse it.
    virtual void done(request& r) = 0;

  protected:
    ~request_env() = default;
};

// One request, encoded when it was initiated.
struct request_spec {
    enum class kind : std::uint8_t { query, execute, batch, prepare };
    kind type = kind::query;
    std::error_code ec;  // could not be encoded: fails at once
    std::string ec_message;
    protocol::byte_buffer frame;
    protocol::protocol_version version = protocol::protocol_version::v4;
    std::string keyspace;          // for routing
    std::string session_keyspace;  // a bound session's keyspace ("" : the cluster's)
    std::string use_keyspace;      // the keyspace the connection must be on ("" : any)
    protocol::byte_buffer routing_key;
    protocol::consistency cl = protocol::consistency::local_one;
    bool idempotent = false;
    std::chrono::milliseconds timeout{0};
    const execution_profile* profile = nullptr;
    std::shared_ptr<const prepared_info> prepared;  // execute
    // execute: the result columns the server was asked to leave out (skip_metadata) and the
    // rows are read with (a version of prepared's); null when not skipped.
    const result_columns* skipped_columns = nullptr;
    std::vector<std::shared_ptr<const prepared_info>> batch_prepared;
    diagnostics* diag = nullptr;
    host_ptr only_host;          // set: the plan is this host alone (prepare on every host)
    channel* pinned = nullptr;   // set: sent on this channel only, never retried (control queries)
    bool track_latency = false;  // record the answer time in the host's latency tracker
    host_ptr* answered_by = nullptr;  // set: receives the host that answered successfully

    // Back to the state of a new spec, keeping the buffers' capacity.
    void reset();
};

class request final : public timer_entry {
  public:
    request();
    ~request();
    request(const request&) = delete;
    request& operator=(const request&) = delete;

    request_spec spec;
    result_completion op;
    std::shared_ptr<cancel_link> link;  // set when the user's handler has a cancellation slot

    // On the shard: plans, schedules and sends the first attempt.
    void start(request_env& env);
    // On the shard: the user cancelled; completes now with operation_aborted.
    void cancel();
    // After env.settle_schema_change(): completes with the held result.
    void complete_schema_change(bool agreed);
    // Whether the request is still running (not completed).
    bool running() const noexcept { return env_ != nullptr && !done_; }
    // Ready for another use (keeps buffers' capacity).
    void reset();

    void on_timer(clock::time_point now) override;

    // Bumped at each completion: a posted cancellation checks it is still for this use.
    std::uint64_t generation() const noexcept { return generation_; }

  private:
    struct attempt;
    friend struct attempt;
    // Every call from outside (start, answers, pool wake-ups, timers, cancellation) holds
    // one: the request is handed back to env.done() only when the outermost one ends, so
    // code inside may complete the request and simply return.
    struct entry_guard;
    friend struct entry_guard;

    attempt& new_attempt();
    void run(attempt& a);
    void use_channel(attempt& a, channel_pool& pool, channel& c);
    void send_main(attempt& a);
    // The request did not go out on the attempt's connection (or was not applied there):
    // the next host of the plan takes it, whatever its idempotence (a pinned one fails).
    void not_sent(attempt& a, std::error_code ec);
    void on_attempt_answer(attempt& a, std::error_code ec, response&& r);
    void on_main_answer(attempt& a, std::error_code ec, response&& r);
    // Rows of a prepared statement: the columns they are read with. False when the request
    // went again or failed instead.
    bool read_columns(attempt& a, result& res);
    // A re-preparation's answer: the statement's result columns as the server has them now
    // (how v4 learns that its table changed).
    void adopt_prepared(attempt& a, response& r);
    bool start_reprepare(attempt& a);
    void send_prepare(attempt& a);
    void on_prepare_answer(attempt& a, std::error_code ec, response&& r);
    void on_failure(attempt& a, std::error_code ec, diagnostics diag);
    void release(attempt& a);
    void attempt_over(attempt& a);
    // A host failed the request: named in the error of a request that runs out of hosts.
    void note(const host& h, std::error_code ec, const diagnostics* d = nullptr);
    host_ptr next_host();
    void arm_timer();
    void finish(std::error_code ec, result r, diagnostics diag);
    void fail_now(std::error_code ec, std::string message);
    retry_decision judge(std::error_code ec, const diagnostics& diag) const;

    request_env* env_ = nullptr;
    query_plan plan_;
    bool plan_done_ = false;
    speculative_schedule schedule_;
    clock::time_point started_{};
    clock::time_point deadline_ = clock::time_point::max();
    clock::time_point next_speculative_ = clock::time_point::max();
    std::vector<std::unique_ptr<attempt>> attempts_;  // their count grows to the most used
    std::size_t attempts_used_ = 0;
    int running_ = 0;
    int retries_ = 0;
    bool done_ = false;
    bool tried_any_ = false;
    bool all_busy_ = true;
    std::string errors_;
    diagnostics last_server_error_;
    result held_;  // a schema change's result while the schema settles
    bool settling_ = false;
    int depth_ = 0;
    std::uint64_t generation_ = 0;
};

}  // namespace cql::detail
