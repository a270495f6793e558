#pragma once
/// \file
/// Retry: what to do when an attempt of a request fails.
///
/// Use by the session, after an attempt failed with `ec` (and the server's `diag`):
/// \code
///   cql::retry_request req{idempotent, consistency_used, retries_so_far};
///   cql::retry_decision d = cql::decide_retry(*profile.retry, req, ec, diag);
///   switch (d.action) { retry_same_host / retry_next_host (with d.consistency if set),
///                       rethrow (fail the request with ec), ignore (succeed, empty result) }
/// \endcode
/// decide_retry() classifies the error and calls the policy; it never lets a request that
/// is not idempotent be retried after an error that may have left it applied (write
/// timeout, connection broken while in flight, client timeout, overloaded, server error,
/// truncate error, read/write failure): those are rethrown without asking the policy.
/// The session handles UNPREPARED (re-prepare) and cancellation itself; both rethrow here.

#include <cstdint>
#include <optional>
#include <string_view>
#include <system_error>

#include "cql/error.hpp"
#include "cql/protocol/version.hpp"

namespace cql {

/// What a retry_policy decided for one failed attempt; build it with the named constructors.
struct retry_decision {
    /// The possible decisions.
    enum class type : std::uint8_t {
        retry_same_host,  ///< send the request again to the host that failed
        retry_next_host,  ///< send it to the next host of the query plan
        rethrow,          ///< fail the request with the attempt's error
        ignore            ///< complete the request successfully with an empty result
    };
    /// What to do.
    type action = type::rethrow;
    std::optional<protocol::consistency> consistency{};  ///< for the retry; unset: unchanged

    /// Retry on the same host, at consistency `cl` (unset: unchanged).
    static retry_decision retry_same_host(std::optional<protocol::consistency> cl = {}) {
        return {type::retry_same_host, cl};
    }
    /// Retry on the next host of the plan, at consistency `cl` (unset: unchanged).
    static retry_decision retry_next_host(std::optional<protocol::consistency> cl = {}) {
        return {type::retry_next_host, cl};
    }
    /// Fail the request with the attempt's error.
    static retry_decision rethrow() { return {type::rethrow, {}}; }
    /// Pretend success: the request completes without error and with an empty result
    /// (e.g. for a best-effort write whose loss is acceptable).
    static retry_decision ignore() { return {type::ignore, {}}; }

    friend bool operator==(const retry_decision&, const retry_decision&) = default;
};

/// The request as the retry policy sees it.
struct retry_request {
    bool idempotent = false;  ///< effective idempotence: see is_idempotent()
    /// The consistency of the failed attempt.
    protocol::consistency consistency = protocol::consistency::local_one;
    int retry_count = 0;  ///< retries already done for this request (0 at the first failure)
};

/// A statement is idempotent when marked so, else when the profile's default says so; LWTs
/// (IF ...) and counter updates never are.
constexpr bool is_idempotent(std::optional<bool> marked, bool profile_default, bool is_lwt,
                             bool is_counter) noexcept {
    if (is_lwt || is_counter) return false;
    return marked.value_or(profile_default);
}

/// The `<writetype>` of a write timeout / failure: what kind of write timed out.
enum class write_type : std::uint8_t {
    simple,          ///< SIMPLE: a non-batched, non-counter write
    batch,           ///< BATCH: a logged batch, after the batch log was written
    unlogged_batch,  ///< UNLOGGED_BATCH
    counter,         ///< COUNTER: a counter write (batched or not)
    batch_log,       ///< BATCH_LOG: writing the batch log itself (the batch was not applied)
    cas,             ///< CAS: a conditional (LWT) write, Paxos phase
    view,            ///< VIEW: a materialized view update
    cdc,             ///< CDC: a write to a table with change data capture
    unknown          ///< anything else
};
/// "BATCH_LOG" -> batch_log, ...; unknown text -> unknown.
write_type parse_write_type(std::string_view s) noexcept;

/// Failures other than timeouts and unavailable.
enum class request_error : std::uint8_t {
    overloaded,         ///< server: OVERLOADED
    server_error,       ///< server: SERVER_ERROR
    truncate_error,     ///< server: TRUNCATE_ERROR
    read_failure,       ///< server: READ_FAILURE
    write_failure,      ///< server: WRITE_FAILURE
    is_bootstrapping,   ///< server: IS_BOOTSTRAPPING (the request was not executed)
    connection_broken,  ///< the connection failed while the request was in flight
    client_timeout,     ///< no response within the request timeout
    not_sent,           ///< the request never left (defunct connection, no stream id, ...)
};

/// Decides whether a failed attempt is retried, where and at which consistency. The session
/// calls it through decide_retry(), from any thread and concurrently: implementations must
/// be stateless or synchronized. Use retry_request::retry_count to bound retries (the
/// driver does not). Set it in execution_profile::retry.
class retry_policy {
  public:
    virtual ~retry_policy() = default;

