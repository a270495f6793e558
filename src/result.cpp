#include "cql/result.hpp"

namespace cql {

std::size_t row_view::index_of(std::string_view column) const noexcept {
    if (!meta_ || meta_->no_metadata) return size();
    for (std::size_t i = 0; i < meta_->columns.size(); ++i)
        if (meta_->columns[i].name == column) return i;
    return size();
}

namespace {
// Per-thread free list of result states: in steady state a response's result reuses the
// state (and the column-spec vector's capacity) of an earlier one instead of the heap.
constexpr std::size_t free_states_max = 1024;
constexpr std::size_t max_kept_columns = 256;
template <class State>
struct state_free_list {
    std::vector<State*> items;
    state_free_list() { items.reserve(free_states_max); }
    ~state_free_list() {
        gone() = true;
        for (auto* s : items)
            delete s;
    }
    static bool& gone() noexcept {
        thread_local bool g = false;
        return g;
    }
    static state_free_list* get() noexcept {
        if (gone()) return nullptr;
        thread_local state_free_list l;
        return &l;
    }
};
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

std::unique_ptr<result::state, result::state_release> result::new_state() {
    if (auto* l = state_free_list<state>::get(); l && !l->items.empty()) {
        auto* s = l->items.back();
        l->items.pop_back();
        return std::unique_ptr<state, state_release>(s);
    }
    return std::unique_ptr<state, state_release>(new state);
}

void result::state_release::operator()(state* s) const noexcept {
    auto* l = state_free_list<state>::get();
    if (!l || l->items.size() >= free_states_max) {
        delete s;
        return;
    }
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
    s->which = kind::none;
    s->schema_agreement = true;
    l->items.push_back(s);  // (capacity reserved: no allocation)
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
