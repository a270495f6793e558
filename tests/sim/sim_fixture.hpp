#pragma once
// Shared helpers for the cqlsim engine tests: an engine with an injected clock and small
// helpers to run CQL and render result cells as CQL literals.

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "cql/protocol/value.hpp"
#include "cqlsim/engine.hpp"

namespace simtest {

using namespace cqlsim;
namespace proto = cql::protocol;

inline byte_buffer int_bytes(std::int32_t v) {
    byte_buffer b;
    proto::byte_writer w(b);
    w.i32(v);
    return b;
}
inline byte_buffer bigint_bytes(std::int64_t v) {
    byte_buffer b;
    proto::byte_writer w(b);
    w.i64(v);
    return b;
}
inline byte_buffer text_bytes(std::string_view s) {
    return byte_buffer(s.begin(), s.end());
}

struct fixture {
    std::int64_t now = 1700000000000000;  // microseconds
    engine e;
    session_state s;

    fixture() : e(make_config()) {}
    engine_config make_config() {
        engine_config cfg;
        cfg.clock_micros = [this] { return now; };
        return cfg;
    }

    result q(std::string_view cql, std::vector<byte_buffer> vals = {}, std::int32_t page = -1,
             std::optional<byte_buffer> state = {}) {
        query_options o;
        for (const auto& v : vals)
            o.values.push_back(value_view::of(v));
        o.page_size = page;
        o.paging_state = std::move(state);
        return e.query(s, cql, o);
    }
    void ok(std::string_view cql, std::vector<byte_buffer> vals = {}) {
        auto r = q(cql, std::move(vals));
        if (auto* err = std::get_if<error>(&r)) FAIL("error for " << cql << ": " << err->message);
    }
    rows_result rows(std::string_view cql, std::vector<byte_buffer> vals = {}) {
        auto r = q(cql, std::move(vals));
        if (auto* err = std::get_if<error>(&r)) FAIL("error for " << cql << ": " << err->message);
        REQUIRE(std::holds_alternative<rows_result>(r));
        return std::get<rows_result>(std::move(r));
    }
    error err(std::string_view cql, std::vector<byte_buffer> vals = {}) {
        auto r = q(cql, std::move(vals));
        if (!std::holds_alternative<error>(r)) FAIL("expected an error for " << cql);
        return std::get<error>(std::move(r));
    }
    // Rows rendered as CQL literals ("null" for null cells).
    static std::vector<std::vector<std::string>> render(const rows_result& r) {
        std::vector<std::vector<std::string>> out;
        for (const auto& row : r.rows) {
            std::vector<std::string> line;
            for (std::size_t i = 0; i < row.size(); ++i) {
                if (!row[i]) {
                    line.push_back("null");
                    continue;
                }
                proto::value v;
                if (proto::decode_value(r.columns[i].type, *row[i], v)) {
                    line.push_back("<bad>");
                    continue;
                }
                line.push_back(proto::to_cql_literal(r.columns[i].type, v));
            }
            out.push_back(std::move(line));
        }
        return out;
    }
    std::vector<std::vector<std::string>> select(std::string_view cql,
                                                 std::vector<byte_buffer> vals = {}) {
        return render(rows(cql, std::move(vals)));
    }
    static std::vector<std::string> names(const rows_result& r) {
        std::vector<std::string> out;
        for (const auto& c : r.columns)
            out.push_back(c.name);
        return out;
    }
    void setup_ks() {
        ok("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', "
           "'replication_factor': 1}");
        ok("USE ks");
    }
};

using table = std::vector<std::vector<std::string>>;

}  // namespace simtest
