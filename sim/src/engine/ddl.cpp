// CREATE/ALTER/DROP KEYSPACE, TABLE, TYPE; TRUNCATE; USE.
#include <algorithm>
#include <set>

#include "cql/protocol/value.hpp"
#include "cqlsim/engine_impl.hpp"

namespace cqlsim {

using namespace storage;
using proto::type_id;

namespace {

std::vector<std::pair<std::string, std::string>> normalize_replication(const ast::option_map& in) {
    std::vector<std::pair<std::string, std::string>> out;
    std::string cls;
    for (const auto& [k, v] : in)
        if (k == "class") cls = v;
    if (cls.empty()) fail(error_code::config_error, "Missing replication strategy class");
    if (cls.find('.') == std::string::npos) cls = "org.apache.cassandra.locator." + cls;
    static const std::set<std::string> known = {
        "org.apache.cassandra.locator.SimpleStrategy",
        "org.apache.cassandra.locator.NetworkTopologyStrategy",
        "org.apache.cassandra.locator.LocalStrategy",
        "org.apache.cassandra.locator.EverywhereStrategy"};
    if (!known.count(cls))
        fail(error_code::config_error, "Unable to find replication strategy class '" + cls + "'");
    out.emplace_back("class", cls);
    bool has_rf = false;
    for (const auto& [k, v] : in) {
        if (k == "class") continue;
        if (cls.ends_with("SimpleStrategy") && k != "replication_factor")
            fail(error_code::config_error,
                 "Unrecognized strategy option {" + k + "} passed to SimpleStrategy for keyspace");
        if (k == "replication_factor") has_rf = true;
        bool digits = !v.empty() &&
                      std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; });
        if (!digits && !(k == "replication_factor" && v.find('/') != std::string::npos))
            fail(error_code::config_error,
                 "Replication factor must be non-negative integer; found " + v);
        out.emplace_back(k, v);
    }
    if (cls.ends_with("SimpleStrategy") && !has_rf)
        fail(error_code::config_error,
             "SimpleStrategy requires a replication_factor strategy option.");
    std::sort(out.begin() + 1, out.end());
    return out;
}

bool is_system_keyspace(const std::string& ks) {
    return ks == "system" || ks == "system_schema" || ks == "system_auth" ||
           ks == "system_distributed" || ks == "system_traces" || ks == "system_virtual_schema" ||
           ks == "system_views";
}

void check_not_system(const std::string& ks) {
    if (is_system_keyspace(ks))
        fail(error_code::unauthorized, ks + " keyspace is not user-modifiable.");
}

bool contains_counter(const proto::data_type& t) {
    if (t.id == type_id::counter) return true;
    for (const auto& p : t.params)
        if (contains_counter(p)) return true;
    return false;
}

void apply_table_options(table_def& t, const std::vector<ast::table_option>& opts) {
    static const std::set<std::string> scalar = {"comment",
                                                 "default_time_to_live",
                                                 "gc_grace_seconds",
                                                 "bloom_filter_fp_chance",
                                                 "crc_check_chance",
                                                 "speculative_retry",
                                                 "additional_write_policy",
                                                 "memtable_flush_period_in_ms",
                                                 "min_index_interval",
                                                 "max_index_interval",
                                                 "read_repair",
                                                 "cdc",
                                                 "dclocal_read_repair_chance",
                                                 "read_repair_chance",
                                                 "id"};
    static const std::set<std::string> maps = {"caching", "compaction", "compression",
                                               "extensions"};
    for (const auto& o : opts) {
        if (o.map) {
            if (!maps.count(o.name))
                fail(error_code::syntax_error, "Unknown property '" + o.name + "'");
            auto it = std::find_if(t.map_options.begin(), t.map_options.end(),
                                   [&](const auto& p) { return p.first == o.name; });
            if (it != t.map_options.end())
                it->second = *o.map;
            else
                t.map_options.emplace_back(o.name, *o.map);
            continue;
        }
        if (!scalar.count(o.name))
            fail(error_code::syntax_error, "Unknown property '" + o.name + "'");
        if (o.name == "default_time_to_live") {
            long v = 0;
            try {
                v = std::stol(o.value);
            } catch (...) {
                fail(error_code::syntax_error, "Invalid value for default_time_to_live");
            }
            if (v < 0)
                fail(error_code::config_error,
                     "default_time_to_live must be greater than or equal to 0 (got " + o.value +
                         ")");
            if (v > 630720000)
                fail(error_code::config_error,
                     "default_time_to_live must be less than or equal to 630720000 (got " +
                         o.value + ")");
            t.default_ttl = static_cast<std::int32_t>(v);
        }
        auto it = std::find_if(t.options.begin(), t.options.end(),
                               [&](const auto& p) { return p.first == o.name; });
        if (it != t.options.end())
            it->second = o.value;
        else
            t.options.emplace_back(o.name, o.value);
    }
}

}  // namespace

