// The query builder's rules and text: which relations a query may have on which columns
// (checked before anything is sent), and the CQL with positional markers.
#include <algorithm>
#include <string>
#include <utility>

#include "cql/mapping/errc.hpp"
#include "cql/mapping/query_spec.hpp"
#include "cql/mapping/schema.hpp"

namespace cql {

void request_options::apply(bound_statement& b) const {
    if (consistency) b.consistency(*consistency);
    if (serial_consistency) b.serial_consistency(*serial_consistency);
    if (page_size) b.page_size(*page_size);
    if (timeout) b.timeout(*timeout);
    if (idempotent) b.idempotent(*idempotent);
    if (!execution_profile.empty()) b.execution_profile(execution_profile);
}

namespace detail {

namespace {

const char* op_text(rel_op op) {
    switch (op) {
        case rel_op::eq:
            return " = ";
        case rel_op::neq:
            return " != ";
        case rel_op::lt:
            return " < ";
        case rel_op::lte:
            return " <= ";
        case rel_op::gt:
            return " > ";
        case rel_op::gte:
            return " >= ";
        case rel_op::in:
            return " IN ";
    }
    return " = ";
}

bool is_key(column_role r) {
    return r == column_role::partition_key || r == column_role::clustering;
}

class builder {
  public:
    builder(const struct_mapping& m, std::string_view keyspace, query_parts& parts, query_spec& out)
        : m_(m), parts_(parts), out_(out), keyspace_(keyspace) {
        table_ = cql_identifier(keyspace) + "." + cql_identifier(m.table);
    }

    void run() {
        if (!m_.errors.empty()) return fail(mapping_errc::invalid_model, m_.errors.front());
        if (!m_.by_name)
            return fail(mapping_errc::invalid_model,
                        "struct " + m_.struct_name +
                            " is mapped by position: describe it with BOOST_DESCRIBE_STRUCT to "
                            "build queries on it");
        if (keyspace_.empty())
            return fail(mapping_errc::invalid_model,
                        "table " + m_.table +
                            " has no keyspace: give its model or the mapper one, or use a "
                            "session bound to a keyspace");
        if (m_.partition_key().empty())
            return fail(mapping_errc::invalid_model,
                        "struct " + m_.struct_name +
                            " has no partition key: give it one with model::partition_key()");
        if (!parts_.errors.empty()) return fail(mapping_errc::invalid_query, parts_.errors.front());
        for (const auto* list : {&parts_.where, &parts_.conditions})
            for (const auto& r : *list)
                if (r.member >= m_.members.size())
                    return fail(mapping_errc::invalid_query,
                                "a member given to where() or if_() is not listed in "
                                "BOOST_DESCRIBE_STRUCT(" +
                                    m_.struct_name + ", ...)");
        switch (parts_.what) {
            case query_parts::kind::select:
                return select();
            case query_parts::kind::insert:
                return insert();
            case query_parts::kind::update:
                return update();
            case query_parts::kind::remove:
                return remove();
        }
    }

  private:
    void fail(mapping_errc e, std::string message) {
        if (out_.ec) return;
        out_.ec = e;
        out_.error = "cql mapping: " + message;
    }
    const std::string& col(std::size_t i) const { return m_.members[i].column; }
    std::string ident(std::size_t i) const { return cql_identifier(col(i)); }
    column_role role(std::size_t i) const { return m_.members[i].role; }

    void marker(bound_value v, std::string& text) {
        text += "?";
        out_.values.push_back(std::move(v));
    }
    void relations(std::vector<relation_spec>& rels, const char* keyword, std::string& text) {
        for (std::size_t k = 0; k < rels.size(); ++k) {
            text += k == 0 ? keyword : " AND ";
            text += ident(rels[k].member);
            text += op_text(rels[k].op);
            if (rels[k].op == rel_op::in) {
                text += "(";
                for (std::size_t j = 0; j < rels[k].values.size(); ++j) {
                    if (j) text += ", ";
                    marker(std::move(rels[k].values[j]), text);
                }
                text += ")";
            } else {
                marker(std::move(rels[k].values.front()), text);
            }
        }
    }
    void using_clause(std::string& text, bool with_ttl) {
        bool any = false;
        if (with_ttl && parts_.ttl) {
            text += " USING TTL ?";
            out_.values.push_back(make_bound_value(*parts_.ttl));
            any = true;
        }
        if (parts_.timestamp) {
            text += any ? " AND TIMESTAMP ?" : " USING TIMESTAMP ?";
            out_.values.push_back(make_bound_value(*parts_.timestamp));
        }
    }
    void conditions(std::string& text) {
        if (parts_.if_exists) text += " IF EXISTS";
        relations(parts_.conditions, " IF ", text);
        out_.conditional = parts_.if_exists || parts_.if_not_exists || !parts_.conditions.empty();
    }

