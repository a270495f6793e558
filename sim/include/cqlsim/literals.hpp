#pragma once
// Turning CQL terms (literals, bind markers, collection literals, function calls) into
// cell bytes of a given column type, with Cassandra's error messages. Used by the engine;
// public so tests can check conversions directly.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cql/protocol/bytes.hpp"
#include "cql/protocol/types.hpp"
#include "cql/protocol/value.hpp"
#include "cqlsim/ast.hpp"

namespace cqlsim {

struct term_context {
    const std::vector<cql::protocol::value_view>* bound = nullptr;  // by marker index
    std::int64_t now_micros = 0;
    std::function<cql::protocol::uuid_bytes()> make_timeuuid;  // for now()
    std::function<cql::protocol::uuid_bytes()> make_uuid;      // for uuid()
};

// The result of evaluating a term for a column: bytes, null or unset (an unset bound value).
struct cell_value {
    enum class state : std::uint8_t { bytes, null, unset };
    state st = state::null;
    cql::protocol::byte_buffer data;
};

// Evaluates `t` as a value of `type` for column `column` (used in messages). On error
// returns the message (InvalidRequest).
std::optional<std::string> evaluate_term(const ast::term& t, const cql::protocol::data_type& type,
                                         std::string_view column, const term_context& ctx,
                                         cell_value& out);

// Same, but produces a decoded value (null for null/unset).
std::optional<std::string> evaluate_term_value(const ast::term& t,
                                               const cql::protocol::data_type& type,
                                               std::string_view column, const term_context& ctx,
                                               cql::protocol::value& out, bool& is_unset);

// Parsers for the string forms Cassandra accepts. Return false on malformed input.
bool parse_timestamp_string(std::string_view s, std::int64_t& millis);
bool parse_date_string(std::string_view s, std::int64_t& days_with_offset);  // 2^31 at the epoch
bool parse_time_string(std::string_view s, std::int64_t& nanos);
bool parse_duration_literal(std::string_view s, cql::protocol::cql_duration& out);
bool parse_uuid_string(std::string_view s, cql::protocol::uuid_bytes& out);
bool parse_inet_string(std::string_view s, cql::protocol::inet_address& out);
bool parse_varint_string(std::string_view s, cql::protocol::cql_varint& out);
bool parse_decimal_string(std::string_view s, cql::protocol::cql_decimal& out);

// A v1 (time-based) UUID for the given microseconds since the epoch.
cql::protocol::uuid_bytes make_timeuuid(std::int64_t micros, std::uint16_t clock_seq,
                                        std::uint64_t node);

}  // namespace cqlsim
