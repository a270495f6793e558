// INSERT / UPDATE / DELETE, lightweight transactions, batches, and statement dispatch.
#include <algorithm>
#include <climits>
#include <set>

#include "cql/protocol/value.hpp"
#include "cqlsim/engine_impl.hpp"
#include "cqlsim/parser.hpp"

namespace cqlsim {

using namespace storage;
using proto::type_id;
using proto::value;

namespace {

constexpr std::int64_t max_ttl = 630720000;

const ast::qualified_name& table_of(const ast::modification& m) {
    return std::visit([](const auto& s) -> const ast::qualified_name& { return s.table; }, m);
}
const ast::using_clause& using_of(const ast::modification& m) {
    return std::visit([](const auto& s) -> const ast::using_clause& { return s.using_; }, m);
}
bool is_conditional(const ast::modification& m) {
    if (auto* i = std::get_if<ast::insert_statement>(&m)) return i->if_not_exists;
    if (auto* u = std::get_if<ast::update_statement>(&m))
        return u->if_exists || !u->conditions.empty();
    auto& d = std::get<ast::delete_statement>(m);
    return d.if_exists || !d.conditions.empty();
}

struct key_set {
    std::vector<std::vector<byte_buffer>> pks;
    std::vector<std::vector<value>> cks;  // full clustering keys (EQ/IN on every clustering column)
    std::vector<restriction> ck_restrictions;
    bool ck_full = false;
    bool ck_none = true;
};

std::string join_names(const table_def& t, const std::vector<std::size_t>& idx) {
    std::string out;
    for (auto i : idx)
        out += (out.empty() ? "" : ", ") + t.columns[i].name;
    return out;
}

bool live_statics(const partition& p, std::int64_t now_s) {
    return std::any_of(p.statics.begin(), p.statics.end(),
                       [&](auto& e) { return e.second.live(now_s); });
}

// The bytes of a column of a row (r may be null: the row does not exist) as of now_s.
std::optional<byte_buffer> cell_bytes(const column_def& c, const std::vector<byte_buffer>& pk,
                                      const partition* p, const row* r, std::int64_t now_s) {
    if (c.kind == column_kind::partition_key) return pk[static_cast<std::size_t>(c.position)];
    if (c.kind == column_kind::clustering) {
        if (!r) return std::nullopt;
        return r->ck_bytes[static_cast<std::size_t>(c.position)];
    }
    const std::map<int, cell>* cells =
        c.kind == column_kind::static_ ? (p ? &p->statics : nullptr) : (r ? &r->cells : nullptr);
    if (!cells) return std::nullopt;
    auto it = cells->find(c.id);
    if (it == cells->end() || !it->second.live(now_s)) return std::nullopt;
    return it->second.data;
}

std::optional<byte_buffer> bool_cell(bool b) {
    return byte_buffer{static_cast<std::uint8_t>(b ? 1 : 0)};
}

// Cassandra's client warning for an unlogged (or counter) batch over many partitions
// (unlogged_batch_across_partitions_warn_threshold: 10).
std::optional<std::string> spread_batch_warning(const std::vector<std::vector<mutation>>& all) {
    std::set<std::vector<byte_buffer>> keys;
    std::set<std::string> tables;
    for (const auto& muts : all)
        for (const auto& mu : muts) {
            keys.insert(mu.pk);
            tables.insert(mu.table->keyspace + "." + mu.table->name);
        }
    if (keys.size() <= 10) return std::nullopt;
    std::string names;
    for (const auto& n : tables)
        names += (names.empty() ? "" : ", ") + n;
    return "Unlogged batch covering " + std::to_string(keys.size()) +
           " partitions detected against table" + (tables.size() == 1 ? "" : "s") + " [" + names +
           "]. You should use a logged batch for atomicity, or asynchronous writes for "
           "performance.";
}

// Last-write-wins merge of one cell.
void write_cell(std::map<int, cell>& cells, int id, cell c) {
    auto it = cells.find(id);
    if (it != cells.end()) {
        const auto& old = it->second;
        if (old.ts > c.ts) return;
        if (old.ts == c.ts) {
            if (old.tombstone && !c.tombstone) return;
            if (!old.tombstone && !c.tombstone && old.data > c.data) return;
        }
        it->second = std::move(c);
        return;
    }
    cells.emplace(id, std::move(c));
}

void delete_row_at(row& r, std::int64_t ts) {
    r.deleted_at = std::max(r.deleted_at, ts);
    if (r.has_marker && r.marker_ts <= ts) r.has_marker = false;
    for (auto it = r.cells.begin(); it != r.cells.end();)
        it = it->second.ts <= ts ? r.cells.erase(it) : std::next(it);
}

}  // namespace

// ---------------------------------------------------------------------------------------
// building mutations

std::vector<mutation> engine::impl::build_mutations(const ast::modification& m, exec_context& ctx,
                                                    const query_options& o,
                                                    const std::vector<value_view>& bound,
                                                    std::optional<std::int64_t> batch_ts) {
    auto& t = get_table(table_of(m), ctx);
    if (t.system) fail(error_code::unauthorized, t.keyspace + " keyspace is not user-modifiable.");
    auto tctx = term_ctx(bound);
    const auto& us = using_of(m);

    std::int64_t ts = 0;
    if (us.timestamp) {
        if (batch_ts && ctx.in_batch && ctx.batch_timestamp)
            invalid("Timestamp must be set either on BATCH or individual statements");
        auto v = eval_value(*us.timestamp, proto::data_type(type_id::bigint), "[timestamp]", tctx);
        if (!v) invalid("Invalid null value of timestamp");
        ts = std::get<std::int64_t>(v->v);
        if (is_conditional(m)) invalid("Cannot provide custom timestamp for conditional updates");
    } else if (batch_ts) {
        ts = *batch_ts;
    } else if (o.timestamp && *o.timestamp != std::numeric_limits<std::int64_t>::min()) {
        ts = *o.timestamp;
    } else {
        ts = next_timestamp();
    }
    std::int32_t ttl = t.default_ttl;
    if (us.ttl) {
        bool unset = false;
        auto v = eval_value(*us.ttl, proto::data_type(type_id::int_), "[ttl]", tctx, &unset);
        if (v) {
            auto n = std::get<std::int64_t>(v->v);
            if (n < 0) invalid("A TTL must be greater or equal to 0, but was " + std::to_string(n));
            if (n > max_ttl)
                invalid("ttl is too large. requested (" + std::to_string(n) + ") maximum (" +
                        std::to_string(max_ttl) + ")");
            ttl = static_cast<std::int32_t>(n);
        } else if (!unset) {
            invalid("Invalid null value of TTL");
        }
        if (t.counter)
            invalid("Cannot set a TTL on counter tables... A TTL cannot be set on counter updates");
    }

    auto key_value = [&](const column_def& c, const ast::term& term) {
        auto cv = eval_cell(term, c.type, c.name, tctx);
        if (cv.st == cell_value::state::unset) invalid("Invalid unset value for column " + c.name);
        if (cv.st == cell_value::state::null)
            invalid("Invalid null value in condition for column " + c.name);
        if (c.kind == column_kind::partition_key && cv.data.size() > 65535)
            invalid("Key length of " + std::to_string(cv.data.size()) +
                    " is longer than maximum of 65535");
        return std::move(cv.data);
    };

    std::vector<mutation> out;
    auto base = [&]() {
        mutation mu;
        mu.table = &t;
        mu.ts = ts;
        mu.ttl = ttl;
        return mu;
    };

    if (auto* ins = std::get_if<ast::insert_statement>(&m)) {
        if (t.counter)
            invalid("INSERT statements are not allowed on counter tables, use UPDATE instead");
        if (ins->columns.size() != ins->values.size()) invalid("Unmatched column names/values");
        std::set<std::string> seen;
        std::vector<byte_buffer> pk(t.pk.size());
        std::vector<bool> have_pk(t.pk.size()), have_ck(t.ck.size());
        std::vector<value> ck(t.ck.size());
        mutation mu = base();
        mu.insert = true;
        for (std::size_t i = 0; i < ins->columns.size(); ++i) {
            const auto& name = ins->columns[i];
            if (!seen.insert(name).second) invalid("Multiple definitions found for column " + name);
            const auto* c = t.find(name);
            if (!c)
                invalid("Undefined column name " + name + " in table " + t.keyspace + "." + t.name);
            if (c->kind == column_kind::partition_key) {
                pk[static_cast<std::size_t>(c->position)] = key_value(*c, ins->values[i]);
                have_pk[static_cast<std::size_t>(c->position)] = true;
            } else if (c->kind == column_kind::clustering) {
                auto bytes = key_value(*c, ins->values[i]);
                auto v = decode(c->type, bytes);
                if (!v) invalid("Invalid value for column " + c->name);
                ck[static_cast<std::size_t>(c->position)] = std::move(*v);
                have_ck[static_cast<std::size_t>(c->position)] = true;
            } else {
                column_op op;
                op.col = c;
                op.val = eval_cell(ins->values[i], c->type, c->name, tctx);
                if (op.val.st == cell_value::state::unset) continue;
                mu.ops.push_back(std::move(op));
            }
        }
        std::vector<std::size_t> missing;
        for (std::size_t i = 0; i < t.pk.size(); ++i)
            if (!have_pk[i]) missing.push_back(t.pk[i]);
        if (!missing.empty())
            invalid("Some partition key parts are missing: " + join_names(t, missing));
        for (std::size_t i = 0; i < t.ck.size(); ++i)
            if (!have_ck[i]) missing.push_back(t.ck[i]);
        if (!missing.empty())
            invalid("Some clustering keys are missing: " + join_names(t, missing));
        mu.pk = std::move(pk);
        mu.ck = std::move(ck);
        out.push_back(std::move(mu));
        return out;
    }

    // UPDATE and DELETE: keys from the WHERE clause.
    const auto& where = std::holds_alternative<ast::update_statement>(m)
                            ? std::get<ast::update_statement>(m).where
                            : std::get<ast::delete_statement>(m).where;
    bool is_update = std::holds_alternative<ast::update_statement>(m);
    key_set keys;
    {
        std::vector<const ast::relation*> pk_rel(t.pk.size(), nullptr);
        std::vector<const ast::relation*> ck_rel;
        std::vector<std::size_t> non_pk;
        for (const auto& rel : where) {
            if (rel.token)
                invalid("The token function cannot be used in WHERE clauses for " +
                        std::string(is_update ? "UPDATE" : "DELETE") + " statements");
            for (const auto& n : rel.columns) {
                const auto* c = t.find(n);
                if (!c)
                    invalid("Undefined column name " + n + " in table " + t.keyspace + "." +
                            t.name);
                if (c->kind == column_kind::partition_key) {
                    if (rel.oper != ast::op::eq && rel.oper != ast::op::in)
                        invalid(
                            "Only EQ and IN relation are supported on the partition key (unless "
                            "you use the token() function)");
                    pk_rel[static_cast<std::size_t>(c->position)] = &rel;
                } else if (c->kind == column_kind::clustering) {
                    if (std::find(ck_rel.begin(), ck_rel.end(), &rel) == ck_rel.end())
                        ck_rel.push_back(&rel);
                } else {
                    non_pk.push_back(static_cast<std::size_t>(c - t.columns.data()));
                }
            }
        }
        if (!non_pk.empty())
            invalid("Non PRIMARY KEY columns found in where clause: " + join_names(t, non_pk));
        std::vector<std::size_t> missing;
        for (std::size_t i = 0; i < t.pk.size(); ++i)
            if (!pk_rel[i]) missing.push_back(t.pk[i]);
        if (!missing.empty())
            invalid("Some partition key parts are missing: " + join_names(t, missing));
        std::vector<ast::relation> pk_where;
        for (auto* r : pk_rel)
            pk_where.push_back(*r);
        auto pk_restr = resolve_where(t, pk_where, tctx);
        keys.pks.emplace_back();
        for (std::size_t i = 0; i < t.pk.size(); ++i) {
            std::vector<std::vector<byte_buffer>> next;
            for (const auto& prefix : keys.pks)
                for (const auto& tuple : pk_restr[i].values) {
                    auto k = prefix;
                    k.push_back(encode(t.columns[t.pk[i]].type, tuple[0]));
                    next.push_back(std::move(k));
                }
            keys.pks = std::move(next);
        }
        std::vector<ast::relation> ck_where;
        for (auto* r : ck_rel)
            ck_where.push_back(*r);
        keys.ck_restrictions = resolve_where(t, ck_where, tctx);
        keys.ck_none = keys.ck_restrictions.empty();
        // full clustering key by EQ/IN on every column?
        std::vector<const restriction*> by_pos(t.ck.size(), nullptr);
        bool all_eq = true;
        for (const auto& rs : keys.ck_restrictions) {
            if (rs.oper != ast::op::eq && rs.oper != ast::op::in) all_eq = false;
            for (auto ci : rs.cols)
                by_pos[static_cast<std::size_t>(t.columns[ci].position)] = &rs;
        }
        keys.ck_full =
            all_eq && !t.ck.empty() &&
            std::all_of(by_pos.begin(), by_pos.end(), [](auto* p) { return p != nullptr; });
        if (keys.ck_full) {
            keys.cks.emplace_back();
            std::set<const restriction*> done;
            for (std::size_t i = 0; i < t.ck.size(); ++i) {
                const auto* rs = by_pos[i];
                if (done.count(rs)) continue;
                done.insert(rs);
                std::vector<std::vector<value>> next;
                for (const auto& prefix : keys.cks)
                    for (const auto& tuple : rs->values) {
                        auto k = prefix;
                        for (const auto& v : tuple)
                            k.push_back(v);
                        next.push_back(std::move(k));
                    }
                keys.cks = std::move(next);
            }
        }
        if (t.ck.empty()) {
            keys.ck_full = true;
            keys.cks.emplace_back();
        }
    }

    if (auto* up = std::get_if<ast::update_statement>(&m)) {
        bool only_static = std::all_of(up->assignments.begin(), up->assignments.end(),
                                       [&](const ast::assignment& a) {
                                           const auto* c = t.find(a.column);
                                           return c && c->kind == column_kind::static_;
                                       });
        if (!keys.ck_full && !(only_static && keys.ck_none)) {
            if (!keys.ck_none &&
                std::any_of(keys.ck_restrictions.begin(), keys.ck_restrictions.end(),
                            [](auto& r) { return r.oper != ast::op::eq && r.oper != ast::op::in; }))
                invalid(
                    "Slice restrictions are not supported on the clustering columns in UPDATE "
                    "statements");
            std::vector<std::size_t> missing;
            std::set<std::size_t> have;
            for (const auto& rs : keys.ck_restrictions)
                for (auto ci : rs.cols)
                    have.insert(ci);
            for (auto ci : t.ck)
                if (!have.count(ci)) missing.push_back(ci);
            invalid("Some clustering keys are missing: " + join_names(t, missing));
        }
        std::vector<column_op> ops;
        for (const auto& a : up->assignments) {
            const auto* c = t.find(a.column);
            if (!c)
                invalid("Undefined column name " + a.column + " in table " + t.keyspace + "." +
                        t.name);
            if (c->kind == column_kind::partition_key || c->kind == column_kind::clustering)
                invalid("PRIMARY KEY part " + c->name + " found in SET part");
            column_op op;
            op.col = c;
            bool counter = c->type.id == type_id::counter;
            const auto& ty = c->type;
            switch (a.k) {
                case ast::assignment::kind::set:
                    if (counter)
                        invalid("Cannot set the value of counter column " + c->name +
                                " (counters can only be incremented/decremented, not set)");
                    op.k = column_op::kind::set;
                    op.val = eval_cell(a.value, ty, c->name, tctx);
                    if (op.val.st == cell_value::state::unset) continue;
                    break;
                case ast::assignment::kind::add:
                case ast::assignment::kind::subtract: {
                    bool add = a.k == ast::assignment::kind::add;
                    op.k = add ? column_op::kind::add : column_op::kind::subtract;
                    proto::data_type operand_type = ty;
                    if (counter) {
                        operand_type = proto::data_type(type_id::bigint);
                    } else if (!proto::is_collection(ty) || ty.frozen) {
                        invalid("Invalid operation (" + c->name + " = " + c->name +
                                (add ? " + " : " - ") + "?) for non counter column " + c->name);
                    } else if (ty.id == type_id::map && !add) {
                        operand_type = proto::set_of(ty.params[0]);
                    }
                    bool unset = false;
                    op.operand = eval_value(a.value, operand_type, c->name, tctx, &unset);
                    if (unset) continue;
                    if (!op.operand) {
                        if (counter) invalid("Invalid null value for counter increment");
                        continue;
                    }
                    break;
                }
                case ast::assignment::kind::prepend:
                    if (ty.id != type_id::list || ty.frozen)
                        invalid("Invalid operation (" + c->name + " = ? + " + c->name +
                                ") for non list column " + c->name);
                    op.k = column_op::kind::prepend;
                    op.operand = eval_value(a.value, ty, c->name, tctx);
                    if (!op.operand) continue;
                    break;
                case ast::assignment::kind::set_element: {
                    if (ty.frozen || (ty.id != type_id::map && ty.id != type_id::list))
                        invalid("Invalid operation (" + c->name +
                                "[?] = ?) for non list/map column " + c->name);
                    op.k = column_op::kind::set_element;
                    auto key_type =
                        ty.id == type_id::map ? ty.params[0] : proto::data_type(type_id::int_);
                    auto val_type = ty.id == type_id::map ? ty.params[1] : ty.params[0];
                    op.element = eval_value(*a.element, key_type, c->name, tctx);
                    if (!op.element)
                        invalid("Invalid null value for " +
                                std::string(ty.id == type_id::map ? "map key" : "list index"));
                    op.element_value = eval_value(a.value, val_type, c->name, tctx);
                    break;
                }
                case ast::assignment::kind::set_field:
                    invalid("UDT field updates are not supported by cqlsim");
            }
            ops.push_back(std::move(op));
        }
        if (t.counter) {
            for (const auto& op : ops)
                if (op.k != column_op::kind::add && op.k != column_op::kind::subtract)
                    invalid("Cannot set the value of counter column " + op.col->name);
        }
        for (const auto& pk : keys.pks) {
            if (keys.ck_full) {
                for (const auto& ck : keys.cks) {
                    mutation mu = base();
                    mu.pk = pk;
                    mu.ck = ck;
                    mu.ops = ops;
                    out.push_back(std::move(mu));
                }
            } else {
                mutation mu = base();
                mu.pk = pk;
                mu.ops = ops;
                out.push_back(std::move(mu));
            }
        }
        return out;
    }

    const auto& del = std::get<ast::delete_statement>(m);
    std::vector<column_op> ops;
    bool only_static = !del.columns.empty();
    for (const auto& tg : del.columns) {
        const auto* c = t.find(tg.column);
        if (!c)
            invalid("Undefined column name " + tg.column + " in table " + t.keyspace + "." +
                    t.name);
        if (c->kind == column_kind::partition_key || c->kind == column_kind::clustering)
            invalid("Invalid identifier " + c->name +
                    " for deletion (should not be a PRIMARY KEY part)");
        if (c->kind != column_kind::static_) only_static = false;
        column_op op;
        op.col = c;
        if (tg.element) {
            if (c->type.frozen || (c->type.id != type_id::map && c->type.id != type_id::list &&
                                   c->type.id != type_id::set))
                invalid("Invalid deletion operation for non collection column " + c->name);
            op.k = column_op::kind::del_element;
            auto key_type =
                c->type.id == type_id::list ? proto::data_type(type_id::int_) : c->type.params[0];
            op.element = eval_value(*tg.element, key_type, c->name, tctx);
            if (!op.element) invalid("Invalid null value for " + c->name + " element");
        } else if (!tg.field.empty()) {
            invalid("UDT field deletions are not supported by cqlsim");
        } else {
            op.k = column_op::kind::delete_column;
        }
        ops.push_back(std::move(op));
    }
    for (const auto& pk : keys.pks) {
        if (ops.empty()) {
            if (keys.ck_full && !t.ck.empty()) {
                for (const auto& ck : keys.cks) {
                    mutation mu = base();
                    mu.pk = pk;
                    mu.ck = ck;
                    mu.delete_row = true;
                    out.push_back(std::move(mu));
                }
            } else if (t.ck.empty() || keys.ck_none) {
                mutation mu = base();
                mu.pk = pk;
                mu.delete_partition = true;
                out.push_back(std::move(mu));
            } else {
                mutation mu = base();
                mu.pk = pk;
                auto restr = keys.ck_restrictions;
                mu.range = [&t, restr](const std::vector<value>& ck) {
                    for (const auto& rs : restr) {
                        std::vector<value> actual;
                        for (auto ci : rs.cols)
                            actual.push_back(ck[static_cast<std::size_t>(t.columns[ci].position)]);
                        auto cmp = [&](const std::vector<value>& want) {
                            for (std::size_t i = 0; i < actual.size() && i < want.size(); ++i) {
                                int c = proto::compare_values(t.columns[rs.cols[i]].type, actual[i],
                                                              want[i]);
                                if (c != 0) return c;
                            }
                            return 0;
                        };
                        bool ok = false;
                        switch (rs.oper) {
                            case ast::op::eq:
                            case ast::op::in:
                                for (const auto& w : rs.values)
                                    if (cmp(w) == 0) ok = true;
                                break;
                            case ast::op::lt:
                                ok = cmp(rs.values[0]) < 0;
                                break;
                            case ast::op::lte:
                                ok = cmp(rs.values[0]) <= 0;
                                break;
                            case ast::op::gt:
                                ok = cmp(rs.values[0]) > 0;
                                break;
                            case ast::op::gte:
                                ok = cmp(rs.values[0]) >= 0;
                                break;
                            default:
                                ok = false;
                        }
                        if (!ok) return false;
                    }
                    return true;
                };
                out.push_back(std::move(mu));
            }
        } else {
            if (!keys.ck_full && !(only_static && keys.ck_none)) {
                if (!keys.ck_none)
                    invalid("Range deletions are not supported for specific columns");
                std::vector<std::size_t> missing(t.ck.begin(), t.ck.end());
                invalid("Some clustering keys are missing: " + join_names(t, missing));
            }
            for (const auto& ck : keys.cks) {
                mutation mu = base();
                mu.pk = pk;
                if (!only_static || keys.ck_full) mu.ck = ck;
                mu.ops = ops;
                out.push_back(std::move(mu));
            }
        }
    }
    return out;
}

// ---------------------------------------------------------------------------------------
// applying

void engine::impl::apply(mutation& mu) {
    auto& t = *mu.table;
    auto key = make_partition_key(mu.pk);
    auto [pit, inserted] = t.data.try_emplace(key);
    auto& p = pit->second;
    if (inserted) {
        p.pk = mu.pk;
        p.token = key.first;
        p.rows = decltype(p.rows)(clustering_less{t.cmp});
    }
    auto now_s = now_seconds();
    auto ts = mu.ts;
    std::int64_t expiry = mu.ttl > 0 ? now_s + mu.ttl : 0;

    if (mu.delete_partition) {
        p.deleted_at = std::max(p.deleted_at, ts);
        for (auto it = p.statics.begin(); it != p.statics.end();)
            it = it->second.ts <= ts ? p.statics.erase(it) : std::next(it);
        for (auto it = p.rows.begin(); it != p.rows.end();) {
            delete_row_at(it->second, ts);
            it = (!it->second.has_marker && it->second.cells.empty()) ? p.rows.erase(it)
                                                                      : std::next(it);
        }
        return;
    }
    if (mu.range) {
        for (auto it = p.rows.begin(); it != p.rows.end();) {
            if (mu.range(it->first)) {
                delete_row_at(it->second, ts);
                if (!it->second.has_marker && it->second.cells.empty()) {
                    it = p.rows.erase(it);
                    continue;
                }
            }
            ++it;
        }
        return;
    }
    row* r = nullptr;
    auto get_row = [&]() -> row& {
        if (r) return *r;
        auto [rit, rnew] = p.rows.try_emplace(*mu.ck);
        r = &rit->second;
        if (rnew)
            for (std::size_t i = 0; i < t.ck.size(); ++i)
                r->ck_bytes.push_back(encode(t.columns[t.ck[i]].type, (*mu.ck)[i]));
        return *r;
    };
    if (mu.delete_row) {
        auto it = p.rows.find(*mu.ck);
        if (it != p.rows.end()) {
            delete_row_at(it->second, ts);
            if (!it->second.has_marker && it->second.cells.empty()) p.rows.erase(it);
        }
        return;
    }
    if (mu.insert && mu.ck) {
        auto& rr = get_row();
        if (ts > rr.deleted_at && ts > p.deleted_at && ts >= rr.marker_ts) {
            rr.has_marker = true;
            rr.marker_ts = ts;
            rr.marker_expiry_s = expiry;
            rr.marker_ttl = mu.ttl;
        }
    }
    for (auto& op : mu.ops) {
        const auto& c = *op.col;
        bool is_static = c.kind == column_kind::static_;
        if (!is_static && !mu.ck) continue;
        auto& cells = is_static ? p.statics : get_row().cells;
        std::int64_t shadow =
            std::max(p.deleted_at, is_static ? no_timestamp : get_row().deleted_at);
        bool counter = c.type.id == type_id::counter;
        if (!counter && ts <= shadow) continue;
        auto current = [&]() -> std::optional<value> {
            auto it = cells.find(c.id);
            if (it == cells.end() || !it->second.live(now_s)) return std::nullopt;
            return decode(c.type, it->second.data);
        };
        auto store = [&](std::optional<value> v) {
            cell ce;
            ce.ts = ts;
            bool empty = !v;
            if (v) {
                if (auto* l = std::get_if<proto::value_list>(&v->v);
                    l && l->empty() && proto::is_collection(c.type))
                    empty = true;
                if (auto* mp = std::get_if<proto::value_map>(&v->v); mp && mp->empty())
                    empty = true;
            }
            if (empty) {
                ce.tombstone = true;
            } else {
                ce.data = encode(c.type, *v);
                ce.ttl = mu.ttl;
                ce.expiry_s = expiry;
            }
            if (counter) {
                cells[c.id] = std::move(ce);
                return;
            }
            write_cell(cells, c.id, std::move(ce));
        };
        switch (op.k) {
            case column_op::kind::set: {
                cell ce;
                ce.ts = ts;
                if (op.val.st == cell_value::state::null) {
                    ce.tombstone = true;
                } else {
                    ce.data = std::move(op.val.data);
                    ce.ttl = mu.ttl;
                    ce.expiry_s = expiry;
                }
                write_cell(cells, c.id, std::move(ce));
                break;
            }
            case column_op::kind::delete_column: {
                cell ce;
                ce.ts = ts;
                ce.tombstone = true;
                write_cell(cells, c.id, std::move(ce));
                break;
            }
            case column_op::kind::add:
            case column_op::kind::subtract: {
                bool add = op.k == column_op::kind::add;
                if (counter) {
                    auto cur = current();
                    std::int64_t base = cur ? std::get<std::int64_t>(cur->v) : 0;
                    std::int64_t delta = std::get<std::int64_t>(op.operand->v);
                    std::int64_t next = static_cast<std::int64_t>(
                        add ? static_cast<std::uint64_t>(base) + static_cast<std::uint64_t>(delta)
                            : static_cast<std::uint64_t>(base) - static_cast<std::uint64_t>(delta));
                    store(value{next});
                    break;
                }
                auto cur = current();
                const auto& et = c.type.params[0];
                if (c.type.id == type_id::list) {
                    proto::value_list l =
                        cur ? std::get<proto::value_list>(cur->v) : proto::value_list{};
                    const auto& operand = std::get<proto::value_list>(op.operand->v);
                    if (add) {
                        l.insert(l.end(), operand.begin(), operand.end());
                    } else {
                        l.erase(std::remove_if(
                                    l.begin(), l.end(),
                                    [&](const value& e) {
                                        return std::any_of(
                                            operand.begin(), operand.end(), [&](const value& x) {
                                                return proto::compare_values(et, e, x) == 0;
                                            });
                                    }),
                                l.end());
                    }
                    store(value{std::move(l)});
                } else if (c.type.id == type_id::set) {
                    proto::value_list l =
                        cur ? std::get<proto::value_list>(cur->v) : proto::value_list{};
                    const auto& operand = std::get<proto::value_list>(op.operand->v);
                    auto has = [&](const proto::value_list& in, const value& x) {
                        return std::any_of(in.begin(), in.end(), [&](const value& e) {
                            return proto::compare_values(et, e, x) == 0;
                        });
                    };
                    if (add) {
                        for (const auto& x : operand)
                            if (!has(l, x)) l.push_back(x);
                        std::sort(l.begin(), l.end(), [&](const value& a, const value& b) {
                            return proto::compare_values(et, a, b) < 0;
                        });
                    } else {
                        l.erase(std::remove_if(l.begin(), l.end(),
                                               [&](const value& e) { return has(operand, e); }),
                                l.end());
                    }
                    store(value{std::move(l)});
                } else if (c.type.id == type_id::map) {
                    proto::value_map mp =
                        cur ? std::get<proto::value_map>(cur->v) : proto::value_map{};
                    if (add) {
                        for (const auto& [k, v] : std::get<proto::value_map>(op.operand->v)) {
                            auto it = std::find_if(mp.begin(), mp.end(), [&, &key = k](auto& e) {
                                return proto::compare_values(et, e.first, key) == 0;
                            });
                            if (it != mp.end())
                                it->second = v;
                            else
                                mp.emplace_back(k, v);
                        }
                        std::sort(mp.begin(), mp.end(), [&](auto& a, auto& b) {
                            return proto::compare_values(et, a.first, b.first) < 0;
                        });
                    } else {
                        const auto& keys = std::get<proto::value_list>(op.operand->v);
                        mp.erase(std::remove_if(
                                     mp.begin(), mp.end(),
                                     [&](auto& e) {
                                         return std::any_of(
                                             keys.begin(), keys.end(), [&](const value& k) {
                                                 return proto::compare_values(et, e.first, k) == 0;
                                             });
                                     }),
                                 mp.end());
                    }
                    store(value{std::move(mp)});
                }
                break;
            }
            case column_op::kind::prepend: {
                auto cur = current();
                proto::value_list l = std::get<proto::value_list>(op.operand->v);
                if (cur) {
                    const auto& old = std::get<proto::value_list>(cur->v);
                    l.insert(l.end(), old.begin(), old.end());
                }
                store(value{std::move(l)});
                break;
            }
            case column_op::kind::set_element:
            case column_op::kind::del_element: {
                auto cur = current();
                if (c.type.id == type_id::list) {
                    proto::value_list l =
                        cur ? std::get<proto::value_list>(cur->v) : proto::value_list{};
                    auto idx = std::get<std::int64_t>(op.element->v);
                    if (idx < 0 || static_cast<std::size_t>(idx) >= l.size()) {
                        if (op.k == column_op::kind::del_element) break;
                        invalid("List index " + std::to_string(idx) +
                                " out of bound, list has size " + std::to_string(l.size()));
                    }
                    if (op.k == column_op::kind::del_element || !op.element_value)
                        l.erase(l.begin() + idx);
                    else
                        l[static_cast<std::size_t>(idx)] = *op.element_value;
                    store(value{std::move(l)});
                } else if (c.type.id == type_id::set) {
                    proto::value_list l =
                        cur ? std::get<proto::value_list>(cur->v) : proto::value_list{};
                    const auto& et = c.type.params[0];
                    l.erase(std::remove_if(l.begin(), l.end(),
                                           [&](const value& e) {
                                               return proto::compare_values(et, e, *op.element) ==
                                                      0;
                                           }),
                            l.end());
                    store(value{std::move(l)});
                } else {
                    proto::value_map mp =
                        cur ? std::get<proto::value_map>(cur->v) : proto::value_map{};
                    const auto& kt = c.type.params[0];
                    auto it = std::find_if(mp.begin(), mp.end(), [&](auto& e) {
                        return proto::compare_values(kt, e.first, *op.element) == 0;
                    });
                    if (op.k == column_op::kind::del_element || !op.element_value) {
                        if (it != mp.end()) mp.erase(it);
                    } else if (it != mp.end()) {
                        it->second = *op.element_value;
                    } else {
                        mp.emplace_back(*op.element, *op.element_value);
                        std::sort(mp.begin(), mp.end(), [&](auto& a, auto& b) {
                            return proto::compare_values(kt, a.first, b.first) < 0;
                        });
                    }
                    store(value{std::move(mp)});
                }
                break;
            }
        }
    }
    // Drop rows that hold nothing.
    if (r && !r->has_marker && r->cells.empty()) p.rows.erase(*mu.ck);
}

// ---------------------------------------------------------------------------------------
// conditions

bool engine::impl::check_conditions(const ast::modification& m, const mutation& target,
                                    const term_context& tctx, rows_result& out) {
    auto& t = *target.table;
    auto now_s = now_seconds();
    partition* p = find_partition(t, target.pk);
    row* r = nullptr;
    if (p && target.ck) {
        auto it = p->rows.find(*target.ck);
        if (it != p->rows.end() && row_live(t, *p, it->second)) r = &it->second;
    }
    bool has_statics = p && live_statics(*p, now_s);
    bool partition_has_rows = p && std::any_of(p->rows.begin(), p->rows.end(),
                                               [&](auto& e) { return row_live(t, *p, e.second); });

    out.columns = {spec_of(t, "[applied]", proto::data_type(type_id::boolean))};
    auto cell_of = [&](const column_def& c) { return cell_bytes(c, target.pk, p, r, now_s); };

    if (auto* ins = std::get_if<ast::insert_statement>(&m)) {
        (void)ins;
        bool exists = r != nullptr;
        if (!exists) {
            out.rows.push_back({bool_cell(true)});
            return true;
        }
        std::vector<std::optional<byte_buffer>> row_out{bool_cell(false)};
        for (const auto& c : t.columns) {
            out.columns.push_back(spec_of(t, c.name, c.type));
            row_out.push_back(cell_of(c));
        }
        out.rows.push_back(std::move(row_out));
        return false;
    }
    bool if_exists = false;
    const std::vector<ast::condition>* conds = nullptr;
    if (auto* up = std::get_if<ast::update_statement>(&m)) {
        if_exists = up->if_exists;
        conds = &up->conditions;
    } else {
        auto& d = std::get<ast::delete_statement>(m);
        if_exists = d.if_exists;
        conds = &d.conditions;
    }
    if (if_exists) {
        bool exists = target.ck ? r != nullptr : (partition_has_rows || has_statics);
        if (exists) {
            out.rows.push_back({bool_cell(true)});
            return true;
        }
        out.rows.push_back({bool_cell(false)});
        return false;
    }
    bool ok = true;
    std::vector<const column_def*> cond_cols;
    for (const auto& cond : *conds) {
        const auto* c = t.find(cond.column);
        if (!c)
            invalid("Undefined column name " + cond.column + " in table " + t.keyspace + "." +
                    t.name);
        if (c->kind == column_kind::partition_key || c->kind == column_kind::clustering)
            invalid("PRIMARY KEY column '" + c->name + "' cannot have IF conditions");
        if (std::find(cond_cols.begin(), cond_cols.end(), c) == cond_cols.end())
            cond_cols.push_back(c);
        auto bytes = cell_of(*c);
        std::optional<value> cur;
        if (bytes) cur = decode(c->type, *bytes);
        proto::data_type ty = c->type;
        if (cond.element) {
            if (c->type.id == type_id::map) {
                auto k = eval_value(*cond.element, c->type.params[0], c->name, tctx);
                std::optional<value> found;
                if (cur && k)
                    for (auto& [kk, vv] : std::get<proto::value_map>(cur->v))
                        if (proto::compare_values(c->type.params[0], kk, *k) == 0) found = vv;
                cur = found;
                ty = c->type.params[1];
            } else if (c->type.id == type_id::list) {
                auto k = eval_value(*cond.element, proto::data_type(type_id::int_), c->name, tctx);
                std::optional<value> found;
                if (cur && k) {
                    auto& l = std::get<proto::value_list>(cur->v);
                    auto i = std::get<std::int64_t>(k->v);
                    if (i >= 0 && static_cast<std::size_t>(i) < l.size())
                        found = l[static_cast<std::size_t>(i)];
                }
                cur = found;
                ty = c->type.params[0];
            } else {
                invalid("Invalid element access syntax for non-collection column " + c->name);
            }
        }
        auto test = [&](const ast::term& term, ast::op oper) {
            auto want = eval_value(term, ty, c->name, tctx);
            if (!want || !cur) {
                if (oper == ast::op::eq) return !want && !cur;
                if (oper == ast::op::neq) return static_cast<bool>(want) != static_cast<bool>(cur);
                if (!want)
                    invalid("Invalid comparison with null for operator \"" +
                            std::string(oper == ast::op::lt    ? "<"
                                        : oper == ast::op::lte ? "<="
                                        : oper == ast::op::gt  ? ">"
                                                               : ">=") +
                            "\"");
                return false;
            }
            int cmp = proto::compare_values(ty, *cur, *want);
            switch (oper) {
                case ast::op::eq:
                    return cmp == 0;
                case ast::op::neq:
                    return cmp != 0;
                case ast::op::lt:
                    return cmp < 0;
                case ast::op::lte:
                    return cmp <= 0;
                case ast::op::gt:
                    return cmp > 0;
                case ast::op::gte:
                    return cmp >= 0;
                default:
                    invalid("Unsupported operator in IF condition");
            }
        };
        bool holds = false;
        if (cond.oper == ast::op::in) {
            if (cond.in_marker) {
                auto lst = eval_value(cond.rhs, proto::list_of(ty), c->name, tctx);
                if (lst)
                    for (auto& e : std::get<proto::value_list>(lst->v))
                        if (cur && proto::compare_values(ty, *cur, e) == 0) holds = true;
            } else {
                for (const auto& term : cond.in_values)
                    if (test(term, ast::op::eq)) holds = true;
            }
        } else {
            holds = test(cond.rhs, cond.oper);
        }
        if (!holds) ok = false;
    }
    if (ok) {
        out.rows.push_back({bool_cell(true)});
        return true;
    }
    std::sort(cond_cols.begin(), cond_cols.end());
    std::vector<std::optional<byte_buffer>> row_out{bool_cell(false)};
    for (const auto* c : cond_cols) {
        out.columns.push_back(spec_of(t, c->name, c->type));
        row_out.push_back(cell_of(*c));
    }
    out.rows.push_back(std::move(row_out));
    return false;
}

// ---------------------------------------------------------------------------------------
// statements

result engine::impl::modify(const ast::modification& m, exec_context& ctx, const query_options& o,
                            const std::vector<value_view>& bound) {
    auto muts = build_mutations(m, ctx, o, bound, std::nullopt);
    if (is_conditional(m)) {
        if (muts.size() != 1)
            invalid("IN on the partition key is not supported with conditional updates");
        auto& t = *muts[0].table;
        if (t.counter) invalid("Conditional updates are not supported on counter tables");
        auto tctx = term_ctx(bound);
        rows_result rr;
        if (check_conditions(m, muts[0], tctx, rr)) apply(muts[0]);
        rr.metadata_id = metadata_id(rr.columns);
        return rr;
    }
    for (auto& mu : muts)
        apply(mu);
    return void_result{};
}

result engine::impl::run_batch_items(const std::vector<batch_item>& items, ast::batch_type type,
                                     const std::optional<ast::term>& using_ts,
                                     const std::vector<value_view>& batch_bound, exec_context& ctx,
                                     const query_options& o) {
    std::int64_t ts = 0;
    if (using_ts) {
        auto tctx = term_ctx(batch_bound);
        auto v = eval_value(*using_ts, proto::data_type(type_id::bigint), "[timestamp]", tctx);
        if (!v) invalid("Invalid null value of timestamp");
        ts = std::get<std::int64_t>(v->v);
        ctx.batch_timestamp = ts;
    } else if (o.timestamp && *o.timestamp != std::numeric_limits<std::int64_t>::min()) {
        ts = *o.timestamp;
    } else {
        ts = next_timestamp();
    }
    ctx.in_batch = true;
    bool conditional = false;
    std::vector<std::vector<mutation>> all;
    for (const auto& it : items) {
        auto& t = get_table(table_of(*it.stmt), ctx);
        bool counter = t.counter;
        if (type == ast::batch_type::counter && !counter)
            invalid("Cannot include non-counter statement in a counter batch");
        if (type == ast::batch_type::logged && counter)
            invalid("Cannot include a counter statement in a logged batch");
        if (type == ast::batch_type::unlogged && counter)
            invalid("Counter and non-counter mutations cannot exist in the same batch");
        if (is_conditional(*it.stmt)) conditional = true;
        auto muts = build_mutations(*it.stmt, ctx, o, it.bound, ts);
        // A statement's own USING TIMESTAMP is kept (build_mutations evaluated it).
        all.push_back(std::move(muts));
    }
    if (conditional) {
        const mutation* first = nullptr;
        for (const auto& muts : all)
            for (const auto& mu : muts) {
                if (!first) {
                    first = &mu;
                    continue;
                }
                if (mu.table != first->table || mu.pk != first->pk)
                    invalid("Batch with conditions cannot span multiple partitions");
            }
        rows_result rr;
        bool applied = true;
        for (std::size_t i = 0; i < items.size(); ++i) {
            if (!is_conditional(*items[i].stmt)) continue;
            auto tctx = term_ctx(items[i].bound);
            rows_result one;
            if (!check_conditions(*items[i].stmt, all[i].at(0), tctx, one)) {
                applied = false;
            } else if (applied && rr.columns.empty()) {
                rr = std::move(one);
            }
        }
        if (applied)
            for (auto& muts : all)
                for (auto& mu : muts)
                    apply(mu);
        else
            rr = batch_conditions_failed(items, all);
        rr.metadata_id = metadata_id(rr.columns);
        return rr;
    }
    if (type != ast::batch_type::logged && ctx.session)
        if (auto w = spread_batch_warning(all)) ctx.session->warnings.push_back(std::move(*w));
    for (auto& muts : all)
        for (auto& mu : muts)
            apply(mu);
    return void_result{};
}

// What Cassandra answers a batch whose conditions failed: the rows its conditions read, in
// clustering order, each with [applied] false; all columns when a statement says IF (NOT)
// EXISTS, else the primary key columns and those of the conditions, in the order of the IFs.
rows_result engine::impl::batch_conditions_failed(const std::vector<batch_item>& items,
                                                  const std::vector<std::vector<mutation>>& all) {
    const mutation* first = nullptr;
    bool every_column = false;
    std::vector<const column_def*> condition_columns;
    std::vector<const std::vector<value>*> targets;
    for (std::size_t i = 0; i < items.size(); ++i) {
        const auto& m = *items[i].stmt;
        if (!is_conditional(m)) continue;
        const auto& mu = all[i].at(0);
        if (!first) first = &mu;
        if (mu.ck) targets.push_back(&*mu.ck);
        const std::vector<ast::condition>* conds = nullptr;
        if (std::holds_alternative<ast::insert_statement>(m)) {
            every_column = true;
        } else if (auto* up = std::get_if<ast::update_statement>(&m)) {
            every_column = every_column || up->if_exists;
            conds = &up->conditions;
        } else {
            const auto& d = std::get<ast::delete_statement>(m);
            every_column = every_column || d.if_exists;
            conds = &d.conditions;
        }
        for (const auto& cond : conds ? *conds : std::vector<ast::condition>{}) {
            const auto* c = mu.table->find(cond.column);
            if (c && std::find(condition_columns.begin(), condition_columns.end(), c) ==
                         condition_columns.end())
                condition_columns.push_back(c);
        }
    }
    auto& t = *first->table;
    std::vector<const column_def*> cols;
    for (const auto& c : t.columns)
        if (every_column || c.kind == column_kind::partition_key ||
            c.kind == column_kind::clustering)
            cols.push_back(&c);
    if (!every_column) cols.insert(cols.end(), condition_columns.begin(), condition_columns.end());

    rows_result out;
    out.columns = {spec_of(t, "[applied]", proto::data_type(type_id::boolean))};
    for (const auto* c : cols)
        out.columns.push_back(spec_of(t, c->name, c->type));
    const auto now_s = now_seconds();
    const partition* p = find_partition(t, first->pk);
    if (p) {
        for (auto it = p->rows.begin(); it != p->rows.end(); ++it) {
            const bool read = std::any_of(targets.begin(), targets.end(),
                                          [&](const auto* ck) { return p->rows.find(*ck) == it; });
            if (!read || !row_live(t, *p, it->second)) continue;
            std::vector<std::optional<byte_buffer>> row_out{bool_cell(false)};
            for (const auto* c : cols)
                row_out.push_back(cell_bytes(*c, first->pk, p, &it->second, now_s));
            out.rows.push_back(std::move(row_out));
        }
    }
    if (out.rows.empty()) {
        out.columns.resize(1);
        out.rows.push_back({bool_cell(false)});
    }
    return out;
}

result engine::impl::run_batch(session_state& s, batch_kind kind,
                               const std::vector<batch_entry>& statements, const query_options& o) {
    std::vector<ast::parsed_statement> owned;
    owned.reserve(statements.size());
    std::vector<ast::modification> mods;
    mods.reserve(statements.size());
    std::vector<batch_item> items;
    exec_context ctx;
    ctx.keyspace = o.keyspace.empty() ? s.keyspace : o.keyspace;
    ctx.session = &s;
    for (const auto& e : statements) {
        const ast::parsed_statement* p = nullptr;
        if (auto* text = std::get_if<std::string>(&e.query_or_id)) {
            auto parsed = parse(*text);
            if (auto* err = std::get_if<syntax_error>(&parsed))
                fail(error_code::syntax_error, err->message);
            owned.push_back(std::get<ast::parsed_statement>(std::move(parsed)));
            p = &owned.back();
        } else {
            const auto& id = std::get<byte_buffer>(e.query_or_id);
            auto it = prepared.find(id);
            if (it == prepared.end()) {
                error err;
                err.code = error_code::unprepared;
                err.message = "Prepared query with ID not found in batch";
                err.unprepared_id = id;
                throw engine_failure{err};
            }
            p = &it->second.parsed;
        }
        if (auto* i = std::get_if<ast::insert_statement>(&p->stmt))
            mods.emplace_back(*i);
        else if (auto* u = std::get_if<ast::update_statement>(&p->stmt))
            mods.emplace_back(*u);
        else if (auto* d = std::get_if<ast::delete_statement>(&p->stmt))
            mods.emplace_back(*d);
        else
            invalid(
                "Invalid statement in batch: only UPDATE, INSERT and DELETE statements are "
                "allowed.");
        query_options eo;
        eo.values = e.values;
        eo.names = e.names;
        batch_item bi;
        bi.bound = bind_values(*p, eo);
        bi.stmt = &mods.back();
        items.push_back(std::move(bi));
    }
    return run_batch_items(items, static_cast<ast::batch_type>(kind), std::nullopt, {}, ctx, o);
}

result engine::impl::execute(const ast::parsed_statement& p, exec_context& ctx,
                             const query_options& o) {
    auto bound = bind_values(p, o);
    return std::visit(
        [&](const auto& s) -> result {
            using T = std::decay_t<decltype(s)>;
            if constexpr (std::is_same_v<T, ast::select_statement>) {
                return select(s, ctx, o, bound);
            } else if constexpr (std::is_same_v<T, ast::insert_statement> ||
                                 std::is_same_v<T, ast::update_statement> ||
                                 std::is_same_v<T, ast::delete_statement>) {
                return modify(ast::modification{s}, ctx, o, bound);
            } else if constexpr (std::is_same_v<T, ast::batch_statement>) {
                std::vector<batch_item> items;
                for (const auto& st : s.statements)
                    items.push_back(batch_item{&st, bound});
                return run_batch_items(items, s.type, s.using_.timestamp, bound, ctx, o);
            } else {
                return run_ddl(p.stmt, ctx);
            }
        },
        p.stmt);
}

}  // namespace cqlsim
