#pragma once
// Retry: what to do when an attempt of a request fails.
//
// Use by the session, after an attempt failed with `ec` (and the server's `diag`):
//   cql::retry_request req{idempotent, consistency_used, retries_so_far};
//   cql::retry_decision d = cql::decide_retry(*profile.retry, req, ec, diag);
//   switch (d.action) { retry_same_host / retry_next_host (with d.consistency if set),
//                       rethrow (fail the request with ec), ignore (succeed, empty result) }
// decide_retry() classifies the error and calls the policy; it never lets a request that
// is not idempotent be retried after an error that may have left it applied (write
// timeout, connection broken while in flight, client timeout, overloaded, server error,
// truncate error, read/write failure): those are rethrown without asking the policy.
// The session handles UNPREPARED (re-prepare) and cancellation itself; both rethrow here.

#include <cstdint>
#include <optional>
#include <string_view>
#include <system_error>

#include "cql/error.hpp"
#include "cql/protocol/version.hpp"

namespace cql {

struct retry_decision {
    enum class type : std::uint8_t { retry_same_host, retry_next_host, rethrow, ignore };
    type action = type::rethrow;
    std::optional<protocol::consistency> consistency{};  // for the retry; unset: unchanged

    static retry_decision retry_same_host(std::optional<protocol::consistency> cl = {}) {
        return {type::retry_same_host, cl};
    }
    static retry_decision retry_next_host(std::optional<protocol::consistency> cl = {}) {
        return {type::retry_next_host, cl};
    }
    static retry_decision rethrow() { return {type::rethrow, {}}; }
    static retry_decision ignore() { return {type::ignore, {}}; }

    friend bool operator==(const retry_decision&, const retry_decision&) = default;
};

// The request as the retry policy sees it.
struct retry_request {
    bool idempotent = false;  // effective idempotence: see is_idempotent()
    protocol::consistency consistency = protocol::consistency::local_one;  // of the failed attempt
    int retry_count = 0;  // retries already done for this request (0 at the first failure)
};

// A statement is idempotent when marked so, else when the profile's default says so; LWTs
// (IF ...) and counter updates never are.
constexpr bool is_idempotent(std::optional<bool> marked, bool profile_default, bool is_lwt,
                             bool is_counter) noexcept {
    if (is_lwt || is_counter) return false;
    return marked.value_or(profile_default);
}

// <writetype> of a write timeout / failure.
enum class write_type : std::uint8_t {
    simple,
    batch,
    unlogged_batch,
    counter,
    batch_log,
    cas,
    view,
    cdc,
    unknown
};
write_type parse_write_type(std::string_view s) noexcept;  // "BATCH_LOG" -> batch_log, ...

// Failures other than timeouts and unavailable.
enum class request_error : std::uint8_t {
    overloaded,         // server: OVERLOADED
    server_error,       // server: SERVER_ERROR
    truncate_error,     // server: TRUNCATE_ERROR
    read_failure,       // server: READ_FAILURE
    write_failure,      // server: WRITE_FAILURE
    is_bootstrapping,   // server: IS_BOOTSTRAPPING (the request was not executed)
    connection_broken,  // the connection failed while the request was in flight
    client_timeout,     // no response within the request timeout
    not_sent,           // the request never left (defunct connection, no stream id, ...)
};

class retry_policy {
  public:
    virtual ~retry_policy() = default;

    virtual retry_decision on_read_timeout(const retry_request& req, protocol::consistency cl,
                                           int received, int required, bool data_present) const = 0;
    // Only called for idempotent requests (see decide_retry).
    virtual retry_decision on_write_timeout(const retry_request& req, protocol::consistency cl,
                                            write_type type, int received, int required) const = 0;
    virtual retry_decision on_unavailable(const retry_request& req, protocol::consistency cl,
                                          int required, int alive) const = 0;
    // Called for non-idempotent requests only with is_bootstrapping and not_sent.
    virtual retry_decision on_request_error(const retry_request& req, request_error e) const = 0;
};

// Cassandra drivers' default:
//  - read timeout: retry once on the same host when enough replicas answered
//    (received >= required) but the data was not retrieved (the coordinator timed out
//    waiting for the data replica); else rethrow.
//  - write timeout: idempotent BATCH_LOG writes: retry once on the same host; else rethrow.
//  - unavailable: once on the next host (another coordinator may see more replicas alive).
//  - is_bootstrapping, not_sent: next host (nothing was executed).
//  - overloaded, server error, truncate error, connection broken, client timeout: next host
//    for idempotent requests, else rethrow. Read/write failure: rethrow.
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

// Never retries: every failure is returned to the caller.
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

// How an error code is handled: which policy hook, if any.
enum class retry_error_class : std::uint8_t {
    read_timeout,
    write_timeout,
    unavailable,
    request_error,  // see classify_request_error
    final,          // never retried (syntax, invalid, unauthorized, unprepared, cancelled, ...)
};
retry_error_class classify_retry_error(std::error_code ec) noexcept;
// For retry_error_class::request_error.
request_error classify_request_error(std::error_code ec) noexcept;

// Classifies `ec`, applies the idempotence rule above and asks the policy. For server errors
// the details (consistency, received, required, alive, data_present, write_type) come from
// `diag`; a missing consistency level falls back to req.consistency.
retry_decision decide_retry(const retry_policy& policy, const retry_request& req,
                            std::error_code ec, const diagnostics& diag);

}  // namespace cql
