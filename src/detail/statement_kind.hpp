#pragma once
// What kind of write a CQL statement is, for the idempotence decision: a conditional update
// (lightweight transaction) or a counter update is never idempotent, whatever it is marked,
// since it may have been applied when it fails and applying it twice changes the result.
//
// Two steps: scan_statement() reads the text once (no allocation; string literals, $$...$$,
// quoted identifiers and comments skipped; keywords case-insensitive) and says what it can;
// resolve() settles what the text alone cannot (is `c = c + ?` a counter increment or a list
// append?) from the prepared statement's bind markers or the schema metadata. Prepared
// statements are classified once, at prepare time; simple statements when encoded (the
// schema is consulted only for such an unresolved increment).
//
// Not an Asio header.

#include <string>
#include <string_view>
#include <vector>

#include "cql/metadata.hpp"
#include "cql/prepared.hpp"

namespace cql::detail {

// What the text says.
struct statement_scan {
    bool dml = false;            // INSERT, UPDATE, DELETE or a BATCH of them
    bool update = false;         // holds an UPDATE
    bool lwt = false;            // a top-level IF clause in an INSERT / UPDATE / DELETE
    bool counter_batch = false;  // BEGIN COUNTER BATCH
    // Assignments `c = c + x`, `c = c - x`, `c = x + c` in an UPDATE's SET, by operand x:
    bool increment_int = false;     // an integer literal: only counters take that
    bool increment_marker = false;  // a bind marker: its type decides
    bool increment_other = false;   // another expression (function, cast): the column decides
    // The first increment by a marker or another expression: where it writes (token texts,
    // quoted identifiers with their quotes; keyspace empty when not written).
    std::string_view keyspace;
    std::string_view table;
    std::string_view column;
};

// The verdict.
struct statement_kind {
    bool lwt = false;      // a conditional update, or a batch holding one
    bool counter = false;  // a counter update, or a batch holding one (or a counter batch)
    bool never_idempotent() const noexcept { return lwt || counter; }
};

// Reads `cql` once. Malformed text gives a best effort, never an error.
statement_scan scan_statement(std::string_view cql) noexcept;

// True when resolve() needs the schema: an increment whose operand the text and the bind
// markers (`have_markers`: a prepared statement) cannot settle.
bool needs_schema(const statement_scan& s, bool have_markers) noexcept;

// The verdict from the scan, the prepared statement's bind markers (nullptr for a simple
// statement), the schema (nullptr: unknown) and the keyspace of unqualified table names.
// An increment the schema cannot settle (table or column unknown) counts as a counter
// update: the safe side.
statement_kind resolve(const statement_scan& s, const std::vector<prepared_column>* markers,
                       const schema_metadata* schema, std::string_view default_keyspace);

// A prepared statement's kind (prepare time).
statement_kind classify_prepared(std::string_view cql, const std::vector<prepared_column>& markers,
                                 const schema_metadata* schema, std::string_view default_keyspace);

// A prepared statement's kind, as classify_prepared() found it.
inline statement_kind kind_of(const prepared_info& p) noexcept {
    return {p.lwt, p.counter_update};
}

// A simple statement's kind (encode time). `get_schema()` gives a
// std::shared_ptr<const schema_metadata> (possibly null) and `get_keyspace()` the keyspace of
// unqualified names; both are called only for an increment the text cannot settle.
template <class GetSchema, class GetKeyspace>
statement_kind classify_simple(std::string_view cql, GetSchema&& get_schema,
                               GetKeyspace&& get_keyspace) {
    const auto s = scan_statement(cql);
    if (!needs_schema(s, false)) return resolve(s, nullptr, nullptr, {});
    const auto schema = get_schema();
    const std::string ks = get_keyspace();
    return resolve(s, nullptr, schema.get(), ks);
}

// True for a SELECT whose text names its columns (`SELECT a, b FROM`, not `SELECT *`, with
// or without JSON / DISTINCT): its rows' columns change only when it is prepared again.
bool selects_named_columns(std::string_view cql) noexcept;

// The CQL name an identifier token stands for: unquoted lower-cased, quoted unescaped.
std::string identifier_name(std::string_view token);

}  // namespace cql::detail