    // The relations on the partition key: all of its columns with = or IN, or none.
    // Returns true when the whole partition key is restricted.
    bool check_partition_key(const char* what, bool required) {
        std::size_t restricted = 0;
        for (const auto& r : parts_.where) {
            if (role(r.member) != column_role::partition_key) continue;
            if (r.op != rel_op::eq && r.op != rel_op::in) {
                fail(mapping_errc::invalid_query, std::string(what) + ": partition key column '" +
                                                      col(r.member) +
                                                      "' can only be restricted with == or in()");
                return false;
            }
            ++restricted;
        }
        const auto pk = m_.partition_key();
        if (restricted == pk.size()) return true;
        for (std::size_t i : pk) {
            bool found = false;
            for (const auto& r : parts_.where)
                found = found || r.member == i;
            if (found) continue;
            if (required || (restricted != 0 && !parts_.allow_filtering))
                fail(mapping_errc::invalid_query,
                     std::string(what) + ": partition key column '" + col(i) +
                         "' is not restricted" +
                         (required ? std::string() : " (add allow_filtering() to scan)"));
            return false;
        }
        return false;
    }

    // The relations on clustering columns: a prefix restricted with = (or IN), then at most
    // one range, on the column after it. `full`: every clustering column with = or IN.
    bool check_clustering(const char* what, bool full, bool filtering) {
        const auto ck = m_.clustering_key();
        bool gap = false;
        for (std::size_t pos = 0; pos < ck.size(); ++pos) {
            std::vector<const relation_spec*> rels;
            for (const auto& r : parts_.where)
                if (r.member == ck[pos]) rels.push_back(&r);
            if (rels.empty()) {
                if (full) {
                    fail(mapping_errc::invalid_query, std::string(what) + ": clustering column '" +
                                                          col(ck[pos]) + "' is not restricted");
                    return false;
                }
                gap = true;
                continue;
            }
            const bool range = std::any_of(rels.begin(), rels.end(), [](auto* r) {
                return r->op != rel_op::eq && r->op != rel_op::in;
            });
            if (range && full) {
                fail(mapping_errc::invalid_query, std::string(what) + ": clustering column '" +
                                                      col(ck[pos]) + "' needs == or in()");
                return false;
            }
            if (gap && !filtering) {
                fail(mapping_errc::invalid_query,
                     std::string(what) + ": clustering column '" + col(ck[pos]) +
                         "' is restricted but one before it is not (add allow_filtering())");
                return false;
            }
            if (range) gap = true;  // nothing may be restricted after a range
        }
        return true;
    }

    void check_where_columns(const char* what, bool filtering_allowed) {
        for (const auto& r : parts_.where) {
            if (r.op == rel_op::neq) {
                fail(mapping_errc::invalid_query,
                     std::string(what) + ": != is only allowed in if_() conditions");
                return;
            }
            if (!is_key(role(r.member)) && !filtering_allowed) {
                fail(mapping_errc::invalid_query,
                     std::string(what) + ": column '" + col(r.member) +
                         "' is not part of the primary key" +
                         (parts_.what == query_parts::kind::select
                              ? " (add allow_filtering() to filter on it)"
                              : ""));
                return;
            }
        }
    }

    void select() {
        check_where_columns("where", parts_.allow_filtering);
        const bool whole_pk = check_partition_key("where", false);
        bool clustered = false;
        for (const auto& r : parts_.where)
            clustered = clustered || role(r.member) == column_role::clustering;
        if (clustered && !whole_pk && !parts_.allow_filtering)
            fail(mapping_errc::invalid_query,
                 "where: clustering columns are restricted without the whole partition key "
                 "(add allow_filtering() to scan)");
        check_clustering("where", false, parts_.allow_filtering);
        if (!parts_.order_by.empty()) {
            if (!whole_pk)
                fail(mapping_errc::invalid_query,
                     "order_by: the partition key must be restricted with == or in()");
            const auto ck = m_.clustering_key();
            bool reversed = false;
            for (std::size_t k = 0; k < parts_.order_by.size(); ++k) {
                const auto [member, desc] = parts_.order_by[k];
                if (member >= m_.members.size() || k >= ck.size() || ck[k] != member) {
                    fail(mapping_errc::invalid_query,
                         "order_by: only the clustering columns, in their order, can order rows");
                    break;
                }
                const bool flips = desc != m_.members[member].descending;
                if (k == 0) reversed = flips;
                if (flips != reversed) {
                    fail(mapping_errc::invalid_query,
                         "order_by: the clustering order can only be kept or reversed as a whole");
                    break;
                }
            }
        }
        if (parts_.limit && *parts_.limit <= 0)
            fail(mapping_errc::invalid_query, "limit: must be positive");
        if (parts_.per_partition_limit && *parts_.per_partition_limit <= 0)
            fail(mapping_errc::invalid_query, "per_partition_limit: must be positive");
        if (out_.ec) return;

        std::string text = "SELECT ";
        for (std::size_t i = 0; i < m_.members.size(); ++i) {
            if (i) text += ", ";
            text += ident(i);
        }
        text += " FROM " + table_;
        relations(parts_.where, " WHERE ", text);
        for (std::size_t k = 0; k < parts_.order_by.size(); ++k) {
            text += k == 0 ? " ORDER BY " : ", ";
            text +=
                ident(parts_.order_by[k].first) + (parts_.order_by[k].second ? " DESC" : " ASC");
        }
        if (parts_.per_partition_limit) {
            text += " PER PARTITION LIMIT ?";
            out_.values.push_back(make_bound_value(*parts_.per_partition_limit));
        }
        if (parts_.limit) {
            text += " LIMIT ?";
            out_.values.push_back(make_bound_value(*parts_.limit));
        }
        if (parts_.allow_filtering) text += " ALLOW FILTERING";
        out_.cql = std::move(text);
    }