table_def engine::impl::build_table(const ast::create_table& c, const std::string& ks) {
    table_def t;
    t.keyspace = ks;
    t.name = c.table.name;
    std::set<std::string> seen;
    for (const auto& col : c.columns) {
        if (!seen.insert(col.name).second)
            invalid("Duplicate column '" + col.name + "' declaration for table " + ks + "." +
                    t.name);
        column_def d;
        d.name = col.name;
        d.type = parse_type(ks, col.type);
        d.kind = col.is_static ? column_kind::static_ : column_kind::regular;
        d.id = t.next_column_id++;
        t.columns.push_back(std::move(d));
    }
    if (c.partition_key.empty())
        invalid("No PRIMARY KEY specifed for table '" + t.name + "' (exactly one required)");
    // A column-level PRIMARY KEY plus a table-level one: more than one declaration.
    int declared = 0;
    for (std::size_t i = 0; i < c.partition_key.size(); ++i) {
        auto* col = const_cast<column_def*>(t.find(c.partition_key[i]));
        if (!col)
            invalid("Unknown definition " + c.partition_key[i] + " referenced in PRIMARY KEY");
        if (col->kind == column_kind::partition_key)
            invalid("Multiple PRIMARY KEYs specified (exactly one required)");
        if (col->kind == column_kind::static_)
            invalid("Static column " + col->name + " cannot be part of the PRIMARY KEY");
        if (proto::is_collection(col->type) && !col->type.frozen)
            invalid("Invalid non-frozen collection type for PRIMARY KEY component " + col->name);
        col->kind = column_kind::partition_key;
        col->position = static_cast<int>(i);
        ++declared;
    }
    for (std::size_t i = 0; i < c.clustering.size(); ++i) {
        auto* col = const_cast<column_def*>(t.find(c.clustering[i]));
        if (!col) invalid("Unknown definition " + c.clustering[i] + " referenced in PRIMARY KEY");
        if (col->kind == column_kind::partition_key || col->kind == column_kind::clustering)
            invalid("Multiple definition of identifier " + col->name);
        if (col->kind == column_kind::static_)
            invalid("Static column " + col->name + " cannot be part of the PRIMARY KEY");
        if (proto::is_collection(col->type) && !col->type.frozen)
            invalid("Invalid non-frozen collection type for PRIMARY KEY component " + col->name);
        col->kind = column_kind::clustering;
        col->position = static_cast<int>(i);
    }
    if (!c.clustering_order.empty()) {
        for (std::size_t i = 0; i < c.clustering_order.size(); ++i) {
            const auto& [name, desc] = c.clustering_order[i];
            auto* col = const_cast<column_def*>(t.find(name));
            if (!col || col->kind != column_kind::clustering)
                invalid("Only clustering key columns can be defined in CLUSTERING ORDER directive");
            if (col->position != static_cast<int>(i))
                invalid(
                    "The order of columns in the CLUSTERING ORDER directive must be the one of the "
                    "clustering key");
            col->desc = desc;
        }
        if (c.clustering_order.size() != c.clustering.size())
            invalid("Missing CLUSTERING ORDER for column " +
                    c.clustering[c.clustering_order.size()]);
    }
    bool any_counter = false;
    bool any_non_counter = false;
    for (const auto& col : t.columns) {
        if (col.kind == column_kind::partition_key || col.kind == column_kind::clustering) {
            if (contains_counter(col.type))
                invalid("counter type is not supported for PRIMARY KEY column '" + col.name + "'");
            if (col.type.id == type_id::duration)
                invalid("duration type is not supported for PRIMARY KEY column '" + col.name + "'");
            continue;
        }
        if (col.type.id == type_id::counter)
            any_counter = true;
        else if (contains_counter(col.type))
            invalid("Counters are not allowed inside collections: " +
                    proto::to_cql_string(col.type));
        else
            any_non_counter = true;
        if (col.kind == column_kind::static_ && c.clustering.empty())
            invalid(
                "Static columns are only useful (and thus allowed) if the table has at least one "
                "clustering column");
    }
    if (any_counter && any_non_counter)
        invalid("Cannot mix counter and non counter columns in the same table");
    t.counter = any_counter;
    apply_table_options(t, c.options);
    if (t.counter && t.default_ttl != 0)
        invalid("Cannot set default_time_to_live on a table with counters");
    t.finish_columns();
    t.id = hash_uuid(ks + "." + t.name + "#" + std::to_string(now_micros()), 1);
    return t;
}

