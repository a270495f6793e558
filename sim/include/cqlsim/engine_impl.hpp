#pragma once
// Internals of cqlsim::engine shared by its translation units (not a public API).

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "cqlsim/ast.hpp"
#include "cqlsim/engine.hpp"
#include "cqlsim/literals.hpp"
#include "cqlsim/storage.hpp"

namespace cqlsim {

namespace proto = cql::protocol;

// Thrown inside the engine, turned into an error result at the API boundary.
struct engine_failure {
    error err;
};

[[noreturn]] void fail(error_code code, std::string msg);
[[noreturn]] void invalid(std::string msg);
byte_buffer hash16(std::string_view data);
uuid_bytes hash_uuid(std::string_view data, int version);
byte_buffer encode(const proto::data_type& t, const proto::value& v);
std::optional<proto::value> decode(const proto::data_type& t, bytes_view b);
std::string lower(std::string_view s);

struct exec_context {
    std::string keyspace;
    session_state* session = nullptr;
    std::string query_text;
    std::optional<std::int64_t> batch_timestamp;  // set inside a batch
    bool in_batch = false;
};

struct prepared_entry {
    std::string keyspace;
    std::string text;
    ast::parsed_statement parsed;
};

// A write to one row (or partition / clustering range) with its conditions, resolved
// against the schema and the bound values but not yet applied.
struct column_op {
    enum class kind : std::uint8_t {
        set,           // replace the cell (value or null)
        add,           // counter +, list append, set/map union
        subtract,      // counter -, list/set removal, map key removal
        prepend,       // list prepend
        set_element,   // m[k] = v, l[i] = v
        del_element,   // DELETE m[k], l[i]
        delete_column  // DELETE c
    };
    kind k = kind::set;
    const storage::column_def* col = nullptr;
    cell_value val;                       // set
    std::optional<proto::value> operand;  // add/subtract/prepend (collection or counter delta)
    std::optional<proto::value> element;  // set_element/del_element key or index
    std::optional<proto::value> element_value;  // set_element value (nullopt: delete)
};

struct mutation {
    storage::table_def* table = nullptr;
    std::vector<byte_buffer> pk;
    std::optional<std::vector<proto::value>> ck;  // full clustering key (row write/delete)
    bool insert = false;                          // sets the row marker
    bool delete_partition = false;                // DELETE with only the partition key
    bool delete_row = false;
    // range delete: rows whose clustering matches every restriction
    std::function<bool(const std::vector<proto::value>&)> range;
    std::vector<column_op> ops;
    std::int64_t ts = 0;
    std::int32_t ttl = 0;
};

// A WHERE restriction resolved against the schema: one column (or a tuple of clustering
// columns) compared with values.
struct restriction {
    std::vector<std::size_t> cols;  // indices into table_def::columns
    ast::op oper = ast::op::eq;
    std::vector<std::vector<proto::value>> values;  // eq/in: candidate tuples; slices: one tuple
    std::optional<proto::value> map_key;            // m[k] = v
};

// Bind variable description computed while preparing.
struct bind_spec {
    std::string name;
    proto::data_type type;
};

struct engine::impl {
    mutable std::mutex mutex;
    std::function<std::int64_t()> clock;
    topology topo;
    std::map<std::string, storage::keyspace_def> keyspaces;
    std::map<byte_buffer, prepared_entry> prepared;
    std::function<void(const schema_change_result&)> on_change;
    std::int64_t last_timestamp = storage::no_timestamp;
    std::uint64_t timeuuid_seq = 0;
    std::uint64_t uuid_seq = 0;
    uuid_bytes version{};

    explicit impl(engine_config cfg);

    void normalize_topology();
    std::int64_t now_micros() const;
    std::int64_t now_seconds() const { return now_micros() / 1000000; }
    std::int64_t next_timestamp();
    uuid_bytes next_timeuuid();
    uuid_bytes next_random_uuid();
    void notify(const schema_change_result& c);
    void recompute_schema_version();

