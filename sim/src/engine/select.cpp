// SELECT: restrictions, partition and row iteration, paging, selection.
#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>

#include "cql/protocol/murmur3.hpp"
#include "cql/protocol/value.hpp"
#include "cqlsim/engine_impl.hpp"

namespace cqlsim {

using namespace storage;
using proto::type_id;
using proto::value;

namespace {

const char* const filtering_message =
    "Cannot execute this query as it might involve data filtering and thus may have unpredictable "
    "performance. If "
    "you want to execute this query despite the performance unpredictability, use ALLOW FILTERING";

byte_buffer bigint_bytes(std::int64_t v) {
    byte_buffer b(8);
    for (int i = 0; i < 8; ++i)
        b[static_cast<std::size_t>(i)] =
            static_cast<std::uint8_t>(static_cast<std::uint64_t>(v) >> (56 - 8 * i));
    return b;
}
byte_buffer int_bytes(std::int32_t v) {
    byte_buffer b(4);
    for (int i = 0; i < 4; ++i)
        b[static_cast<std::size_t>(i)] =
            static_cast<std::uint8_t>(static_cast<std::uint32_t>(v) >> (24 - 8 * i));
    return b;
}

struct out_col {
    enum class kind : std::uint8_t {
        column,
        writetime,
        ttl,
        token,
        count,
        min,
        max,
        literal,
        similarity
    };
    kind k = kind::column;
    const column_def* col = nullptr;
    std::string name;
    proto::data_type type;
    std::optional<byte_buffer> literal;  // similarity: the other vector (nullopt: null)
    // similarity_*: the function, the second column (or the term giving `literal`).
    enum class sim_fn : std::uint8_t { cosine, dot_product, euclidean } fn = sim_fn::cosine;
    const column_def* col2 = nullptr;
    const ast::term* arg = nullptr;
};

bool is_float_vector(const proto::data_type& t) {
    return t.id == type_id::vector && t.params.size() == 1 && t.params[0].id == type_id::float_;
}

// A serialized vector<float, n>: n big-endian IEEE 754 floats. Empty if the size is wrong.
std::vector<float> float_vector(bytes_view b, std::uint32_t dimension) {
    std::vector<float> out;
    if (b.size() != std::size_t{dimension} * 4) return out;
    out.reserve(dimension);
    for (std::size_t i = 0; i < b.size(); i += 4) {
        std::uint32_t u = (std::uint32_t{b[i]} << 24) | (std::uint32_t{b[i + 1]} << 16) |
                          (std::uint32_t{b[i + 2]} << 8) | std::uint32_t{b[i + 3]};
        float f;
        std::memcpy(&f, &u, 4);
        out.push_back(f);
    }
    return out;
}

// Cassandra 5's similarity functions (jvector's VectorSimilarityFunction.compare):
// cosine (1 + cos) / 2, dot product (1 + a.b) / 2, euclidean 1 / (1 + |a - b|^2).
float similarity(out_col::sim_fn fn, const std::vector<float>& a, const std::vector<float>& b) {
    double dot = 0, na = 0, nb = 0, dist = 0;
    for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
        double x = a[i], y = b[i];
        dot += x * y;
        na += x * x;
        nb += y * y;
        dist += (x - y) * (x - y);
    }
    switch (fn) {
        case out_col::sim_fn::cosine:
            return static_cast<float>((1 + dot / std::sqrt(na * nb)) / 2);
        case out_col::sim_fn::dot_product:
            return static_cast<float>((1 + dot) / 2);
        case out_col::sim_fn::euclidean:
            return static_cast<float>(1 / (1 + dist));
    }
    return 0;
}

byte_buffer float_bytes(float f) {
    std::uint32_t u;
    std::memcpy(&u, &f, 4);
    return {static_cast<std::uint8_t>(u >> 24), static_cast<std::uint8_t>(u >> 16),
            static_cast<std::uint8_t>(u >> 8), static_cast<std::uint8_t>(u)};
}

std::string op_text(ast::op o) {
    switch (o) {
        case ast::op::eq:
            return "=";
        case ast::op::lt:
            return "<";
        case ast::op::lte:
            return "<=";
        case ast::op::gt:
            return ">";
        case ast::op::gte:
            return ">=";
        case ast::op::neq:
            return "!=";
        case ast::op::in:
            return "IN";
        case ast::op::contains:
            return "CONTAINS";
        case ast::op::contains_key:
            return "CONTAINS KEY";
        case ast::op::like:
            return "LIKE";
        case ast::op::is_not:
            return "IS NOT";
    }
    return "?";
}

std::vector<out_col> resolve_selection(const table_def& t, const ast::select_statement& s) {
    std::vector<out_col> out;
    auto undefined = [&](const std::string& n) {
        invalid("Undefined column name " + n + " in table " + t.keyspace + "." + t.name);
    };
    if (s.star) {
        for (const auto& c : t.columns) {
            if (s.distinct && c.kind != column_kind::partition_key &&
                c.kind != column_kind::static_)
                continue;
            out_col o;
            o.col = &c;
            o.name = c.name;
            o.type = c.type;
            out.push_back(std::move(o));
        }
        return out;
    }
    for (const auto& sel : s.selectors) {
        out_col o;
        switch (sel.k) {
            case ast::selector::kind::column: {
                o.col = t.find(sel.name);
                if (!o.col) undefined(sel.name);
                o.name = sel.name;
                o.type = o.col->type;
                if (s.distinct && o.col->kind != column_kind::partition_key &&
                    o.col->kind != column_kind::static_)
                    invalid(
                        "SELECT DISTINCT queries must only request partition key columns and/or "
                        "static columns "
                        "(not " +
                        sel.name + ")");
                break;
            }
            case ast::selector::kind::count_star:
                o.k = out_col::kind::count;
                o.name = "count";
                o.type = proto::data_type(type_id::bigint);
                break;
            case ast::selector::kind::count_column:
                if (sel.args.size() != 1)
                    invalid(
                        "Invalid number of arguments in call to function system.count: 1 required "
                        "but " +
                        std::to_string(sel.args.size()) + " provided");
                o.col = t.find(sel.args[0]);
                if (!o.col) undefined(sel.args[0]);
                o.k = out_col::kind::count;
                o.name = "system.count(" + sel.args[0] + ")";
                o.type = proto::data_type(type_id::bigint);
                break;
            case ast::selector::kind::writetime:
            case ast::selector::kind::ttl: {
                bool wt = sel.k == ast::selector::kind::writetime;
                if (sel.args.size() != 1) invalid("Invalid number of arguments for " + sel.name);
                o.col = t.find(sel.args[0]);
                if (!o.col) undefined(sel.args[0]);
                if (o.col->kind == column_kind::partition_key ||
                    o.col->kind == column_kind::clustering)
                    invalid(std::string("Cannot use selection function ") +
                            (wt ? "writeTime" : "ttl") + " on PRIMARY KEY part " + o.col->name);
                if (o.col->type.id == type_id::counter)
                    invalid(std::string("Cannot use selection function ") +
                            (wt ? "writeTime" : "ttl") + " on counter column " + o.col->name);
                o.k = wt ? out_col::kind::writetime : out_col::kind::ttl;
                o.name = (wt ? "writetime(" : "ttl(") + sel.args[0] + ")";
                o.type = proto::data_type(wt ? type_id::bigint : type_id::int_);
                break;
            }
            case ast::selector::kind::token: {
                std::vector<std::string> pk;
                for (auto i : t.pk)
                    pk.push_back(t.columns[i].name);
                if (sel.args != pk) {
                    std::string list;
                    for (const auto& n : pk)
                        list += (list.empty() ? "" : ", ") + n;
                    invalid("Type error: token(" +
                            [&] {
                                std::string a;
                                for (const auto& n : sel.args)
                                    a += (a.empty() ? "" : ", ") + n;
                                return a;
                            }() +
                            ") is not the partition key (" + list + ")");
                }
                o.k = out_col::kind::token;
                std::string a;
                for (const auto& n : sel.args)
                    a += (a.empty() ? "" : ", ") + n;
                o.name = "system.token(" + a + ")";
                o.type = proto::data_type(type_id::bigint);
                break;
            }
            case ast::selector::kind::function: {
                std::string fname = "system." + sel.name;
                if (sel.name == "min" || sel.name == "max") {
                    if (sel.args.size() != 1 || sel.value)
                        invalid("Invalid number of arguments in call to function " + fname +
                                ": 1 required but " +
                                std::to_string(sel.args.size() + (sel.value ? 1 : 0)) +
                                " provided");
                    o.col = t.find(sel.args[0]);
                    if (!o.col) undefined(sel.args[0]);
                    o.k = sel.name == "min" ? out_col::kind::min : out_col::kind::max;
                    o.name = fname + "(" + sel.args[0] + ")";
                    o.type = o.col->type;
                    break;
                }
                if (sel.name == "similarity_cosine")
                    o.fn = out_col::sim_fn::cosine;
                else if (sel.name == "similarity_dot_product")
                    o.fn = out_col::sim_fn::dot_product;
                else if (sel.name == "similarity_euclidean")
                    o.fn = out_col::sim_fn::euclidean;
                else
                    invalid("Unknown function '" + sel.name + "'");
                if (sel.args.empty())
                    invalid("Cannot infer type of argument ? in call to function " + fname);
                std::vector<const column_def*> cols;
                for (const auto& a : sel.args) {
                    const auto* c = t.find(a);
                    if (!c) undefined(a);
                    if (!is_float_vector(c->type))
                        invalid("Function " + fname +
                                " requires a float vector argument, but found argument " + a +
                                " of type " + proto::to_cql_string(c->type));
                    cols.push_back(c);
                }
                if (cols.size() == 2 && cols[0]->type.dimension != cols[1]->type.dimension)
                    invalid("All arguments must have the same vector dimensions");
                o.k = out_col::kind::similarity;
                o.col = cols[0];
                o.col2 = cols.size() == 2 ? cols[1] : nullptr;
                o.arg = sel.value ? &*sel.value : nullptr;
                std::string other = o.col2 ? o.col2->name : "?";
                o.name =
                    fname + "(" +
                    (sel.value_first ? other + ", " + o.col->name : o.col->name + ", " + other) +
                    ")";
                o.type = proto::data_type(type_id::float_);
                break;
            }
            case ast::selector::kind::literal:
                invalid("Literal selectors are not supported by cqlsim");
        }
        if (!sel.alias.empty()) o.name = sel.alias;
        out.push_back(std::move(o));
    }
    return out;
}

struct resume_state {
    std::uint64_t query_hash = 0;
    std::int64_t token = 0;
    byte_buffer key;
    bool static_row = false;
    std::vector<byte_buffer> ck;
    std::int32_t total = 0;
    std::int32_t in_partition = 0;
};

byte_buffer encode_state(const resume_state& s) {
    byte_buffer out;
    proto::byte_writer w(out);
    w.u8(0xC5);  // format marker
    w.u8(1);     // version
    w.i64(static_cast<std::int64_t>(s.query_hash));
    w.i64(s.token);
    w.bytes(s.key);
    w.u8(s.static_row ? 1 : 0);
    w.u16(static_cast<std::uint16_t>(s.ck.size()));
    for (const auto& c : s.ck)
        w.bytes(c);
    w.i32(s.total);
    w.i32(s.in_partition);
    return out;
}

bool decode_state(bytes_view b, resume_state& s) {
    proto::byte_reader r(b);
    if (r.u8() != 0xC5 || r.u8() != 1) return false;
    s.query_hash = static_cast<std::uint64_t>(r.i64());
    s.token = r.i64();
    auto k = r.bytes();
    if (!k) return false;
    s.key.assign(k->begin(), k->end());
    s.static_row = r.u8() != 0;
    auto n = r.u16();
    if (!r.plausible_count(n, 4)) return false;
    for (std::uint16_t i = 0; i < n; ++i) {
        auto c = r.bytes();
        if (!c) return false;
        s.ck.emplace_back(c->begin(), c->end());
    }
    s.total = r.i32();
    s.in_partition = r.i32();
    return !r.finish() && s.total >= 0 && s.in_partition >= 0;
}

std::optional<value> column_value(const column_def& c, const partition& p,
                                  const std::vector<value>* ck, const row* r, std::int64_t now_s) {
    switch (c.kind) {
        case column_kind::partition_key:
            return decode(c.type, p.pk[static_cast<std::size_t>(c.position)]);
        case column_kind::clustering:
            if (!ck) return std::nullopt;
            return (*ck)[static_cast<std::size_t>(c.position)];
        case column_kind::static_: {
            auto it = p.statics.find(c.id);
            if (it == p.statics.end() || !it->second.live(now_s)) return std::nullopt;
            return decode(c.type, it->second.data);
        }
        case column_kind::regular: {
            if (!r) return std::nullopt;
            auto it = r->cells.find(c.id);
            if (it == r->cells.end() || !it->second.live(now_s)) return std::nullopt;
            return decode(c.type, it->second.data);
        }
    }
    return std::nullopt;
}

bool matches(const table_def& t, const restriction& rs, const partition& p,
             const std::vector<value>* ck, const row* r, std::int64_t now_s) {
    std::vector<value> actual;
    for (auto ci : rs.cols) {
        auto v = column_value(t.columns[ci], p, ck, r, now_s);
        if (!v) return false;
        actual.push_back(std::move(*v));
    }
    auto cmp_tuple = [&](const std::vector<value>& want) {
        for (std::size_t i = 0; i < actual.size() && i < want.size(); ++i) {
            int c = proto::compare_values(t.columns[rs.cols[i]].type, actual[i], want[i]);
            if (c != 0) return c;
        }
        return 0;
    };
    const auto& type0 = t.columns[rs.cols[0]].type;
    switch (rs.oper) {
        case ast::op::eq:
            if (rs.map_key) {
                auto* m = std::get_if<proto::value_map>(&actual[0].v);
                if (!m) return false;
                for (const auto& [k, v] : *m)
                    if (proto::compare_values(type0.params[0], k, *rs.map_key) == 0)
                        return proto::compare_values(type0.params[1], v, rs.values[0][0]) == 0;
                return false;
            }
            [[fallthrough]];
        case ast::op::in:
            for (const auto& w : rs.values)
                if (cmp_tuple(w) == 0) return true;
            return false;
        case ast::op::neq:
            return cmp_tuple(rs.values[0]) != 0;
        case ast::op::lt:
            return cmp_tuple(rs.values[0]) < 0;
        case ast::op::lte:
            return cmp_tuple(rs.values[0]) <= 0;
        case ast::op::gt:
            return cmp_tuple(rs.values[0]) > 0;
        case ast::op::gte:
            return cmp_tuple(rs.values[0]) >= 0;
        case ast::op::contains:
        case ast::op::contains_key: {
            const auto& want = rs.values[0][0];
            if (auto* l = std::get_if<proto::value_list>(&actual[0].v)) {
                for (const auto& e : *l)
                    if (proto::compare_values(type0.params[0], e, want) == 0) return true;
                return false;
            }
            if (auto* m = std::get_if<proto::value_map>(&actual[0].v)) {
                for (const auto& [k, v] : *m) {
                    if (rs.oper == ast::op::contains_key &&
                        proto::compare_values(type0.params[0], k, want) == 0)
                        return true;
                    if (rs.oper == ast::op::contains &&
                        proto::compare_values(type0.params[1], v, want) == 0)
                        return true;
                }
            }
            return false;
        }
        default:
            return false;
    }
}

}  // namespace

