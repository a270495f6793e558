#include "cql/result.hpp"

namespace cql {

std::size_t row_view::index_of(std::string_view column) const noexcept {
    if (!meta_ || meta_->no_metadata) return size();
    for (std::size_t i = 0; i < meta_->columns.size(); ++i)
        if (meta_->columns[i].name == column) return i;
    return size();
}

std::error_code result::from_response(response&& r, result& out) {
    out = result{};
    if (r.opcode() == protocol::opcode::error) {
        if (r.diag().from_server) return server_error_code(r.diag().code);
        return errc::unexpected_response;
    }
    if (r.opcode() != protocol::opcode::result) return errc::unexpected_response;
    // Views point into the response's body, which keeps its address when moved.
    out.response_ = std::move(r);
    if (auto ec = out.response_.decode(out.message_)) return ec;
    if (auto* rows = std::get_if<protocol::rows_result>(&out.message_)) {
        out.rows_ = std::move(*rows);
        out.kind_ = kind::rows;
    } else if (std::holds_alternative<protocol::void_result>(out.message_)) {
        out.kind_ = kind::void_;
    } else if (auto* ks = std::get_if<protocol::set_keyspace_result>(&out.message_)) {
        out.keyspace_ = ks->keyspace;
        out.kind_ = kind::set_keyspace;
    } else if (std::holds_alternative<protocol::prepared_result>(out.message_)) {
        out.kind_ = kind::prepared;
    } else if (std::holds_alternative<protocol::schema_change_result>(out.message_)) {
        out.kind_ = kind::schema_change;
    } else {
        return errc::unexpected_response;
    }
    return {};
}

}  // namespace cql