result engine::impl::run_ddl(const ast::statement& st, exec_context& ctx) {
    if (auto* s = std::get_if<ast::use_statement>(&st)) {
        get_keyspace(s->keyspace);
        if (ctx.session) ctx.session->keyspace = s->keyspace;
        return set_keyspace_result{s->keyspace};
    }
    if (auto* s = std::get_if<ast::create_keyspace>(&st)) {
        if (keyspaces.count(s->name)) {
            if (s->if_not_exists) return void_result{};
            error e;
            e.code = error_code::already_exists;
            e.message = "Cannot add existing keyspace \"" + s->name + "\"";
            e.keyspace = s->name;
            throw engine_failure{e};
        }
        if (s->name.size() > 48)
            invalid("Keyspace name must not be more than 48 characters long (got \"" + s->name +
                    "\")");
        keyspace_def ks;
        ks.name = s->name;
        ks.replication = normalize_replication(s->replication);
        ks.durable_writes = s->durable_writes.value_or(true);
        keyspaces.emplace(s->name, std::move(ks));
        schema_change_result r{change_type::created, change_target::keyspace, s->name, "", {}};
        notify(r);
        return r;
    }
    if (auto* s = std::get_if<ast::alter_keyspace>(&st)) {
        check_not_system(s->name);
        auto& ks = get_keyspace(s->name);
        if (s->replication) ks.replication = normalize_replication(*s->replication);
        if (s->durable_writes) ks.durable_writes = *s->durable_writes;
        schema_change_result r{change_type::updated, change_target::keyspace, s->name, "", {}};
        notify(r);
        return r;
    }
    if (auto* s = std::get_if<ast::drop_keyspace>(&st)) {
        check_not_system(s->name);
        if (!keyspaces.count(s->name)) {
            if (s->if_exists) return void_result{};
            fail(error_code::config_error, "Cannot drop non existing keyspace '" + s->name + "'.");
        }
        keyspaces.erase(s->name);
        if (ctx.session && ctx.session->keyspace == s->name) {
            // Cassandra keeps the session keyspace; later statements fail with "does not exist".
        }
        schema_change_result r{change_type::dropped, change_target::keyspace, s->name, "", {}};
        notify(r);
        return r;
    }
    if (auto* s = std::get_if<ast::create_table>(&st)) {
        auto ksn = effective_keyspace(s->table, ctx);
        check_not_system(ksn);
        auto& ks = get_keyspace(ksn);
        if (ks.tables.count(s->table.name)) {
            if (s->if_not_exists) return void_result{};
            error e;
            e.code = error_code::already_exists;
            e.message = "Cannot add already existing table \"" + s->table.name +
                        "\" to keyspace \"" + ksn + "\"";
            e.keyspace = ksn;
            e.table = s->table.name;
            throw engine_failure{e};
        }
        auto t = build_table(*s, ksn);
        ks.tables.emplace(s->table.name, std::move(t));
        schema_change_result r{change_type::created, change_target::table, ksn, s->table.name, {}};
        notify(r);
        return r;
    }
    if (auto* s = std::get_if<ast::alter_table>(&st)) {
        auto ksn = effective_keyspace(s->table, ctx);
        check_not_system(ksn);
        auto& ks = get_keyspace(ksn);
        auto it = ks.tables.find(s->table.name);
        if (it == ks.tables.end()) {
            if (s->if_exists) return void_result{};
            invalid("Table '" + ksn + "." + s->table.name + "' doesn't exist");
        }
        auto& t = it->second;
        switch (s->k) {
            case ast::alter_table::kind::add:
                for (const auto& c : s->added) {
                    if (t.find(c.name)) invalid("Column with name '" + c.name + "' already exists");
                    column_def d;
                    d.name = c.name;
                    d.type = parse_type(ksn, c.type);
                    d.kind = c.is_static ? column_kind::static_ : column_kind::regular;
                    if (c.is_static && t.ck.empty())
                        invalid(
                            "Static columns are only useful (and thus allowed) if the table has at "
                            "least one "
                            "clustering column");
                    if ((d.type.id == type_id::counter) != t.counter)
                        invalid("Cannot add a " +
                                std::string(t.counter ? "non-counter" : "counter") + " column (" +
                                c.name + ") in a " + (t.counter ? "counter" : "non-counter") +
                                " column family");
                    d.id = t.next_column_id++;
                    t.columns.push_back(std::move(d));
                }
                break;
            case ast::alter_table::kind::drop:
                for (const auto& n : s->dropped) {
                    auto* c = t.find(n);
                    if (!c)
                        invalid("Column " + n + " was not found in table " + ksn + "." + t.name);
                    if (c->kind == column_kind::partition_key || c->kind == column_kind::clustering)
                        invalid("Cannot drop PRIMARY KEY part " + n);
                    t.columns.erase(t.columns.begin() + (c - t.columns.data()));
                }
                break;
            case ast::alter_table::kind::rename:
                for (const auto& [from, to] : s->renamed) {
                    auto* c = const_cast<column_def*>(t.find(from));
                    if (!c)
                        invalid("Column " + from + " was not found in table " + ksn + "." + t.name);
                    if (c->kind != column_kind::partition_key && c->kind != column_kind::clustering)
                        invalid("Cannot rename non PRIMARY KEY column " + from);
                    if (t.find(to))
                        invalid("Cannot rename column " + from + " to " + to + " in table '" +
                                t.name + "'; another column with that name already exists");
                    c->name = to;
                }
                break;
            case ast::alter_table::kind::with:
                apply_table_options(t, s->options);
                break;
            case ast::alter_table::kind::alter_type:
                invalid("Altering column types is no longer supported");
        }
        t.finish_columns();
        schema_change_result r{change_type::updated, change_target::table, ksn, t.name, {}};
        notify(r);
        return r;
    }
    if (auto* s = std::get_if<ast::drop_table>(&st)) {
        auto ksn = effective_keyspace(s->table, ctx);
        check_not_system(ksn);
        auto& ks = get_keyspace(ksn);
        if (!ks.tables.erase(s->table.name)) {
            if (s->if_exists) return void_result{};
            invalid("Table '" + ksn + "." + s->table.name + "' doesn't exist");
        }
        schema_change_result r{change_type::dropped, change_target::table, ksn, s->table.name, {}};
        notify(r);
        return r;
    }
    if (auto* s = std::get_if<ast::truncate_table>(&st)) {
        auto& t = get_table(s->table, ctx);
        if (t.system) check_not_system(t.keyspace);
        t.data.clear();
        return void_result{};
    }
    if (auto* s = std::get_if<ast::create_type>(&st)) {
        auto ksn = effective_keyspace(s->type, ctx);
        check_not_system(ksn);
        auto& ks = get_keyspace(ksn);
        if (ks.types.count(s->type.name)) {
            if (s->if_not_exists) return void_result{};
            error e;
            e.code = error_code::already_exists;
            e.message = "A user type with name '" + s->type.name + "' already exists";
            e.keyspace = ksn;
            e.table = s->type.name;
            throw engine_failure{e};
        }
        udt_def u;
        u.keyspace = ksn;
        u.name = s->type.name;
        std::set<std::string> seen;
        for (const auto& [n, ty] : s->fields) {
            if (!seen.insert(n).second) invalid("Duplicate field name " + n + " in type " + u.name);
            u.field_names.push_back(n);
            auto dt = parse_type(ksn, ty);
            if (dt.id == type_id::counter) invalid("A user type cannot contain counters");
            u.field_types.push_back(std::move(dt));
        }
        ks.types.emplace(u.name, std::move(u));
        schema_change_result r{change_type::created, change_target::type, ksn, s->type.name, {}};
        notify(r);
        return r;
    }
    if (auto* s = std::get_if<ast::alter_type>(&st)) {
        auto ksn = effective_keyspace(s->type, ctx);
        check_not_system(ksn);
        auto& ks = get_keyspace(ksn);
        auto it = ks.types.find(s->type.name);
        if (it == ks.types.end()) invalid("No user type named " + s->type.name + " exists.");
        for (const auto& [n, ty] : s->added) {
            if (std::find(it->second.field_names.begin(), it->second.field_names.end(), n) !=
                it->second.field_names.end())
                invalid("Cannot add new field " + n + " to type " + s->type.name +
                        ": a field of the same name already exists");
            it->second.field_names.push_back(n);
            it->second.field_types.push_back(parse_type(ksn, ty));
        }
        for (const auto& [from, to] : s->renamed) {
            auto f = std::find(it->second.field_names.begin(), it->second.field_names.end(), from);
            if (f == it->second.field_names.end())
                invalid("Unknown field " + from + " in type " + s->type.name);
            *f = to;
        }
        // Re-resolve the type everywhere it is used.
        for (auto& [tn, t] : ks.tables) {
            for (auto& c : t.columns) {
                std::function<void(proto::data_type&)> fix = [&](proto::data_type& d) {
                    if (d.id == type_id::udt && d.keyspace == ksn && d.name == s->type.name) {
                        d.field_names = it->second.field_names;
                        d.params = it->second.field_types;
                        return;
                    }
                    for (auto& p : d.params)
                        fix(p);
                };
                fix(c.type);
            }
            t.finish_columns();
        }
        schema_change_result r{change_type::updated, change_target::type, ksn, s->type.name, {}};
        notify(r);
        return r;
    }
    if (auto* s = std::get_if<ast::drop_type>(&st)) {
        auto ksn = effective_keyspace(s->type, ctx);
        check_not_system(ksn);
        auto& ks = get_keyspace(ksn);
        if (!ks.types.count(s->type.name)) {
            if (s->if_exists) return void_result{};
            invalid("No user type named " + s->type.name + " exists.");
        }
        for (const auto& [tn, t] : ks.tables)
            for (const auto& c : t.columns) {
                std::function<bool(const proto::data_type&)> uses = [&](const proto::data_type& d) {
                    if (d.id == type_id::udt && d.name == s->type.name) return true;
                    for (const auto& p : d.params)
                        if (uses(p)) return true;
                    return false;
                };
                if (uses(c.type))
                    invalid("Cannot drop user type " + ksn + "." + s->type.name +
                            " as it is still used by table " + ksn + "." + tn);
            }
        ks.types.erase(s->type.name);
        schema_change_result r{change_type::dropped, change_target::type, ksn, s->type.name, {}};
        notify(r);
        return r;
    }
    if (std::holds_alternative<ast::create_index>(st) ||
        std::holds_alternative<ast::drop_index>(st))
        invalid("Secondary indexes are not supported by cqlsim");
    invalid("Unsupported statement");
}

}  // namespace cqlsim