    /// A READ_TIMEOUT: `received` of `required` replicas answered at consistency `cl`;
    /// `data_present` says whether the replica asked for the data was among them.
    virtual retry_decision on_read_timeout(const retry_request& req, protocol::consistency cl,
                                           int received, int required, bool data_present) const = 0;
    /// A WRITE_TIMEOUT of a write of kind `type`: `received` of `required` acknowledged.
    /// Only called for idempotent requests (see decide_retry).
    virtual retry_decision on_write_timeout(const retry_request& req, protocol::consistency cl,
                                            write_type type, int received, int required) const = 0;
    /// An UNAVAILABLE: the coordinator saw only `alive` replicas up of the `required` ones
    /// (nothing was executed).
    virtual retry_decision on_unavailable(const retry_request& req, protocol::consistency cl,
                                          int required, int alive) const = 0;
    /// Any other retryable failure, see request_error.
    /// Called for non-idempotent requests only with is_bootstrapping and not_sent.
    virtual retry_decision on_request_error(const retry_request& req, request_error e) const = 0;
};

/// Cassandra drivers' default:
///  - read timeout: retry once on the same host when enough replicas answered
///    (received >= required) but the data was not retrieved (the coordinator timed out
///    waiting for the data replica); else rethrow.
///  - write timeout: idempotent BATCH_LOG writes: retry once on the same host; else rethrow.
///  - unavailable: once on the next host (another coordinator may see more replicas alive).
///  - is_bootstrapping, not_sent: next host (nothing was executed).
///  - overloaded, server error, truncate error, connection broken, client timeout: next host
///    for idempotent requests, else rethrow. Read/write failure: rethrow.
class default_retry_policy : public retry_policy {
  public:
    retry_decision on_read_timeout(const retry_request& req, protocol::consistency cl, int received,
                                   int required, bool data_present) const override;
    retry_decision on_write_timeout(const retry_request& req, protocol::consistency cl,
                                    write_type type, int received, int required) const override;
    retry_decision on_unavailable(const retry_request& req, protocol::consistency cl, int required,
                                  int alive) const override;
    retry_decision on_request_error(const retry_request& req, request_error e) const override;
};

/// Never retries: every failure is returned to the caller.
class fallthrough_retry_policy : public retry_policy {
  public:
    retry_decision on_read_timeout(const retry_request&, protocol::consistency, int, int,
                                   bool) const override {
        return retry_decision::rethrow();
    }
    retry_decision on_write_timeout(const retry_request&, protocol::consistency, write_type, int,
                                    int) const override {
        return retry_decision::rethrow();
    }
    retry_decision on_unavailable(const retry_request&, protocol::consistency, int,
                                  int) const override {
        return retry_decision::rethrow();
    }
    retry_decision on_request_error(const retry_request&, request_error) const override {
        return retry_decision::rethrow();
    }
};

/// How an error code is handled: which policy hook, if any.
enum class retry_error_class : std::uint8_t {
    read_timeout,
    write_timeout,
    unavailable,
    request_error,  ///< see classify_request_error
    final,          ///< never retried (syntax, invalid, unauthorized, unprepared, cancelled, ...)
};
/// Which policy hook handles `ec` (server codes from cql::server_errc, client ones from
/// cql::errc and socket errors).
retry_error_class classify_retry_error(std::error_code ec) noexcept;
/// For retry_error_class::request_error.
request_error classify_request_error(std::error_code ec) noexcept;

/// Classifies `ec`, applies the idempotence rule above and asks the policy. For server errors
/// the details (consistency, received, required, alive, data_present, write_type) come from
/// `diag`; a missing consistency level falls back to req.consistency.
retry_decision decide_retry(const retry_policy& policy, const retry_request& req,
                            std::error_code ec, const diagnostics& diag);

}  // namespace cql
