#pragma once
// cqlsim's fault injection vocabulary: primed errors and the per-node request log.
// The cluster (cluster.hpp) applies them; the admin endpoint (admin.hpp) parses them
// from text.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cql/protocol/bytes.hpp"
#include "cql/protocol/frame.hpp"
#include "cql/protocol/version.hpp"
#include "cqlsim/engine.hpp"

namespace cqlsim {

// An ERROR a primed request answers with. Which fields go on the wire depends on
// `code` (native_protocol_v5.spec section 8): unavailable uses required/alive;
// read_timeout received/block_for/data_present; write_timeout received/block_for/
// write_type; read_failure and write_failure received/block_for/num_failures (v5: that
// many reason-map entries) and data_present or write_type; unprepared sends the
// request's prepared id (or a zero id for a QUERY). Every other code sends the message
// only.
struct primed_error {
    error_code code = error_code::server_error;
    std::string message;  // empty: a Cassandra-like default for the code
    // nullopt: the request's own consistency level.
    std::optional<cql::protocol::consistency> consistency;
    std::int32_t received = 0;
    std::int32_t block_for = 1;
    std::int32_t required = 1;  // unavailable
    std::int32_t alive = 0;     // unavailable
    bool data_present = false;
    std::string write_type = "SIMPLE";
    std::int32_t num_failures = 1;
    // read_failure / write_failure: each failing replica's RequestFailureReason (0 UNKNOWN,
    // 1 READ_TOO_MANY_TOMBSTONES, 2 TIMEOUT, 3 INCOMPATIBLE_SCHEMA), in the v5 reason map
    // and, as Cassandra does, named in the default message.
    std::uint16_t failure_code = 0;
};

// Requests (QUERY, PREPARE, EXECUTE, BATCH) whose query text matches `pattern`
// (std::regex, ECMAScript, searched anywhere in the text; for EXECUTE the text the id
// was prepared from, for BATCH each statement's text) answer `error` instead of running.
struct prime_rule {
    std::string pattern;
    primed_error error;
    std::int64_t times = -1;  // how many requests it answers; < 0: forever
};

// One request a node received (answered or not).
struct request_log_entry {
    cql::protocol::opcode op = cql::protocol::opcode::options;
    std::uint64_t connection = 0;  // connection number on that node
    std::int16_t stream = 0;
    // QUERY/PREPARE: the text; EXECUTE: the text the id was prepared from (empty when
    // unknown); BATCH: the statements' texts joined with "; ".
    std::string query;
    byte_buffer prepared_id;  // EXECUTE only
    cql::protocol::consistency consistency = cql::protocol::consistency::one;
    std::size_t values = 0;  // bound values (BATCH: over all statements)
    std::chrono::system_clock::time_point timestamp;
};

// Error kind names used by the admin endpoint and the README ("write_timeout", ...).
std::optional<error_code> parse_error_kind(std::string_view name) noexcept;

}  // namespace cqlsim
