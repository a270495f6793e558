// PREPARE: bind variable metadata, partition key indexes, result metadata.
#include <algorithm>

#include "cqlsim/engine_impl.hpp"

namespace cqlsim {

using namespace storage;
using proto::type_id;

namespace {

struct binder {
    const table_def* t = nullptr;
    std::vector<column_spec>* specs = nullptr;

    void set(const ast::term& term, const std::string& name, const proto::data_type& type) {
        using K = ast::term::kind;
        if (term.k == K::bind) {
            auto i = static_cast<std::size_t>(term.bind_index);
            if (i < specs->size()) {
                (*specs)[i].name = term.bind_name.empty() ? name : term.bind_name;
                (*specs)[i].type = type;
                if (t) {
                    (*specs)[i].keyspace = t->keyspace;
                    (*specs)[i].table = t->name;
                }
            }
            return;
        }
        // Markers inside collection / tuple / UDT literals.
        if ((term.k == K::list || term.k == K::set) && !type.params.empty()) {
            for (const auto& it : term.items)
                set(it, "value(" + name + ")", type.params[0]);
        } else if (term.k == K::map && type.params.size() == 2) {
            for (std::size_t i = 0; i + 1 < term.items.size(); i += 2) {
                set(term.items[i], "key(" + name + ")", type.params[0]);
                set(term.items[i + 1], "value(" + name + ")", type.params[1]);
            }
        } else if (term.k == K::tuple) {
            for (std::size_t i = 0; i < term.items.size() && i < type.params.size(); ++i)
                set(term.items[i], name, type.params[i]);
        } else if (term.k == K::udt) {
            for (std::size_t i = 0; i < term.items.size(); ++i)
                for (std::size_t j = 0; j < type.field_names.size(); ++j)
                    if (type.field_names[j] == term.field_names[i])
                        set(term.items[i], name, type.params[j]);
        }
    }

    void using_(const ast::using_clause& u) {
        if (u.ttl) set(*u.ttl, "[ttl]", proto::data_type(type_id::int_));
        if (u.timestamp) set(*u.timestamp, "[timestamp]", proto::data_type(type_id::bigint));
    }

    void where(const std::vector<ast::relation>& rels, std::vector<std::uint16_t>* pk_idx,
               std::vector<int>* pk_marker) {
        for (const auto& r : rels) {
            if (r.token) {
                set(r.rhs, "partition key token", proto::data_type(type_id::bigint));
                continue;
            }
            std::vector<proto::data_type> types;
            std::vector<const column_def*> cols;
            for (const auto& n : r.columns) {
                const auto* c = t->find(n);
                if (!c)
                    invalid("Undefined column name " + n + " in table " + t->keyspace + "." +
                            t->name);
                cols.push_back(c);
                types.push_back(c->type);
            }
            const auto* c0 = cols[0];
            proto::data_type type = r.multi ? proto::tuple_of(types) : c0->type;
            std::string name = r.multi ? "(" +
                                             [&] {
                                                 std::string s;
                                                 for (const auto* c : cols)
                                                     s += (s.empty() ? "" : ",") + c->name;
                                                 return s;
                                             }() +
                                             ")"
                                       : c0->name;
            if (r.oper == ast::op::contains)
                type = c0->type.id == type_id::map ? c0->type.params.at(1) : c0->type.params.at(0);
            if (r.oper == ast::op::contains_key) type = c0->type.params.at(0);
            if (r.map_key) {
                set(*r.map_key, "key(" + name + ")", c0->type.params.at(0));
                type = c0->type.params.at(1);
                name = "value(" + name + ")";
            }
            if (r.oper == ast::op::in) {
                if (r.in_marker)
                    set(r.rhs, "in(" + name + ")", proto::list_of(type));
                else
                    for (const auto& v : r.in_values)
                        set(v, name, type);
            } else {
                set(r.rhs, name, type);
                if (pk_marker && !r.multi && c0->kind == column_kind::partition_key &&
                    r.oper == ast::op::eq && r.rhs.k == ast::term::kind::bind)
                    (*pk_marker)[static_cast<std::size_t>(c0->position)] = r.rhs.bind_index;
            }
        }
        (void)pk_idx;
    }

