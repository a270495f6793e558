// async_sync_table: reads the table and its user types from system_schema, then creates
// or extends them, one statement after the other, reporting what it cannot change.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cql/mapping/errc.hpp"
#include "cql/mapping/schema.hpp"
#include "cql/session.hpp"

namespace cql::detail {

namespace {

std::string type_text(const std::string& schema_text) {
    protocol::data_type t;
    if (protocol::parse_cql_type(schema_text, t)) return schema_text;
    return protocol::to_cql_string(t);
}

const char* role_name(column_role r) {
    switch (r) {
        case column_role::partition_key:
            return "a partition key column";
        case column_role::clustering:
            return "a clustering column";
        case column_role::static_column:
            return "a static column";
        case column_role::regular:
            break;
    }
    return "a regular column";
}

column_role role_of(std::string_view kind) {
    if (kind == "partition_key") return column_role::partition_key;
    if (kind == "clustering") return column_role::clustering;
    if (kind == "static") return column_role::static_column;
    return column_role::regular;
}

class sync_state : public std::enable_shared_from_this<sync_state> {
  public:
    sync_state(session& s, table_definition def, diagnostics* diag, sync_completion op)
        : s_(s), def_(std::move(def)), diag_(diag ? diag : &own_diag_), op_(std::move(op)) {}

    void start() {
        if (def_.keyspace.empty()) def_.keyspace = s_.keyspace();
        if (def_.keyspace.empty())
            def_.errors.push_back("table " + def_.table +
                                  " has no keyspace: give its model one or use a session bound "
                                  "to a keyspace");
        if (!def_.errors.empty()) {
            diag_->clear();
            diag_->message = def_.errors.front();
            for (std::size_t i = 1; i < def_.errors.size(); ++i)
                diag_->message += "; " + def_.errors[i];
            return finish(mapping_errc::invalid_model);
        }
        next_type(0);
    }

  private:
    using step = std::function<void(const result&)>;

    void query(statement st, step then) {
        s_.async_execute(st, *diag_, [self = shared_from_this(), then](error_code ec, result r) {
            if (ec) return self->finish(ec);
            then(r);
        });
    }

    // Runs `ddl` from index i on, then `then`.
    void run(std::shared_ptr<std::vector<std::string>> ddl, std::size_t i,
             std::function<void()> then) {
        if (i == ddl->size()) return then();
        report_.statements.push_back((*ddl)[i]);
        query(statement((*ddl)[i]), [self = shared_from_this(), ddl, i, then](const result&) {
            self->run(ddl, i + 1, then);
        });
    }

    void next_type(std::size_t i) {
        if (i == def_.types.size()) return read_table();
        query(statement("SELECT field_names, field_types FROM system_schema.types WHERE "
                        "keyspace_name = ? AND type_name = ?",
                        def_.keyspace, def_.types[i].name),
              [self = shared_from_this(), i](const result& r) { self->sync_type(i, r); });
    }

    void sync_type(std::size_t i, const result& r) {
        const auto& want = def_.types[i];
        const std::string qualified =
            cql_identifier(def_.keyspace) + "." + cql_identifier(want.name);
        auto ddl = std::make_shared<std::vector<std::string>>();
        if (r.empty()) {
            table_definition one;
            one.keyspace = def_.keyspace;
            one.types = {want};
            *ddl = one.create_types_cql();
            report_.created_types.push_back(want.name);
        } else {
            auto names = r.front().get<std::vector<std::string>>(0);
            auto types = r.front().get<std::vector<std::string>>(1);
            for (const auto& [field, type] : want.fields) {
                std::size_t k = 0;
                while (k < names.size() && names[k] != field)
                    ++k;
                const std::string wanted = protocol::to_cql_string(type);
                if (k == names.size()) {
                    ddl->push_back("ALTER TYPE " + qualified + " ADD " + cql_identifier(field) +
                                   " " + wanted);
                    report_.added_fields.push_back(want.name + "." + field);
                } else if (k < types.size() && type_text(types[k]) != wanted) {
                    report_.conflicts.push_back("field " + want.name + "." + field + " is " +
                                                type_text(types[k]) + ", the struct's member " +
                                                wanted);
                }
            }
            for (const auto& name : names) {
                bool mapped = false;
                for (const auto& f : want.fields)
                    mapped = mapped || f.first == name;
                if (!mapped)
                    report_.conflicts.push_back("field " + want.name + "." + name +
                                                " has no member in the struct (values of the "
                                                "type cannot be read into it)");
            }
        }
        run(ddl, 0, [self = shared_from_this(), i] { self->next_type(i + 1); });
    }

