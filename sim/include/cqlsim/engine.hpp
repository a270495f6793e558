#pragma once
// cqlsim's CQL engine: schema, typed in-memory storage and statement execution, with no
// knowledge of the wire. It takes CQL text (or a prepared id) plus bound values and
// returns results or Cassandra-style errors. Thread-safe (one mutex).

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "cql/protocol/bytes.hpp"
#include "cql/protocol/responses.hpp"
#include "cql/protocol/types.hpp"
#include "cql/protocol/version.hpp"

namespace cqlsim {

using cql::protocol::byte_buffer;
using cql::protocol::bytes_view;
using cql::protocol::data_type;
using cql::protocol::uuid_bytes;
using cql::protocol::value_view;

// Error codes of the native protocol's ERROR message: the protocol layer's own.
using error_code = cql::protocol::error_code;

struct error {
    error_code code = error_code::server_error;
    std::string message;
    // already_exists: the keyspace, and the table (empty when a keyspace already exists).
    std::string keyspace;
    std::string table;
    // unprepared: the unknown id.
    byte_buffer unprepared_id;
};

struct column_spec {
    std::string keyspace;
    std::string table;
    std::string name;
    data_type type;
};

struct void_result {};

struct rows_result {
    std::vector<column_spec> columns;
    std::vector<std::vector<std::optional<byte_buffer>>> rows;  // nullopt: null cell
    std::optional<byte_buffer> paging_state;                    // set when more pages follow
    byte_buffer metadata_id;                                    // 16 bytes: hash of the columns
};

struct set_keyspace_result {
    std::string keyspace;
};

enum class change_type : std::uint8_t { created, updated, dropped };
enum class change_target : std::uint8_t { keyspace, table, type, function, aggregate };

struct schema_change_result {
    change_type change = change_type::created;
    change_target target = change_target::keyspace;
    std::string keyspace;
    std::string name;  // table/type/function name; empty for a keyspace
    std::vector<std::string> arg_types;
};

struct prepared_result {
    byte_buffer id;                  // 16 bytes
    byte_buffer result_metadata_id;  // 16 bytes (v5)
    std::vector<column_spec> bind_variables;
    std::vector<std::uint16_t> pk_indexes;    // bind marker index of each partition key component
    std::vector<column_spec> result_columns;  // empty for statements that return no rows
};

using result = std::variant<void_result, rows_result, set_keyspace_result, schema_change_result,
                            prepared_result, error>;

struct query_options {
    std::vector<value_view> values;  // positional, or parallel to `names`
    std::vector<std::string> names;  // non-empty: values are bound by name
    std::int32_t page_size = -1;     // <= 0: no paging
    std::optional<byte_buffer> paging_state;
    cql::protocol::consistency consistency = cql::protocol::consistency::one;
    cql::protocol::consistency serial_consistency = cql::protocol::consistency::serial;
    std::optional<std::int64_t> timestamp;  // default timestamp (microseconds)
    std::string keyspace;                   // v5 per-query keyspace; empty: the session's
    std::optional<std::int32_t> now_in_seconds;
};

struct session_state {
    std::string keyspace;  // USE changes it
    std::size_t node = 0;  // index into topology::nodes of the node that answers
    // Cassandra's client warnings of the last request run on this session (the server sends
    // them with the answer); every query/prepare/execute/batch starts with none.
    std::vector<std::string> warnings;
};

struct node_info {
    std::string address = "127.0.0.1";  // IPv4 or IPv6 text
    std::int32_t port = 9042;           // native (CQL) port
    std::int32_t storage_port = 7000;   // system.local listen_port, system.peers_v2 peer_port
    std::string datacenter = "datacenter1";
    std::string rack = "rack1";
    uuid_bytes host_id{};
    std::vector<std::string> tokens;  // signed 64-bit integers as text
    std::string release_version = "4.0.11";
    std::optional<uuid_bytes> schema_version;  // nullopt: the engine's current version
};

struct topology {
    std::string cluster_name = "cqlsim";
    std::vector<node_info> nodes;  // empty: one default node
};

enum class batch_kind : std::uint8_t { logged = 0, unlogged = 1, counter = 2 };

// One statement of a programmatic BATCH: CQL text or a prepared id, with its values.
struct batch_entry {
    std::variant<std::string, byte_buffer> query_or_id;
    std::vector<value_view> values;
    std::vector<std::string> names;
};

struct engine_config {
    // Current time in microseconds since the epoch. Default: the system clock.
    std::function<std::int64_t()> clock_micros;
    topology topo;
};

class engine {
  public:
    explicit engine(engine_config cfg = {});
    ~engine();
    engine(const engine&) = delete;
    engine& operator=(const engine&) = delete;

    result query(session_state& s, std::string_view cql, const query_options& o);
    result prepare(session_state& s, std::string_view cql, std::string_view keyspace = {});
    result execute(session_state& s, bytes_view id, const query_options& o);
    result batch(session_state& s, batch_kind kind, const std::vector<batch_entry>& statements,
                 const query_options& o);

    // Called (under the engine's lock: do not call back into the engine) for every
    // schema change a statement makes.
    void on_schema_change(std::function<void(const schema_change_result&)> cb);

    void set_topology(topology t);
    topology get_topology() const;
    void set_clock(std::function<std::int64_t()> clock_micros);
    uuid_bytes schema_version() const;

  private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

// The 16-byte id of a prepared statement, as Cassandra computes it: MD5 of the keyspace (empty
// when every table the statement names is qualified with its keyspace) and the query text.
byte_buffer prepared_id(std::string_view keyspace, std::string_view cql);

}  // namespace cqlsim
