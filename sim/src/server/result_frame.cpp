#include "cqlsim/result_frame.hpp"

#include <algorithm>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "cql/protocol/responses.hpp"

namespace cqlsim {

namespace proto = cql::protocol;

namespace {

proto::table_spec common_table(const std::vector<column_spec>& cols, bool& all_same) {
    all_same = !cols.empty();
    for (const auto& c : cols)
        if (c.keyspace != cols.front().keyspace || c.table != cols.front().table) all_same = false;
    if (!all_same) return {};
    return {cols.front().keyspace, cols.front().table};
}

void fill_columns(const std::vector<column_spec>& in, std::vector<proto::column_spec>& out) {
    out.clear();
    out.reserve(in.size());
    for (const auto& c : in)
        out.push_back({c.keyspace, c.table, c.name, c.type});
}

}  // namespace

void encode_result_frame(proto::byte_buffer& out, proto::protocol_version v, std::int16_t stream,
                         const result& r, bool skip_metadata,
                         std::optional<proto::bytes_view> client_metadata_id) {
    std::visit(
        [&](const auto& x) {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, void_result>) {
                proto::encode_response_frame(out, v, stream, proto::void_result{});
            } else if constexpr (std::is_same_v<T, rows_result>) {
                proto::result_metadata md;
                bool same = false;
                md.global_spec = common_table(x.columns, same);
                md.global_tables_spec = same;
                fill_columns(x.columns, md.columns);
                md.column_count = static_cast<std::int32_t>(x.columns.size());
                if (x.paging_state) md.paging_state = proto::bytes_view(*x.paging_state);
                bool skip = skip_metadata;
                if (client_metadata_id &&
                    !std::equal(client_metadata_id->begin(), client_metadata_id->end(),
                                x.metadata_id.begin(), x.metadata_id.end())) {
                    md.new_metadata_id = proto::bytes_view(x.metadata_id);
                    skip = false;
                }
                md.no_metadata = skip;
                auto at = proto::begin_response_frame(out, v, stream, proto::opcode::result);
                proto::rows_result_writer rw(out, v, md);
                for (const auto& row : x.rows)
                    for (const auto& cell : row) {
                        if (cell)
                            rw.add_cell(proto::bytes_view(*cell));
                        else
                            rw.add_null();
                    }
                (void)rw.finish();
                proto::end_response_frame(out, at);
            } else if constexpr (std::is_same_v<T, set_keyspace_result>) {
                proto::encode_response_frame(out, v, stream,
                                             proto::set_keyspace_result{x.keyspace});
            } else if constexpr (std::is_same_v<T, schema_change_result>) {
                proto::schema_change_result sc;
                sc.change.change = static_cast<proto::schema_change_type>(x.change);
                sc.change.target = static_cast<proto::schema_change_target>(x.target);
                sc.change.keyspace = x.keyspace;
                sc.change.name = x.name;
                for (const auto& a : x.arg_types)
                    sc.change.arg_types.push_back(a);
                proto::encode_response_frame(out, v, stream, sc);
            } else if constexpr (std::is_same_v<T, prepared_result>) {
                proto::prepared_result p;
                p.id = x.id;
                p.result_metadata_id = x.result_metadata_id;
                bool same = false;
                p.metadata.global_spec = common_table(x.bind_variables, same);
                p.metadata.global_tables_spec = same;
                p.metadata.pk_indexes = x.pk_indexes;
                fill_columns(x.bind_variables, p.metadata.columns);
                if (x.result_columns.empty()) {
                    p.result.no_metadata = true;
                    p.result.column_count = 0;
                } else {
                    bool rsame = false;
                    p.result.global_spec = common_table(x.result_columns, rsame);
                    p.result.global_tables_spec = rsame;
                    fill_columns(x.result_columns, p.result.columns);
                    p.result.column_count = static_cast<std::int32_t>(x.result_columns.size());
                }
                proto::encode_response_frame(out, v, stream, p);
            } else if constexpr (std::is_same_v<T, error>) {
                proto::error_details d;
                if (x.code == error_code::already_exists)
                    d = proto::already_exists_info{x.keyspace, x.table};
                else if (x.code == error_code::unprepared)
                    d = proto::unprepared_info{x.unprepared_id};
                proto::error_response er{static_cast<proto::error_code>(x.code), x.message, d};
                proto::encode_response_frame(out, v, stream, er);
            }
        },
        r);
}

}  // namespace cqlsim
