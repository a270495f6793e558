#pragma once
// An engine result as a response frame: what a cqlsim node sends for it. Public so that
// other servers built on the engine (the driver's hostile-server tests) answer exactly as
// cqlsim does.

#include <cstdint>
#include <optional>

#include "cql/protocol/bytes.hpp"
#include "cql/protocol/version.hpp"
#include "cqlsim/engine.hpp"

namespace cqlsim {

// Appends the RESULT (or, for an engine error, ERROR) frame answering a request on
// `stream`, uncompressed. skip_metadata: the request's flag (rows without metadata);
// client_metadata_id: the v5 EXECUTE's result metadata id, answered with the new id when
// it is stale.
void encode_result_frame(cql::protocol::byte_buffer& out, cql::protocol::protocol_version v,
                         std::int16_t stream, const result& r, bool skip_metadata = false,
                         std::optional<cql::protocol::bytes_view> client_metadata_id = {});

}  // namespace cqlsim
