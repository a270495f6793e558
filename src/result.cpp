#include "cql/result.hpp"

#include "detail/thread_cache.hpp"

namespace cql {

std::size_t row_view::index_of(std::string_view column) const noexcept {
    if (!meta_ || meta_->no_metadata) return size();
    for (std::size_t i = 0; i < meta_->columns.size(); ++i)
        if (meta_->columns[i].name == column) return i;
    return size();
}

void row_view::throw_read_error(std::size_t i, std::error_code ec, const std::string& cpp_type,
                                bool type_fits) const {
    diagnostics d;
    if (i >= size()) {
        if (size() == 0 && meta_ && meta_->column_count > 0)
            d.message = "the result has no rows (front() of an empty result)";
        else
            d.message = "no column " + std::to_string(i) + ": the row has " +
                        std::to_string(size()) + " columns";
        throw error_with_diagnostics(ec, std::move(d));
    }
    std::string column = "column " + std::to_string(i);
    std::string type;
    if (meta_ && !meta_->no_metadata && i < meta_->columns.size()) {
        column += " \"" + std::string(meta_->columns[i].name) + "\"";
        type = protocol::to_cql_string(meta_->columns[i].type);
    }
    if (cells_[i].state != protocol::value_view::kind::bytes)
        d.message = column + " is null: read it as std::optional<" + cpp_type + ">";
    else if (type.empty())
        d.message = column + " (of unknown type: no metadata) cannot be read as " + cpp_type;
    else if (type_fits)
        d.message = column + " is " + type + ": its value is malformed for " + cpp_type + " (" +
                    ec.message() + ")";
    else
        d.message = column + " is " + type + ": it cannot be read as " +
                    (cpp_type.starts_with("a ") ? cpp_type : "a " + cpp_type);
    throw error_with_diagnostics(ec, std::move(d));
}

void row_view::throw_no_column(std::string_view name) const {
    diagnostics d;
    d.message = "no column named \"" + std::string(name) + "\"";
    if (meta_ && !meta_->no_metadata) {
        d.message += " (the row has ";
        for (std::size_t c = 0; c < meta_->columns.size(); ++c)
            d.message += (c ? ", " : "") + std::string(meta_->columns[c].name);
        d.message += ")";
    } else {
        d.message += " (the result has no column names: no metadata)";
    }
    throw error_with_diagnostics(errc::no_such_column, std::move(d));
}

namespace {
constexpr std::size_t max_kept_columns = 256;
// A Rows RESULT: its message starts with the kind 0x0002.
bool is_rows(const response& r) noexcept {
    auto m = r.message();
    return r.opcode() == protocol::opcode::result && m.size() >= 4 && m[0] == 0 && m[1] == 0 &&
           m[2] == 0 && m[3] == 2;
}
}  // namespace

const result::state& result::empty_state() noexcept {
    static const state empty;
    return empty;
}

// States are recycled (see thread_cache.hpp): a response's result reuses the state, and
// the column-spec vector's capacity, of an earlier one instead of the heap.
struct result::state_cache_traits {
    using item = state*;
    static void dispose(state*&& s) noexcept { delete s; }
};
std::unique_ptr<result::state, result::state_release> result::new_state() {
    state* s = nullptr;
    if (!detail::thread_cache<state_cache_traits>::pop(s)) s = new state;
    return std::unique_ptr<state, state_release>(s);
}

void result::state_release::operator()(state* s) const noexcept {
    // Cleared for the next response, keeping the column vector's capacity.
    auto columns = std::move(s->rows.metadata.columns);
    s->resp = response{};
    s->message = protocol::response{};
    s->rows = protocol::rows_result{};
    if (columns.capacity() <= max_kept_columns) {
        columns.clear();
        s->rows.metadata.columns = std::move(columns);
    }
    s->keyspace = {};
    s->read_with = nullptr;
    s->statement.reset();
    s->which = kind::none;
    s->schema_agreement = true;
    if (!detail::thread_cache<state_cache_traits>::push(std::move(s))) delete s;
}

void result::set_schema_in_agreement(bool yes) noexcept {
    if (!s_) {
        if (yes) return;  // (what an empty result says already)
        s_ = new_state();
    }
    s_->schema_agreement = yes;
}

std::error_code result::from_response(response&& r, result& out) {
    out.s_.reset();
    if (r.opcode() == protocol::opcode::error) {
        if (r.diag().from_server) return server_error_code(r.diag().code);
        return errc::unexpected_response;
    }
    if (r.opcode() != protocol::opcode::result) return errc::unexpected_response;
    auto s = new_state();
    if (is_rows(r)) {
        // Decoding reuses the recycled state's column vector.
        auto& rows = s->message.emplace<protocol::rows_result>();
        rows.metadata.columns = std::move(s->rows.metadata.columns);
    }
    // Views point into the response's body, which keeps its address when moved.
    s->resp = std::move(r);
    if (auto ec = s->resp.decode(s->message)) return ec;
    if (auto* rows = std::get_if<protocol::rows_result>(&s->message)) {
        s->rows = std::move(*rows);
        s->which = kind::rows;
    } else if (std::holds_alternative<protocol::void_result>(s->message)) {
        s->which = kind::void_;
    } else if (auto* ks = std::get_if<protocol::set_keyspace_result>(&s->message)) {
        s->keyspace = ks->keyspace;
        s->which = kind::set_keyspace;
    } else if (std::holds_alternative<protocol::prepared_result>(s->message)) {
        s->which = kind::prepared;
    } else if (std::holds_alternative<protocol::schema_change_result>(s->message)) {
        s->which = kind::schema_change;
    } else {
        return errc::unexpected_response;
    }
    out.s_ = std::move(s);
    return {};
}

}  // namespace cql
