// cqlsim's engine: schema, storage and execution of parsed statements.
#include "cqlsim/engine.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <exception>
#include <mutex>
#include <random>
#include <set>
#include <sstream>

#include "cql/protocol/murmur3.hpp"
#include "cql/protocol/value.hpp"
#include "cqlsim/engine_impl.hpp"
#include "cqlsim/literals.hpp"
#include "cqlsim/parser.hpp"

namespace cqlsim {

using namespace storage;
using proto::type_id;
using proto::value;

// ---------------------------------------------------------------------------------------
// small helpers

[[noreturn]] void fail(error_code code, std::string msg) {
    error e;
    e.code = code;
    e.message = std::move(msg);
    throw engine_failure{std::move(e)};
}
[[noreturn]] void invalid(std::string msg) {
    fail(error_code::invalid, std::move(msg));
}

byte_buffer hash16(std::string_view data) {
    auto h = proto::cassandra_murmur3_128(proto::as_bytes(data));
    byte_buffer out(16);
    for (int i = 0; i < 8; ++i) {
        out[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(h[0] >> (56 - 8 * i));
        out[static_cast<std::size_t>(8 + i)] = static_cast<std::uint8_t>(h[1] >> (56 - 8 * i));
    }
    return out;
}

uuid_bytes hash_uuid(std::string_view data, int version) {
    auto b = hash16(data);
    uuid_bytes u{};
    std::copy(b.begin(), b.end(), u.begin());
    u[6] = static_cast<std::uint8_t>((u[6] & 0x0F) | (version << 4));
    u[8] = static_cast<std::uint8_t>((u[8] & 0x3F) | 0x80);
    return u;
}

int clustering_compare::compare(const std::vector<value>& a, const std::vector<value>& b) const {
    auto n = std::min({a.size(), b.size(), types.size()});
    for (std::size_t i = 0; i < n; ++i) {
        int c = proto::compare_values(types[i], a[i], b[i]);
        if (c != 0) return desc[i] ? -c : c;
    }
    return 0;
}

void table_def::finish_columns() {
    std::stable_sort(columns.begin(), columns.end(), [](const column_def& a, const column_def& b) {
        auto rank = [](const column_def& c) { return static_cast<int>(c.kind); };
        if (rank(a) != rank(b)) return rank(a) < rank(b);
        if (a.kind == column_kind::partition_key || a.kind == column_kind::clustering)
            return a.position < b.position;
        return a.name < b.name;
    });
    pk.clear();
    ck.clear();
    auto c = std::make_shared<clustering_compare>();
    for (std::size_t i = 0; i < columns.size(); ++i) {
        if (columns[i].kind == column_kind::partition_key) pk.push_back(i);
        if (columns[i].kind == column_kind::clustering) {
            ck.push_back(i);
            c->types.push_back(columns[i].type);
            c->desc.push_back(columns[i].desc);
        }
    }
    if (!cmp || cmp->types != c->types || cmp->desc != c->desc) cmp = std::move(c);
}

std::string lower(std::string_view s) {
    return fold_identifier(s);
}

// ---------------------------------------------------------------------------------------
// engine::impl basics

engine::impl::impl(engine_config cfg)
    : clock(std::move(cfg.clock_micros)), topo(std::move(cfg.topo)) {
    if (!clock) {
        clock = [] {
            return std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                .count();
        };
    }
    normalize_topology();
    create_system_schema();
    recompute_schema_version();
}

void engine::impl::normalize_topology() {
    if (topo.nodes.empty()) topo.nodes.push_back(node_info{});
    for (std::size_t i = 0; i < topo.nodes.size(); ++i) {
        auto& n = topo.nodes[i];
        if (n.host_id == uuid_bytes{})
            n.host_id = hash_uuid("cqlsim-host-" + n.address + "-" + std::to_string(i), 4);
        if (n.tokens.empty()) {
            // Evenly spread tokens, one per node.
            auto step = static_cast<std::uint64_t>(-1) / topo.nodes.size();
            auto t = static_cast<std::int64_t>(
                static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::min()) + step * i);
            n.tokens.push_back(std::to_string(t));
        }
    }
}

std::int64_t engine::impl::now_micros() const {
    return clock();
}

std::int64_t engine::impl::next_timestamp() {
    auto now = clock();
    last_timestamp = std::max(now, last_timestamp + 1);
    return last_timestamp;
}

uuid_bytes engine::impl::next_timeuuid() {
    ++timeuuid_seq;
    return make_timeuuid(clock(), static_cast<std::uint16_t>(timeuuid_seq & 0x3FFF),
                         0x0000c0ffee00ULL + (timeuuid_seq >> 14));
}

uuid_bytes engine::impl::next_random_uuid() {
    ++uuid_seq;
    return hash_uuid("cqlsim-uuid-" + std::to_string(uuid_seq) + "-" + std::to_string(clock()), 4);
}

void engine::impl::notify(const schema_change_result& c) {
    recompute_schema_version();
    if (on_change) on_change(c);
}

void engine::impl::recompute_schema_version() {
    std::string s;
    for (const auto& [kn, ks] : keyspaces) {
        if (ks.system) continue;
        s += "K" + kn;
        for (const auto& [k, v] : ks.replication)
            s += k + "=" + v + ";";
        for (const auto& [tn, t] : ks.tables) {
            s += "T" + tn;
            for (const auto& c : t.columns)
                s += c.name + ":" + proto::to_cql_string(c.type) + (c.desc ? "-" : "") +
                     std::to_string(static_cast<int>(c.kind));
            for (const auto& [k, v] : t.options)
                s += k + "=" + v;
        }
        for (const auto& [un, u] : ks.types) {
            s += "U" + un;
            for (std::size_t i = 0; i < u.field_names.size(); ++i)
                s += u.field_names[i] + proto::to_cql_string(u.field_types[i]);
        }
    }
    version = hash_uuid(s, 3);
}

keyspace_def& engine::impl::get_keyspace(const std::string& name) {
    auto it = keyspaces.find(name);
    if (it == keyspaces.end()) invalid("Keyspace " + name + " does not exist");
    return it->second;
}

std::string engine::impl::effective_keyspace(const ast::qualified_name& q,
                                             const exec_context& ctx) const {
    if (!q.keyspace.empty()) return q.keyspace;
    if (!ctx.keyspace.empty()) return ctx.keyspace;
    invalid(
        "No keyspace has been specified. USE a keyspace, or explicitly specify keyspace.tablename");
}

table_def& engine::impl::get_table(const ast::qualified_name& q, const exec_context& ctx) {
    auto ksn = effective_keyspace(q, ctx);
    // Cassandra's Schema.validateTable words (DDL on a missing keyspace says it otherwise).
    auto ks = keyspaces.find(ksn);
    if (ks == keyspaces.end()) invalid("keyspace " + ksn + " does not exist");
    auto it = ks->second.tables.find(q.name);
    if (it == ks->second.tables.end()) invalid("table " + q.name + " does not exist");
    return it->second;
}

// Resolves UDT names inside a parsed type against the keyspace's types.
void engine::impl::resolve_udts(const std::string& ks, proto::data_type& t) {
    if (t.id == type_id::udt && t.field_names.empty()) {
        std::string uks = t.keyspace.empty() ? ks : t.keyspace;
        std::string name = t.name;
        if (auto dot = name.find('.'); dot != std::string::npos) {
            uks = name.substr(0, dot);
            name = name.substr(dot + 1);
        }
        auto kit = keyspaces.find(uks);
        if (kit == keyspaces.end()) invalid("Unknown type " + uks + "." + name);
        auto it = kit->second.types.find(name);
        if (it == kit->second.types.end()) invalid("Unknown type " + uks + "." + name);
        bool frozen = t.frozen;
        t.keyspace = uks;
        t.name = name;
        t.field_names = it->second.field_names;
        t.params = it->second.field_types;
        t.frozen = frozen;
        return;
    }
    for (auto& p : t.params)
        resolve_udts(ks, p);
}

proto::data_type engine::impl::parse_type(const std::string& ks, const std::string& text) {
    proto::data_type t;
    if (auto ec = proto::parse_cql_type(text, t)) invalid("Unknown type " + text);
    resolve_udts(ks, t);
    return t;
}

// ---------------------------------------------------------------------------------------
// bound values

std::vector<value_view> engine::impl::bind_values(const ast::parsed_statement& p,
                                                  const query_options& o) {
    const auto& markers = p.markers;
    if (o.names.empty()) {
        if (o.values.size() != markers.size())
            invalid("Invalid amount of bind variables: expected " + std::to_string(markers.size()) +
                    ", got " + std::to_string(o.values.size()));
        return o.values;
    }
    std::vector<value_view> out(markers.size(), value_view::unset());
    for (std::size_t i = 0; i < markers.size(); ++i) {
        bool found = false;
        for (std::size_t j = 0; j < o.names.size() && j < o.values.size(); ++j) {
            if (o.names[j] == markers[i].name || lower(o.names[j]) == markers[i].name) {
                out[i] = o.values[j];
                found = true;
                break;
            }
        }
        if (!found) invalid("Invalid unset value for column " + markers[i].name);
    }
    return out;
}

term_context engine::impl::term_ctx(const std::vector<value_view>& bound) {
    term_context ctx;
    ctx.bound = &bound;
    ctx.now_micros = now_micros();
    ctx.make_timeuuid = [this] { return next_timeuuid(); };
    ctx.make_uuid = [this] { return next_random_uuid(); };
    return ctx;
}

// Evaluates a term to a decoded value of the given type; null and unset give nullopt.
std::optional<value> engine::impl::eval_value(const ast::term& t, const proto::data_type& type,
                                              const std::string& column, const term_context& ctx,
                                              bool* was_unset) {
    value v;
    bool unset = false;
    if (auto e = evaluate_term_value(t, type, column, ctx, v, unset)) invalid(*e);
    if (was_unset) *was_unset = unset;
    if (unset || v.is_null()) return std::nullopt;
    return v;
}

cell_value engine::impl::eval_cell(const ast::term& t, const proto::data_type& type,
                                   const std::string& column, const term_context& ctx) {
    cell_value out;
    if (auto e = evaluate_term(t, type, column, ctx, out)) invalid(*e);
    return out;
}

byte_buffer encode(const proto::data_type& t, const value& v) {
    byte_buffer out;
    if (proto::encode_value(t, v, out))
        invalid("Invalid value for type " + proto::to_cql_string(t));
    return out;
}

std::optional<value> decode(const proto::data_type& t, bytes_view b) {
    value v;
    if (proto::decode_value(t, b, v)) return std::nullopt;
    return v;
}

// ---------------------------------------------------------------------------------------
// public API

engine::engine(engine_config cfg) : impl_(std::make_unique<impl>(std::move(cfg))) {}
engine::~engine() = default;

namespace {
template <class F>
result guarded(std::mutex& m, F&& f) {
    std::lock_guard lock(m);
    try {
        return f();
    } catch (engine_failure& e) {
        return std::move(e.err);
    } catch (const std::exception& e) {
        error err;
        err.code = error_code::server_error;
        err.message = std::string("cqlsim internal error: ") + e.what();
        return err;
    }
}
}  // namespace

result engine::query(session_state& s, std::string_view cql, const query_options& o) {
    s.warnings.clear();
    return guarded(impl_->mutex, [&]() -> result {
        auto parsed = parse(cql);
        if (auto* e = std::get_if<syntax_error>(&parsed)) {
            error err;
            err.code = error_code::syntax_error;
            err.message = e->message;
            return err;
        }
        auto& p = std::get<ast::parsed_statement>(parsed);
        exec_context ctx;
        ctx.keyspace = o.keyspace.empty() ? s.keyspace : o.keyspace;
        ctx.session = &s;
        ctx.query_text = std::string(cql);
        return impl_->execute(p, ctx, o);
    });
}

result engine::prepare(session_state& s, std::string_view cql, std::string_view keyspace) {
    s.warnings.clear();
    return guarded(impl_->mutex, [&]() -> result {
        auto parsed = parse(cql);
        if (auto* e = std::get_if<syntax_error>(&parsed)) {
            error err;
            err.code = error_code::syntax_error;
            err.message = e->message;
            return err;
        }
        exec_context ctx;
        ctx.keyspace = keyspace.empty() ? s.keyspace : std::string(keyspace);
        ctx.session = &s;
        ctx.query_text = std::string(cql);
        return impl_->prepare(std::get<ast::parsed_statement>(std::move(parsed)), ctx);
    });
}

result engine::execute(session_state& s, bytes_view id, const query_options& o) {
    s.warnings.clear();
    return guarded(impl_->mutex, [&]() -> result {
        byte_buffer key(id.begin(), id.end());
        auto it = impl_->prepared.find(key);
        if (it == impl_->prepared.end()) {
            error err;
            err.code = error_code::unprepared;
            std::string hex;
            static const char* digits = "0123456789abcdef";
            for (auto b : key) {
                hex += digits[b >> 4];
                hex += digits[b & 15];
            }
            err.message = "Prepared query with ID " + hex +
                          " not found (either the query was not prepared on this "
                          "host (maybe the host has been restarted?) or you have prepared too many "
                          "queries and it has "
                          "been evicted from the internal cache)";
            err.unprepared_id = key;
            return err;
        }
        exec_context ctx;
        ctx.keyspace = it->second.keyspace;
        ctx.session = &s;
        ctx.query_text = it->second.text;
        return impl_->execute(it->second.parsed, ctx, o);
    });
}

result engine::batch(session_state& s, batch_kind kind, const std::vector<batch_entry>& statements,
                     const query_options& o) {
    s.warnings.clear();
    return guarded(impl_->mutex,
                   [&]() -> result { return impl_->run_batch(s, kind, statements, o); });
}

void engine::on_schema_change(std::function<void(const schema_change_result&)> cb) {
    std::lock_guard lock(impl_->mutex);
    impl_->on_change = std::move(cb);
}

void engine::set_topology(topology t) {
    std::lock_guard lock(impl_->mutex);
    impl_->topo = std::move(t);
    impl_->normalize_topology();
}

topology engine::get_topology() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->topo;
}

void engine::set_clock(std::function<std::int64_t()> clock_micros) {
    std::lock_guard lock(impl_->mutex);
    impl_->clock = std::move(clock_micros);
}

uuid_bytes engine::schema_version() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->version;
}

}  // namespace cqlsim
