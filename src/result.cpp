#include "cql/result.hpp"

namespace cql {

std::size_t row_view::index_of(std::string_view column) const noexcept {
    if (!meta_ || meta_->no_metadata) return size();
    for (std::size_t i = 0; i < meta_->columns.size(); ++i)
        if (meta_->columns[i].name == column) return i;
    return size();
}

namespace {
// Per-thread cache of column-spec vectors: a result's decoded metadata reuses the vector
// of an earlier result instead of allocating one per response.
constexpr std::size_t columns_cache_slots = 1024;
constexpr std::size_t max_cached_columns = 256;
using column_vector = std::vector<protocol::column_spec>;
struct columns_cache {
    std::vector<column_vector> items;
    columns_cache() { items.reserve(columns_cache_slots); }
    ~columns_cache() { gone() = true; }
    static bool& gone() noexcept {
        thread_local bool g = false;
        return g;
    }
    static columns_cache* get() noexcept {
        if (gone()) return nullptr;
        thread_local columns_cache c;
        return &c;
    }
};
void recycle_columns(column_vector&& v) noexcept {
    if (v.capacity() == 0 || v.capacity() > max_cached_columns) return;
    auto* c = columns_cache::get();
    if (!c || c->items.size() >= columns_cache_slots) return;
    v.clear();
    c->items.push_back(std::move(v));  // (capacity reserved: no allocation)
}
// A Rows RESULT: its message starts with the kind 0x0002.
bool is_rows(const response& r) noexcept {
    auto m = r.message();
    return r.opcode() == protocol::opcode::result && m.size() >= 4 && m[0] == 0 && m[1] == 0 &&
           m[2] == 0 && m[3] == 2;
}
}  // namespace

result::~result() {
    recycle_columns(std::move(rows_.metadata.columns));
}

std::error_code result::from_response(response&& r, result& out) {
    recycle_columns(std::move(out.rows_.metadata.columns));
    out = result{};
    if (is_rows(r)) {
        auto* c = columns_cache::get();
        if (c && !c->items.empty()) {
            auto& rows = out.message_.emplace<protocol::rows_result>();
            rows.metadata.columns = std::move(c->items.back());  // (decoding reuses it)
            c->items.pop_back();
        }
    }
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