column_spec spec_of(const table_def& t, const std::string& name, const proto::data_type& type) {
    return column_spec{t.keyspace, t.name, name, type};
}

partition_key engine::impl::make_partition_key(const std::vector<byte_buffer>& pk) {
    byte_buffer key;
    if (pk.size() == 1) {
        key = pk[0];
    } else {
        for (const auto& c : pk)
            proto::append_composite_component(key, c);
    }
    auto token = proto::murmur3_token(key);
    return {token, std::move(key)};
}

partition* engine::impl::find_partition(table_def& t, const std::vector<byte_buffer>& pk) {
    auto it = t.data.find(make_partition_key(pk));
    return it == t.data.end() ? nullptr : &it->second;
}

bool engine::impl::row_live(const table_def&, const partition&, const row& r) const {
    auto now_s = now_seconds();
    if (r.has_marker && (r.marker_expiry_s == 0 || now_s < r.marker_expiry_s)) return true;
    for (const auto& [id, c] : r.cells)
        if (c.live(now_s)) return true;
    return false;
}

std::vector<restriction> engine::impl::resolve_where(const table_def& t,
                                                     const std::vector<ast::relation>& where,
                                                     const term_context& tctx) {
    std::vector<restriction> out;
    for (const auto& rel : where) {
        if (rel.token) continue;
        restriction rs;
        rs.oper = rel.oper;
        std::vector<proto::data_type> types;
        for (const auto& n : rel.columns) {
            const auto* c = t.find(n);
            if (!c)
                invalid("Undefined column name " + n + " in table " + t.keyspace + "." + t.name);
            rs.cols.push_back(static_cast<std::size_t>(c - t.columns.data()));
            types.push_back(c->type);
        }
        const auto& c0 = t.columns[rs.cols[0]];
        if (rel.oper == ast::op::like || rel.oper == ast::op::is_not)
            invalid(op_text(rel.oper) +
                    " restriction is only supported on properly indexed columns");
        if (rel.multi) {
            for (auto ci : rs.cols)
                if (t.columns[ci].kind != column_kind::clustering)
                    invalid(
                        "Multi-column relations can only be applied to clustering columns but was "
                        "applied to: " +
                        t.columns[ci].name);
        }
        proto::data_type type = rel.multi ? proto::tuple_of(types) : c0.type;
        std::string name = c0.name;
        if (rel.oper == ast::op::contains || rel.oper == ast::op::contains_key) {
            if (!proto::is_collection(c0.type))
                invalid("Cannot use " + op_text(rel.oper) + " on non-collection column " + c0.name);
            if (rel.oper == ast::op::contains_key && c0.type.id != type_id::map)
                invalid("Cannot use CONTAINS KEY on non-map column " + c0.name);
            type = c0.type.id == type_id::map && rel.oper == ast::op::contains ? c0.type.params[1]
                                                                               : c0.type.params[0];
        }
        if (rel.map_key) {
            if (c0.type.id != type_id::map)
                invalid("Column " + c0.name + " cannot be used as a map");
            auto k = eval_value(*rel.map_key, c0.type.params[0], "key(" + c0.name + ")", tctx);
            if (!k) invalid("Invalid null map key for column " + c0.name);
            rs.map_key = std::move(*k);
            type = c0.type.params[1];
        }
        auto unpack = [&](value v) {
            std::vector<value> tuple;
            if (rel.multi) {
                auto& l = std::get<proto::value_list>(v.v);
                for (auto& e : l) {
                    if (e.is_null()) invalid("Invalid null value in condition for column " + name);
                    tuple.push_back(std::move(e));
                }
            } else {
                tuple.push_back(std::move(v));
            }
            return tuple;
        };
        auto one = [&](const ast::term& term, const proto::data_type& ty) {
            bool unset = false;
            auto v = eval_value(term, ty, name, tctx, &unset);
            if (unset) invalid("Invalid unset value for column " + name);
            if (!v) invalid("Invalid null value in condition for column " + name);
            return std::move(*v);
        };
        if (rel.oper == ast::op::in) {
            if (rel.in_marker) {
                auto lt = proto::list_of(type);
                auto v = one(rel.rhs, lt);
                for (auto& e : std::get<proto::value_list>(v.v))
                    rs.values.push_back(unpack(std::move(e)));
            } else {
                for (const auto& term : rel.in_values)
                    rs.values.push_back(unpack(one(term, type)));
            }
        } else {
            rs.values.push_back(unpack(one(rel.rhs, type)));
        }
        out.push_back(std::move(rs));
    }
    return out;
}