    void conditions(const std::vector<ast::condition>& conds) {
        for (const auto& cond : conds) {
            const auto* c = t->find(cond.column);
            if (!c)
                invalid("Undefined column name " + cond.column + " in table " + t->keyspace + "." +
                        t->name);
            auto type = c->type;
            std::string name = c->name;
            if (cond.element) {
                if (c->type.id == type_id::map) {
                    set(*cond.element, "key(" + name + ")", c->type.params.at(0));
                    type = c->type.params.at(1);
                } else {
                    set(*cond.element, "idx(" + name + ")", proto::data_type(type_id::int_));
                    type = c->type.params.at(0);
                }
                name = "value(" + name + ")";
            }
            if (cond.oper == ast::op::in) {
                if (cond.in_marker)
                    set(cond.rhs, "in(" + name + ")", proto::list_of(type));
                else
                    for (const auto& v : cond.in_values)
                        set(v, name, type);
            } else {
                set(cond.rhs, name, type);
            }
        }
    }

    void modification(const ast::modification& m, std::vector<int>* pk_marker) {
        if (auto* ins = std::get_if<ast::insert_statement>(&m)) {
            for (std::size_t i = 0; i < ins->columns.size() && i < ins->values.size(); ++i) {
                const auto* c = t->find(ins->columns[i]);
                if (!c)
                    invalid("Undefined column name " + ins->columns[i] + " in table " +
                            t->keyspace + "." + t->name);
                set(ins->values[i], c->name, c->type);
                if (pk_marker && c->kind == column_kind::partition_key &&
                    ins->values[i].k == ast::term::kind::bind)
                    (*pk_marker)[static_cast<std::size_t>(c->position)] = ins->values[i].bind_index;
            }
            using_(ins->using_);
        } else if (auto* up = std::get_if<ast::update_statement>(&m)) {
            using_(up->using_);
            for (const auto& a : up->assignments) {
                const auto* c = t->find(a.column);
                if (!c)
                    invalid("Undefined column name " + a.column + " in table " + t->keyspace + "." +
                            t->name);
                auto type = c->type;
                switch (a.k) {
                    case ast::assignment::kind::set:
                    case ast::assignment::kind::add:
                    case ast::assignment::kind::prepend:
                        if (c->type.id == type_id::counter)
                            type = proto::data_type(type_id::counter);
                        set(a.value, c->name, type);
                        break;
                    case ast::assignment::kind::subtract:
                        if (c->type.id == type_id::map) type = proto::set_of(c->type.params.at(0));
                        set(a.value, c->name, type);
                        break;
                    case ast::assignment::kind::set_element:
                        if (c->type.id == type_id::map) {
                            set(*a.element, "key(" + c->name + ")", c->type.params.at(0));
                            set(a.value, "value(" + c->name + ")", c->type.params.at(1));
                        } else if (c->type.id == type_id::list) {
                            set(*a.element, "idx(" + c->name + ")",
                                proto::data_type(type_id::int_));
                            set(a.value, "value(" + c->name + ")", c->type.params.at(0));
                        }
                        break;
                    case ast::assignment::kind::set_field:
                        break;
                }
            }
            where(up->where, nullptr, pk_marker);
            conditions(up->conditions);
        } else {
            auto& d = std::get<ast::delete_statement>(m);
            for (const auto& tg : d.columns) {
                const auto* c = t->find(tg.column);
                if (!c)
                    invalid("Undefined column name " + tg.column + " in table " + t->keyspace +
                            "." + t->name);
                if (tg.element)
                    set(*tg.element, "key(" + c->name + ")",
                        c->type.id == type_id::list ? proto::data_type(type_id::int_)
                                                    : c->type.params.at(0));
            }
            using_(d.using_);
            where(d.where, nullptr, pk_marker);
            conditions(d.conditions);
        }
    }
};

}  // namespace

std::vector<column_spec> engine::impl::bind_specs(const ast::parsed_statement& p,
                                                  const exec_context& ctx,
                                                  std::vector<std::uint16_t>& pk_indexes) {
    std::vector<column_spec> specs(p.markers.size());
    for (std::size_t i = 0; i < specs.size(); ++i) {
        specs[i].name = p.markers[i].name;
        specs[i].type = proto::data_type(type_id::blob);
    }
    binder b;
    b.specs = &specs;
    pk_indexes.clear();
    auto finish_pk = [&](const table_def& t, const std::vector<int>& markers) {
        if (std::all_of(markers.begin(), markers.end(), [](int m) { return m >= 0; }))
            for (int m : markers)
                pk_indexes.push_back(static_cast<std::uint16_t>(m));
        (void)t;
    };
    std::visit(
        [&](const auto& s) {
            using T = std::decay_t<decltype(s)>;
            if constexpr (std::is_same_v<T, ast::select_statement>) {
                auto& t = get_table(s.table, ctx);
                b.t = &t;
                std::vector<int> pkm(t.pk.size(), -1);
                b.where(s.where, nullptr, &pkm);
                if (s.ann)
                    if (const auto* c = t.find(s.ann->first))
                        b.set(s.ann->second, c->name, c->type);
                for (const auto& sel : s.selectors)
                    if (sel.k == ast::selector::kind::function && sel.value && !sel.args.empty())
                        if (const auto* c = t.find(sel.args[0]))
                            b.set(*sel.value, c->name, c->type);
                if (s.limit) b.set(*s.limit, "[limit]", proto::data_type(type_id::int_));
                if (s.per_partition_limit)
                    b.set(*s.per_partition_limit, "[per_partition_limit]",
                          proto::data_type(type_id::int_));
                finish_pk(t, pkm);
            } else if constexpr (std::is_same_v<T, ast::insert_statement> ||
                                 std::is_same_v<T, ast::update_statement> ||
                                 std::is_same_v<T, ast::delete_statement>) {
                auto& t = get_table(s.table, ctx);
                b.t = &t;
                std::vector<int> pkm(t.pk.size(), -1);
                b.modification(ast::modification{s}, &pkm);
                finish_pk(t, pkm);
            } else if constexpr (std::is_same_v<T, ast::batch_statement>) {
                for (const auto& st : s.statements) {
                    auto& t = get_table(
                        std::visit(
                            [](const auto& x) -> const ast::qualified_name& { return x.table; },
                            st),
                        ctx);
                    b.t = &t;
                    b.modification(st, nullptr);
                }
                if (s.using_.timestamp)
                    b.set(*s.using_.timestamp, "[timestamp]", proto::data_type(type_id::bigint));
            }
        },
        p.stmt);
    return specs;
}

namespace {

// Whether every table the statement names carries its keyspace (Cassandra then leaves the
// session keyspace out of the prepared id). Statements without a table (USE, DDL on a
// keyspace) count as qualified.
bool fully_qualified(const ast::statement& st) {
    return std::visit(
        [](const auto& s) {
            using T = std::decay_t<decltype(s)>;
            if constexpr (std::is_same_v<T, ast::batch_statement>) {
                return std::all_of(s.statements.begin(), s.statements.end(), [](const auto& m) {
                    return std::visit([](const auto& x) { return !x.table.keyspace.empty(); }, m);
                });
            } else if constexpr (requires { s.table.keyspace; }) {
                return !s.table.keyspace.empty();
            } else if constexpr (requires { s.type.keyspace; }) {
                return !s.type.keyspace.empty();
            } else {
                return true;
            }
        },
        st);
}

}  // namespace

result engine::impl::prepare(ast::parsed_statement p, exec_context& ctx) {
    prepared_result out;
    out.bind_variables = bind_specs(p, ctx, out.pk_indexes);
    if (auto* s = std::get_if<ast::select_statement>(&p.stmt))
        out.result_columns = select_columns(*s, ctx);
    out.result_metadata_id = metadata_id(out.result_columns);
    out.id = prepared_id(fully_qualified(p.stmt) ? "" : ctx.keyspace, ctx.query_text);
    prepared_entry e;
    e.keyspace = ctx.keyspace;
    e.text = ctx.query_text;
    e.parsed = std::move(p);
    prepared[out.id] = std::move(e);
    return out;
}

}  // namespace cqlsim