    void read_table() {
        query(statement("SELECT column_name, kind, position, type, clustering_order FROM "
                        "system_schema.columns WHERE keyspace_name = ? AND table_name = ?",
                        def_.keyspace, def_.table),
              [self = shared_from_this()](const result& r) { self->sync_table(r); });
    }

    void sync_table(const result& r) {
        auto ddl = std::make_shared<std::vector<std::string>>();
        const std::string qualified =
            cql_identifier(def_.keyspace) + "." + cql_identifier(def_.table);
        if (r.empty()) {
            ddl->push_back(def_.create_table_cql());
            report_.created_table = true;
        } else {
            struct existing {
                std::string name, type, order;
                column_role role;
                std::int32_t position;
            };
            std::vector<existing> cols;
            for (row_view row : r)
                cols.push_back({row.get<std::string>(0), type_text(row.get<std::string>(3)),
                                row.get<std::optional<std::string>>(4).value_or("none"),
                                role_of(row.get<std::string>(1)),
                                row.get<std::optional<std::int32_t>>(2).value_or(-1)});
            for (const auto& want : def_.columns) {
                const existing* have = nullptr;
                for (const auto& c : cols)
                    if (c.name == want.name) have = &c;
                const std::string wanted = protocol::to_cql_string(want.type);
                const bool key =
                    want.role == column_role::partition_key || want.role == column_role::clustering;
                if (!have) {
                    if (key) {
                        report_.conflicts.push_back("column " + want.name +
                                                    " is missing from the table's primary key");
                        continue;
                    }
                    ddl->push_back("ALTER TABLE " + qualified + " ADD " +
                                   cql_identifier(want.name) + " " + wanted +
                                   (want.role == column_role::static_column ? " static" : ""));
                    report_.added_columns.push_back(want.name);
                    continue;
                }
                if (have->type != wanted)
                    report_.conflicts.push_back("column " + want.name + " is " + have->type +
                                                ", the struct's member " + wanted);
                if (have->role != want.role)
                    report_.conflicts.push_back("column " + want.name + " is " +
                                                role_name(have->role) + ", the struct's member " +
                                                role_name(want.role));
                else if (key && have->position != want.key_position)
                    report_.conflicts.push_back("column " + want.name + " is at position " +
                                                std::to_string(have->position) +
                                                " of the key, the struct's member at " +
                                                std::to_string(want.key_position));
                else if (want.role == column_role::clustering &&
                         (have->order == "desc") != want.descending)
                    report_.conflicts.push_back("column " + want.name + " is ordered " +
                                                have->order + ", the struct's member " +
                                                (want.descending ? "desc" : "asc"));
            }
            for (const auto& c : cols) {
                bool mapped = false;
                for (const auto& w : def_.columns)
                    mapped = mapped || w.name == c.name;
                if (!mapped)
                    report_.conflicts.push_back("column " + c.name +
                                                " has no member in the struct (left alone)");
            }
        }
        run(ddl, 0, [self = shared_from_this()] { self->finish({}); });
    }

    void finish(error_code ec) {
        auto op = std::move(op_);
        if (op) complete(std::move(op), ec, ec ? sync_report{} : std::move(report_));
    }

    session& s_;
    table_definition def_;
    diagnostics own_diag_;
    diagnostics* diag_;
    sync_completion op_;
    sync_report report_;
};

}  // namespace

void start_sync_table(session& s, table_definition def, diagnostics* diag, sync_completion op) {
    std::make_shared<sync_state>(s, std::move(def), diag, std::move(op))->start();
}

}  // namespace cql::detail