    storage::keyspace_def& get_keyspace(const std::string& name);
    std::string effective_keyspace(const ast::qualified_name& q, const exec_context& ctx) const;
    storage::table_def& get_table(const ast::qualified_name& q, const exec_context& ctx);
    void resolve_udts(const std::string& ks, proto::data_type& t);
    proto::data_type parse_type(const std::string& ks, const std::string& text);

    std::vector<value_view> bind_values(const ast::parsed_statement& p, const query_options& o);
    term_context term_ctx(const std::vector<value_view>& bound);
    std::optional<proto::value> eval_value(const ast::term& t, const proto::data_type& type,
                                           const std::string& column, const term_context& ctx,
                                           bool* was_unset = nullptr);
    cell_value eval_cell(const ast::term& t, const proto::data_type& type,
                         const std::string& column, const term_context& ctx);

    // dispatch (engine.cpp / exec.cpp)
    result execute(const ast::parsed_statement& p, exec_context& ctx, const query_options& o);
    result prepare(ast::parsed_statement p, exec_context& ctx);
    result run_batch(session_state& s, batch_kind kind, const std::vector<batch_entry>& statements,
                     const query_options& o);

    // DDL (ddl.cpp)
    result run_ddl(const ast::statement& st, exec_context& ctx);
    storage::table_def build_table(const ast::create_table& c, const std::string& ks);

    // system tables (system_tables.cpp)
    void create_system_schema();
    void refresh_system_table(storage::table_def& t, const exec_context& ctx);
    void put_row(storage::table_def& t,
                 const std::vector<std::pair<std::string, proto::value>>& cells);

    // SELECT (select.cpp)
    result select(const ast::select_statement& s, exec_context& ctx, const query_options& o,
                  const std::vector<value_view>& bound);
    std::vector<column_spec> select_columns(const ast::select_statement& s,
                                            const exec_context& ctx);
    std::vector<restriction> resolve_where(const storage::table_def& t,
                                           const std::vector<ast::relation>& where,
                                           const term_context& tctx);

    // writes (modify.cpp)
    result modify(const ast::modification& m, exec_context& ctx, const query_options& o,
                  const std::vector<value_view>& bound);
    // Builds the mutations of one statement; returns its conditions via `conds`.
    std::vector<mutation> build_mutations(const ast::modification& m, exec_context& ctx,
                                          const query_options& o,
                                          const std::vector<value_view>& bound,
                                          std::optional<std::int64_t> batch_ts);
    void apply(mutation& m);
    // Evaluates the statement's IF clause on the current row; fills `rows` (the
    // [applied] result) and returns whether the conditions hold.
    bool check_conditions(const ast::modification& m, const mutation& target,
                          const term_context& tctx, rows_result& out);
    storage::partition* find_partition(storage::table_def& t, const std::vector<byte_buffer>& pk);
    static storage::partition_key make_partition_key(const std::vector<byte_buffer>& pk);
    bool row_live(const storage::table_def& t, const storage::partition& p,
                  const storage::row& r) const;
    std::vector<column_spec> bind_specs(const ast::parsed_statement& p, const exec_context& ctx,
                                        std::vector<std::uint16_t>& pk_indexes);
    struct batch_item {
        const ast::modification* stmt = nullptr;
        std::vector<value_view> bound;
    };
    rows_result batch_conditions_failed(const std::vector<batch_item>& items,
                                        const std::vector<std::vector<mutation>>& all);
    result run_batch_items(const std::vector<batch_item>& items, ast::batch_type type,
                           const std::optional<ast::term>& using_ts,
                           const std::vector<value_view>& batch_bound, exec_context& ctx,
                           const query_options& o);
};

column_spec spec_of(const storage::table_def& t, const std::string& name,
                    const proto::data_type& type);
// Cassandra's result metadata id of these columns (cassandra_ids.cpp).
byte_buffer metadata_id(const std::vector<column_spec>& cols);

}  // namespace cqlsim