    void insert() {
        if (m_.has_counters())
            return fail(mapping_errc::invalid_query,
                        "insert: " + m_.struct_name +
                            " has counter columns, which only update().add() can change");
        std::string text = "INSERT INTO " + table_ + " (";
        std::string markers;
        for (std::size_t k = 0; k < parts_.assignments.size(); ++k) {
            if (k) {
                text += ", ";
                markers += ", ";
            }
            text += ident(parts_.assignments[k].member);
            marker(std::move(parts_.assignments[k].value), markers);
        }
        text += ") VALUES (" + markers + ")";
        if (parts_.if_not_exists) text += " IF NOT EXISTS";
        out_.conditional = parts_.if_not_exists;
        using_clause(text, true);
        out_.cql = std::move(text);
    }

    void update() {
        check_where_columns("update", false);
        check_partition_key("update", true);
        check_clustering("update", true, false);
        if (parts_.assignments.empty()) fail(mapping_errc::invalid_query, "update: nothing to set");
        for (const auto& a : parts_.assignments) {
            if (a.member >= m_.members.size())
                return fail(mapping_errc::invalid_query,
                            "a member given to set(), add() or remove() is not listed in "
                            "BOOST_DESCRIBE_STRUCT(" +
                                m_.struct_name + ", ...)");
            if (is_key(role(a.member)))
                return fail(mapping_errc::invalid_query,
                            "update: '" + col(a.member) + "' is part of the primary key");
            const bool counter = m_.members[a.member].cql_type == "counter";
            if (counter && a.op == assign_op::set)
                return fail(mapping_errc::invalid_query,
                            "update: counter column '" + col(a.member) +
                                "' can only be changed with add() or remove()");
        }
        bool in_where = false;
        for (const auto& r : parts_.where)
            in_where = in_where || r.op == rel_op::in;
        if (in_where && (parts_.if_exists || !parts_.conditions.empty()))
            fail(mapping_errc::invalid_query, "update: in() cannot be used with if_() conditions");
        if (out_.ec) return;

        std::string text = "UPDATE " + table_;
        using_clause(text, true);
        for (std::size_t k = 0; k < parts_.assignments.size(); ++k) {
            auto& a = parts_.assignments[k];
            text += k == 0 ? " SET " : ", ";
            const std::string c = ident(a.member);
            text += c + " = ";
            if (a.op != assign_op::set) text += c + (a.op == assign_op::add ? " + " : " - ");
            marker(std::move(a.value), text);
        }
        relations(parts_.where, " WHERE ", text);
        conditions(text);
        out_.cql = std::move(text);
    }

    void remove() {
        check_where_columns("remove", false);
        check_partition_key("remove", true);
        check_clustering("remove", false, false);
        if (out_.ec) return;
        std::string text = "DELETE FROM " + table_;
        using_clause(text, false);
        relations(parts_.where, " WHERE ", text);
        conditions(text);
        out_.cql = std::move(text);
    }

    const struct_mapping& m_;
    query_parts& parts_;
    query_spec& out_;
    std::string_view keyspace_;
    std::string table_;
};

}  // namespace

void build_query(const struct_mapping& mapping, std::string_view keyspace, query_parts parts,
                 query_spec& out) {
    builder(mapping, keyspace, parts, out).run();
    if (out.ec) {
        out.cql.clear();
        out.values.clear();
    }
}

}  // namespace detail
}  // namespace cql