std::vector<column_spec> engine::impl::select_columns(const ast::select_statement& s,
                                                      const exec_context& ctx) {
    auto& t = get_table(s.table, ctx);
    std::vector<column_spec> out;
    for (const auto& c : resolve_selection(t, s))
        out.push_back(spec_of(t, c.name, c.type));
    return out;
}

result engine::impl::select(const ast::select_statement& s, exec_context& ctx,
                            const query_options& o, const std::vector<value_view>& bound) {
    auto& t = get_table(s.table, ctx);
    if (s.json) invalid("SELECT JSON is not supported by cqlsim");
    if (t.system) refresh_system_table(t, ctx);
    auto tctx = term_ctx(bound);
    auto now_s = now_seconds();
    auto sel = resolve_selection(t, s);
    for (auto& c : sel)
        if (c.k == out_col::kind::similarity && c.arg) {
            auto v = eval_value(*c.arg, c.col->type, c.col->name, tctx);
            if (v) c.literal = encode(c.col->type, *v);
        }
    // ORDER BY v ANN OF [...]: every matching row is scored (cosine, SAI's default) and
    // the best LIMIT rows returned, in one page.
    std::vector<float> ann_query;
    std::int64_t ann_limit = 0;
    const column_def* ann_col = nullptr;
    if (s.ann) {
        ann_col = t.find(s.ann->first);
        if (!ann_col) invalid("Undefined column name " + s.ann->first);
        if (!is_float_vector(ann_col->type))
            invalid("ANN ordering is only supported on float vector indexes");
        std::optional<std::int64_t> lim;
        if (s.limit)
            if (auto v = eval_value(*s.limit, proto::data_type(type_id::int_), "[limit]", tctx))
                lim = std::get<std::int64_t>(v->v);
        if (!lim || *lim > 1000)
            invalid(
                "SAI based ORDER BY clause requires a LIMIT that is not greater than 1000. "
                "LIMIT was " +
                (lim ? std::to_string(*lim) : std::string("NO LIMIT")));
        if (*lim <= 0) invalid("LIMIT must be strictly positive");
        ann_limit = *lim;
        auto v = eval_value(s.ann->second, ann_col->type, ann_col->name, tctx);
        if (!v) invalid("Unsupported null value for column " + ann_col->name);
        ann_query = float_vector(encode(ann_col->type, *v), ann_col->type.dimension);
        if (ann_query.size() != ann_col->type.dimension)
            invalid("Invalid vector literal for " + ann_col->name);
    }
    bool aggregate = std::any_of(sel.begin(), sel.end(), [](const out_col& c) {
        return c.k == out_col::kind::count || c.k == out_col::kind::min ||
               c.k == out_col::kind::max;
    });

    // ---- token restrictions
    std::int64_t tok_lo = std::numeric_limits<std::int64_t>::min();
    std::int64_t tok_hi = std::numeric_limits<std::int64_t>::max();
    bool lo_incl = true;
    bool hi_incl = true;
    bool has_token = false;
    for (const auto& rel : s.where) {
        if (!rel.token) continue;
        std::vector<std::string> pk;
        for (auto i : t.pk)
            pk.push_back(t.columns[i].name);
        if (rel.columns != pk) {
            std::string list;
            for (const auto& n : pk)
                list += (list.empty() ? "" : ", ") + n;
            invalid("The token function arguments must be in the partition key order: " + list);
        }
        auto v =
            eval_value(rel.rhs, proto::data_type(type_id::bigint), "partition key token", tctx);
        if (!v) invalid("Invalid null value for partition key token");
        auto tv = std::get<std::int64_t>(v->v);
        has_token = true;
        switch (rel.oper) {
            case ast::op::gt:
            case ast::op::gte:
                if (tv > tok_lo || (tv == tok_lo && rel.oper == ast::op::gt)) {
                    tok_lo = tv;
                    lo_incl = rel.oper == ast::op::gte;
                }
                break;
            case ast::op::lt:
            case ast::op::lte:
                if (tv < tok_hi || (tv == tok_hi && rel.oper == ast::op::lt)) {
                    tok_hi = tv;
                    hi_incl = rel.oper == ast::op::lte;
                }
                break;
            case ast::op::eq:
                tok_lo = tok_hi = tv;
                lo_incl = hi_incl = true;
                break;
            default:
                invalid("Unsupported " + op_text(rel.oper) + " relation on token");
        }
    }
    auto token_ok = [&](std::int64_t tk) {
        if (!has_token) return true;
        if (tk < tok_lo || (tk == tok_lo && !lo_incl)) return false;
        if (tk > tok_hi || (tk == tok_hi && !hi_incl)) return false;
        return true;
    };

    // ---- other restrictions and their validity
    auto restrictions = resolve_where(t, s.where, tctx);
    std::vector<const restriction*> pk_eq(t.pk.size(), nullptr);
    bool pk_other = false;
    bool needs_filtering = false;
    std::vector<const restriction*> ck_restr;
    bool has_ck_restr = false;
    for (const auto& rs : restrictions) {
        const auto& c = t.columns[rs.cols[0]];
        if (rs.oper == ast::op::neq) invalid("Unsupported \"!=\" relation: " + c.name + " != ...");
        if (c.kind == column_kind::partition_key) {
            if (rs.oper == ast::op::eq || rs.oper == ast::op::in) {
                if (pk_eq[static_cast<std::size_t>(c.position)])
                    invalid(
                        c.name +
                        " cannot be restricted by more than one relation if it includes an Equal");
                pk_eq[static_cast<std::size_t>(c.position)] = &rs;
            } else {
                pk_other = true;
            }
        } else if (c.kind == column_kind::clustering) {
            ck_restr.push_back(&rs);
            has_ck_restr = true;
        } else {
            needs_filtering = true;
        }
    }
    bool pk_all = std::all_of(pk_eq.begin(), pk_eq.end(), [](auto* p) { return p != nullptr; });
    bool pk_any = std::any_of(pk_eq.begin(), pk_eq.end(), [](auto* p) { return p != nullptr; });
    if (aggregate && !pk_all && ctx.session)  // Cassandra's client warning
        ctx.session->warnings.push_back("Aggregation query used without partition key");
    if (pk_other && !s.allow_filtering)
        invalid(
            "Only EQ and IN relation are supported on the partition key (unless you use the "
            "token() function or "
            "allow filtering)");
    if (pk_any && !pk_all && !s.allow_filtering) {
        invalid(filtering_message);
    }
    if (pk_any && has_token)
        invalid("Columns \"" + t.columns[t.pk[0]].name +
                "\" cannot be restricted by both a normal relation and a token relation");
    if (has_ck_restr && !pk_all) needs_filtering = true;
    if (has_ck_restr && pk_all && !s.allow_filtering) {
        // clustering prefix rule
        std::vector<const restriction*> by_pos(t.ck.size(), nullptr);
        for (auto* rs : ck_restr)
            for (auto ci : rs->cols) {
                auto pos = static_cast<std::size_t>(t.columns[ci].position);
                by_pos[pos] = rs;
            }
        bool previous_slice = false;
        for (std::size_t i = 0; i < by_pos.size(); ++i) {
            if (!by_pos[i]) {
                for (std::size_t j = i + 1; j < by_pos.size(); ++j)
                    if (by_pos[j])
                        invalid("PRIMARY KEY column \"" + t.columns[t.ck[j]].name +
                                "\" cannot be restricted as preceding column \"" +
                                t.columns[t.ck[i]].name + "\" is not restricted");
                break;
            }
            if (previous_slice && by_pos[i] != by_pos[i - 1])
                invalid("Clustering column \"" + t.columns[t.ck[i]].name +
                        "\" cannot be restricted (preceding column \"" +
                        t.columns[t.ck[i - 1]].name + "\" is restricted by a non-EQ relation)");
            if (by_pos[i]->oper != ast::op::eq && by_pos[i]->oper != ast::op::in)
                previous_slice = true;
        }
    }
    if (needs_filtering && !s.allow_filtering) invalid(filtering_message);

    // ---- ORDER BY
    bool reversed = false;
    if (!s.order_by.empty()) {
        if (!pk_all)
            invalid(
                "ORDER BY is only supported when the partition key is restricted by an EQ or an "
                "IN.");
        std::optional<bool> rev;
        for (std::size_t i = 0; i < s.order_by.size(); ++i) {
            const auto& [name, desc] = s.order_by[i];
            const auto* c = t.find(name);
            if (!c)
                invalid("Undefined column name " + name + " in table " + t.keyspace + "." + t.name);
            if (c->kind != column_kind::clustering)
                invalid(
                    "Order by is currently only supported on the clustered columns of the PRIMARY "
                    "KEY, got " +
                    name);
            if (c->position != static_cast<int>(i))
                invalid(
                    "Order by currently only supports the ordering of columns following their "
                    "declared order in "
                    "the PRIMARY KEY");
            bool r = desc != c->desc;
            if (rev && *rev != r) invalid("Unsupported order by relation");
            rev = r;
        }
        reversed = rev.value_or(false);
    }

    // ---- LIMIT / PER PARTITION LIMIT
    std::int64_t limit = INT32_MAX;
    std::int64_t ppl = INT32_MAX;
    if (s.limit) {
        auto v = eval_value(*s.limit, proto::data_type(type_id::int_), "[limit]", tctx);
        if (v) {
            limit = std::get<std::int64_t>(v->v);
            if (limit <= 0) invalid("LIMIT must be strictly positive");
        }
    }
    if (s.per_partition_limit) {
        auto v = eval_value(*s.per_partition_limit, proto::data_type(type_id::int_),
                            "[per_partition_limit]", tctx);
        if (v) {
            ppl = std::get<std::int64_t>(v->v);
            if (ppl <= 0) invalid("PER PARTITION LIMIT must be strictly positive");
        }
    }

    if (s.ann) limit = INT32_MAX;  // applied after scoring

    // ---- candidate partitions
    std::vector<partition*> parts;
    bool key_lookup = pk_all;
    if (pk_all) {
        std::vector<std::vector<byte_buffer>> keys(1);
        for (std::size_t i = 0; i < t.pk.size(); ++i) {
            std::vector<std::vector<byte_buffer>> next;
            for (const auto& prefix : keys)
                for (const auto& tuple : pk_eq[i]->values) {
                    auto k = prefix;
                    k.push_back(encode(t.columns[t.pk[i]].type, tuple[0]));
                    next.push_back(std::move(k));
                }
            keys = std::move(next);
        }
        std::vector<partition_key> pks;
        for (const auto& k : keys)
            pks.push_back(make_partition_key(k));
        std::sort(pks.begin(), pks.end());
        pks.erase(std::unique(pks.begin(), pks.end()), pks.end());
        for (const auto& k : pks) {
            auto it = t.data.find(k);
            if (it != t.data.end()) parts.push_back(&it->second);
        }
    }

    // ---- paging state
    std::int32_t page_size = (o.page_size > 0 && !aggregate && !s.ann) ? o.page_size : INT32_MAX;
    auto qh = hash16(ctx.keyspace + "\n" + t.keyspace + "." + t.name + "\n" + ctx.query_text);
    std::uint64_t query_hash = 0;
    for (int i = 0; i < 8; ++i)
        query_hash = (query_hash << 8) | qh[static_cast<std::size_t>(i)];
    std::optional<resume_state> resume;
    if (o.paging_state && !aggregate) {
        resume_state rs;
        if (!decode_state(*o.paging_state, rs) || rs.query_hash != query_hash)
            fail(error_code::protocol_error, "Invalid value for the paging state");
        resume = std::move(rs);
    }
    bool multi_partition_order = !s.order_by.empty() && parts.size() > 1;
    if (multi_partition_order && o.page_size > 0 && !aggregate)
        invalid(
            "Cannot page queries with both ORDER BY and a IN restriction on the partition key; you "
            "must either "
            "remove the ORDER BY or the IN and sort client side, or disable paging for this query");

    // ---- iteration
    struct hit {
        partition* p;
        const std::vector<value>* ck;
        row* r;
        std::int32_t in_partition;
    };
    std::vector<hit> hits;
    std::int64_t total = resume ? resume->total : 0;
    bool more = false;
    std::vector<value> resume_ck;
    if (resume && !resume->static_row) {
        for (std::size_t i = 0; i < resume->ck.size() && i < t.ck.size(); ++i) {
            auto v = decode(t.columns[t.ck[i]].type, resume->ck[i]);
            if (!v) fail(error_code::protocol_error, "Invalid value for the paging state");
            resume_ck.push_back(std::move(*v));
        }
    }
    partition_key resume_key;
    if (resume) resume_key = {resume->token, resume->key};

    auto visit = [&](partition& p) -> bool {  // false: stop everything
        if (!token_ok(p.token)) return true;
        std::int32_t in_part = 0;
        bool is_resume_partition = false;
        if (resume) {
            auto k = make_partition_key(p.pk);
            if (k < resume_key) return true;
            if (k == resume_key) {
                if (resume->static_row) return true;
                is_resume_partition = true;
                in_part = resume->in_partition;
            }
        }
        // partition-level restrictions (pk filtering)
        for (const auto& rs : restrictions) {
            if (t.columns[rs.cols[0]].kind != column_kind::partition_key) continue;
            if (!matches(t, rs, p, nullptr, nullptr, now_s)) return true;
        }
        auto emit = [&](const std::vector<value>* ck,
                        row* r) -> int {  // 0 continue, 1 next partition, 2 stop
            if (total >= limit) return 2;
            if (in_part >= ppl) return 1;
            ++in_part;
            ++total;
            hits.push_back({&p, ck, r, in_part});
            // Like Cassandra, a full page always carries a paging state (unless the LIMIT is
            // reached): whether more rows follow is only known when the next page is read.
            if (static_cast<std::int32_t>(hits.size()) >= page_size) {
                more = total < limit;
                return 2;
            }
            return 0;
        };
        if (s.distinct) {
            bool any = std::any_of(p.rows.begin(), p.rows.end(),
                                   [&](auto& e) { return row_live(t, p, e.second); });
            bool statics = std::any_of(p.statics.begin(), p.statics.end(),
                                       [&](auto& e) { return e.second.live(now_s); });
            if (!any && !statics) return true;
            return emit(nullptr, nullptr) != 2;
        }
        bool any_live = false;
        auto handle = [&](const std::vector<value>& ck, row& r) -> int {
            if (!row_live(t, p, r)) return 0;
            any_live = true;
            if (is_resume_partition) {
                int c = t.cmp->compare(ck, resume_ck);
                if (reversed ? c >= 0 : c <= 0) return 0;
            }
            for (const auto& rs : restrictions) {
                if (t.columns[rs.cols[0]].kind == column_kind::partition_key) continue;
                if (!matches(t, rs, p, &ck, &r, now_s)) return 0;
            }
            return emit(&ck, &r);
        };
        int state = 0;
        if (reversed) {
            for (auto it = p.rows.rbegin(); it != p.rows.rend() && state == 0; ++it)
                state = handle(it->first, it->second);
        } else {
            for (auto it = p.rows.begin(); it != p.rows.end() && state == 0; ++it)
                state = handle(it->first, it->second);
        }
        if (state == 2) return false;
        if (state == 0 && !any_live && !has_ck_restr && !is_resume_partition) {
            bool statics = std::any_of(p.statics.begin(), p.statics.end(),
                                       [&](auto& e) { return e.second.live(now_s); });
            if (statics) {
                bool ok = true;
                for (const auto& rs : restrictions) {
                    if (t.columns[rs.cols[0]].kind == column_kind::partition_key) continue;
                    if (!matches(t, rs, p, nullptr, nullptr, now_s)) ok = false;
                }
                if (ok && emit(nullptr, nullptr) == 2) return false;
            }
        }
        return true;
    };

    if (key_lookup) {
        for (auto* p : parts)
            if (!visit(*p)) break;
    } else {
        auto it = t.data.begin();
        if (resume)
            it = t.data.lower_bound(resume_key);
        else if (has_token)
            it = t.data.lower_bound(partition_key{tok_lo, {}});
        for (; it != t.data.end(); ++it) {
            if (has_token && it->first.first > tok_hi) break;
            if (!visit(it->second)) break;
        }
    }

    if (multi_partition_order) {
        std::stable_sort(hits.begin(), hits.end(), [&](const hit& a, const hit& b) {
            if (!a.ck || !b.ck) return a.ck != nullptr && b.ck == nullptr;
            int c = t.cmp->compare(*a.ck, *b.ck);
            return reversed ? c > 0 : c < 0;
        });
    }

    if (s.ann) {
        // Score the rows (rows without a vector are not in the index), best first.
        std::vector<std::pair<float, hit>> scored;
        for (const auto& h : hits) {
            if (!h.r) continue;
            auto it = h.r->cells.find(ann_col->id);
            if (it == h.r->cells.end() || !it->second.live(now_s)) continue;
            auto vec = float_vector(it->second.data, ann_col->type.dimension);
            if (vec.size() != ann_query.size()) continue;
            scored.emplace_back(similarity(out_col::sim_fn::cosine, vec, ann_query), h);
        }
        std::stable_sort(scored.begin(), scored.end(),
                         [](const auto& a, const auto& b) { return a.first > b.first; });
        if (scored.size() > static_cast<std::size_t>(ann_limit))
            scored.resize(static_cast<std::size_t>(ann_limit));
        hits.clear();
        for (auto& [score, h] : scored)
            hits.push_back(h);
        more = false;
    }

    // ---- build the result
    rows_result out;
    for (const auto& c : sel)
        out.columns.push_back(spec_of(t, c.name, c.type));
    out.metadata_id = metadata_id(out.columns);
    auto cell_of = [&](const out_col& c, const hit& h) -> std::optional<byte_buffer> {
        if (c.k == out_col::kind::token) return bigint_bytes(h.p->token);
        if (c.k == out_col::kind::similarity) {
            auto vector_of = [&](const column_def* col) -> std::optional<byte_buffer> {
                if (!h.r) return std::nullopt;
                auto it = h.r->cells.find(col->id);
                if (it == h.r->cells.end() || !it->second.live(now_s)) return std::nullopt;
                return it->second.data;
            };
            auto a = vector_of(c.col);
            auto b = c.col2 ? vector_of(c.col2) : c.literal;
            if (!a || !b) return std::nullopt;
            auto dim = c.col->type.dimension;
            auto va = float_vector(*a, dim), vb = float_vector(*b, dim);
            if (va.size() != dim || vb.size() != dim)
                invalid("All arguments must have the same vector dimensions");
            return float_bytes(similarity(c.fn, va, vb));
        }
        const auto& col = *c.col;
        if (col.kind == column_kind::partition_key)
            return h.p->pk[static_cast<std::size_t>(col.position)];
        if (col.kind == column_kind::clustering) {
            if (!h.r) return std::nullopt;
            return h.r->ck_bytes[static_cast<std::size_t>(col.position)];
        }
        const cell* ce = nullptr;
        if (col.kind == column_kind::static_) {
            auto it = h.p->statics.find(col.id);
            if (it != h.p->statics.end()) ce = &it->second;
        } else if (h.r) {
            auto it = h.r->cells.find(col.id);
            if (it != h.r->cells.end()) ce = &it->second;
        }
        if (!ce || !ce->live(now_s)) return std::nullopt;
        if (c.k == out_col::kind::writetime) return bigint_bytes(ce->ts);
        if (c.k == out_col::kind::ttl) {
            if (ce->expiry_s == 0) return std::nullopt;
            return int_bytes(static_cast<std::int32_t>(ce->expiry_s - now_s));
        }
        return ce->data;
    };
    if (aggregate) {
        std::vector<std::optional<byte_buffer>> row_out;
        for (const auto& c : sel) {
            if (c.k == out_col::kind::count) {
                std::int64_t n = 0;
                for (const auto& h : hits)
                    if (!c.col ||
                        cell_of(out_col{out_col::kind::column, c.col, "", c.col->type, {}}, h))
                        ++n;
                row_out.push_back(bigint_bytes(n));
            } else if (c.k == out_col::kind::min || c.k == out_col::kind::max) {
                // The least / greatest non-null value in the type's order; null when none.
                std::optional<byte_buffer> best;
                std::optional<value> best_value;
                for (const auto& h : hits) {
                    auto cell =
                        cell_of(out_col{out_col::kind::column, c.col, "", c.col->type, {}}, h);
                    if (!cell) continue;
                    auto v = decode(c.col->type, *cell);
                    if (!v) continue;
                    const int cmp =
                        best_value ? proto::compare_values(c.col->type, *v, *best_value) : 0;
                    if (!best_value || (c.k == out_col::kind::min ? cmp < 0 : cmp > 0)) {
                        best_value = std::move(v);
                        best = std::move(cell);
                    }
                }
                row_out.push_back(std::move(best));
            } else {
                row_out.push_back(hits.empty() ? std::nullopt : cell_of(c, hits.front()));
            }
        }
        out.rows.push_back(std::move(row_out));
        return out;
    }
    for (const auto& h : hits) {
        std::vector<std::optional<byte_buffer>> row_out;
        row_out.reserve(sel.size());
        for (const auto& c : sel)
            row_out.push_back(cell_of(c, h));
        out.rows.push_back(std::move(row_out));
    }
    if (more && !hits.empty()) {
        const auto& last = hits.back();
        resume_state st;
        st.query_hash = query_hash;
        auto k = make_partition_key(last.p->pk);
        st.token = k.first;
        st.key = k.second;
        st.static_row = last.r == nullptr;
        if (last.r) st.ck = last.r->ck_bytes;
        st.total = static_cast<std::int32_t>(total);
        st.in_partition = last.in_partition;
        out.paging_state = encode_state(st);
    }
    return out;
}

}  // namespace cqlsim
