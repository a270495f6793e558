#pragma once
// Skipping the result metadata of prepared SELECTs. Once the driver knows the columns a
// prepared statement returns (from PREPARE), its EXECUTEs ask the server to leave them out
// of the answer (skip_metadata) and the rows are read with the statement's copy: less to
// send, less to decode per request.
//
// What keeps that copy right when the table changes:
// - v5: the EXECUTE names the result metadata id the copy goes with; the server answers
//   with the new columns and id (METADATA_CHANGED) when they differ, and the copy is
//   replaced.
// - v4 has no id. The server forgets a statement whose table changed (the next EXECUTE
//   gets UNPREPARED, and the re-preparation's answer replaces the copy), but another client
//   may prepare it again first, and then nothing says the columns changed. So with v4 only
//   statements whose text names their columns skip them (not `SELECT *`), and rows whose
//   column count differs from the copy's are asked for again with their metadata (and the
//   statement stops skipping until it is prepared again).
// Never for LWTs, whose rows' columns depend on whether they applied.

#include <memory>
#include <optional>
#include <vector>

#include "cql/prepared.hpp"
#include "cql/protocol/responses.hpp"
#include "cql/result.hpp"

namespace cql::detail {

// One version of a prepared statement's result columns.
struct result_columns {
    std::vector<prepared_column> owned;  // the strings the views below point into
    protocol::result_metadata metadata;  // column specs viewing `owned`; no paging state
};

// Owned copies of column specs that view a response (PREPARED, or rows with metadata).
std::vector<prepared_column> owned_columns(const std::vector<protocol::column_spec>& in);

struct prepared_access {
    // At prepare time (before the statement is shared): what its EXECUTEs may skip.
    // `named_columns`: its text names its columns (selects_named_columns()).
    static void init(prepared_info& info, bool named_columns);
    // For one EXECUTE with protocol `v`: the columns its rows will be read with when the
    // server leaves them out, or null (do not skip); `rmid` receives the v5 result metadata
    // id to send (cleared before v5).
    static const result_columns* for_execute(const prepared_info& info,
                                             protocol::protocol_version v,
                                             protocol::byte_buffer& rmid);
    // The server's answer carried the statement's current columns `m` (a v5 answer with
    // METADATA_CHANGED and its `id`, or the answer to a re-preparation). Returns the new
    // version, or null when `m` has no columns.
    static const result_columns* replace(const prepared_info& info,
                                         const protocol::result_metadata& m,
                                         std::optional<protocol::bytes_view> id);
    // The rows did not match the columns skipped: the statement's EXECUTEs ask for their
    // metadata again (until a re-preparation's answer gives its columns anew).
    static void stop_skipping(const prepared_info& info);
    // Rows that came without metadata are read with `c` (a version of `info`'s).
    static void read_with(result& r, std::shared_ptr<const prepared_info> info,
                          const result_columns& c);
};

}  // namespace cql::detail
