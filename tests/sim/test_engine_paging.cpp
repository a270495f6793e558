#include "sim_fixture.hpp"

using namespace simtest;

namespace {

// Runs a query page by page and concatenates the pages.
std::vector<std::vector<std::optional<byte_buffer>>> all_pages(fixture& f, std::string_view cql,
                                                               std::int32_t page,
                                                               std::vector<byte_buffer> vals = {},
                                                               std::size_t* pages_out = nullptr) {
    std::vector<std::vector<std::optional<byte_buffer>>> out;
    std::optional<byte_buffer> state;
    std::size_t pages = 0;
    do {
        auto r = f.q(cql, vals, page, state);
        if (auto* e = std::get_if<error>(&r)) FAIL(e->message);
        auto& rows = std::get<rows_result>(r);
        REQUIRE(static_cast<std::int32_t>(rows.rows.size()) <= page);
        out.insert(out.end(), rows.rows.begin(), rows.rows.end());
        state = rows.paging_state;
        REQUIRE(++pages < 5000);
    } while (state);
    if (pages_out) *pages_out = pages;
    return out;
}

}  // namespace

TEST_CASE("paging over 1000 rows across partitions equals the unpaged result", "[engine][paging]") {
    fixture f;
    f.setup_ks();
    f.ok(
        "CREATE TABLE t (p int, c int, v text, PRIMARY KEY (p, c)) WITH CLUSTERING ORDER BY (c "
        "DESC)");
    for (int p = 0; p < 40; ++p)
        for (int c = 0; c < 25; ++c)
            f.ok("INSERT INTO t (p, c, v) VALUES (?, ?, ?)",
                 {int_bytes(p), int_bytes(c), text_bytes("v" + std::to_string(p * 100 + c))});
    const auto full = f.rows("SELECT p, c, v FROM t").rows;
    REQUIRE(full.size() == 1000);
    CHECK(f.rows("SELECT p, c, v FROM t").paging_state == std::nullopt);
    for (std::int32_t page : {1, 7, 100}) {
        INFO("page size " << page);
        std::size_t pages = 0;
        CHECK(all_pages(f, "SELECT p, c, v FROM t", page, {}, &pages) == full);
        // a full page always carries a paging state, so an exact multiple ends with an empty page
        CHECK(pages == 1000 / static_cast<std::size_t>(page) + 1);
    }
    // within one partition, a clustering range, reversed order
    auto one = f.rows("SELECT c FROM t WHERE p = 3 AND c >= 5 ORDER BY c ASC").rows;
    CHECK(one.size() == 20);
    CHECK(all_pages(f, "SELECT c FROM t WHERE p = 3 AND c >= 5 ORDER BY c ASC", 7) == one);
    // IN on the partition key
    auto in = f.rows("SELECT p, c FROM t WHERE p IN (1, 17, 33)").rows;
    CHECK(in.size() == 75);
    CHECK(all_pages(f, "SELECT p, c FROM t WHERE p IN (1, 17, 33)", 7) == in);
    // filtering
    auto filtered = f.rows("SELECT p, c FROM t WHERE c = 3 ALLOW FILTERING").rows;
    CHECK(filtered.size() == 40);
    CHECK(all_pages(f, "SELECT p, c FROM t WHERE c = 3 ALLOW FILTERING", 7) == filtered);
    // LIMIT and PER PARTITION LIMIT carry across pages
    auto limited = f.rows("SELECT p, c FROM t PER PARTITION LIMIT 3 LIMIT 50").rows;
    CHECK(limited.size() == 50);
    CHECK(all_pages(f, "SELECT p, c FROM t PER PARTITION LIMIT 3 LIMIT 50", 7) == limited);
    // bound values
    auto bound = f.rows("SELECT c FROM t WHERE p = ?", {int_bytes(5)}).rows;
    CHECK(all_pages(f, "SELECT c FROM t WHERE p = ?", 4, {int_bytes(5)}) == bound);
}

TEST_CASE("paging state edge cases", "[engine][paging]") {
    fixture f;
    f.setup_ks();
    f.ok("CREATE TABLE t (k int PRIMARY KEY, v int)");
    for (int k = 0; k < 10; ++k)
        f.ok("INSERT INTO t (k, v) VALUES (?, ?)", {int_bytes(k), int_bytes(k)});
    // exactly one full page: Cassandra still returns a paging state, and then an empty page
    auto r = f.q("SELECT k FROM t", {}, 10);
    CHECK(std::get<rows_result>(r).rows.size() == 10);
    REQUIRE(std::get<rows_result>(r).paging_state);
    r = f.q("SELECT k FROM t", {}, 10, std::get<rows_result>(r).paging_state);
    CHECK(std::get<rows_result>(r).rows.empty());
    CHECK(!std::get<rows_result>(r).paging_state);
    // a LIMIT reached on a full page ends the query
    r = f.q("SELECT k FROM t LIMIT 3", {}, 3);
    CHECK(!std::get<rows_result>(r).paging_state);
    r = f.q("SELECT k FROM t", {}, 3);
    auto state = std::get<rows_result>(r).paging_state;
    REQUIRE(state);
    // a paging state from another query is an error, not undefined behaviour
    auto e = f.q("SELECT v FROM t", {}, 3, state);
    REQUIRE(std::holds_alternative<error>(e));
    CHECK(std::get<error>(e).code == error_code::protocol_error);
    // garbage paging state
    e = f.q("SELECT k FROM t", {}, 3, byte_buffer{1, 2, 3});
    REQUIRE(std::holds_alternative<error>(e));
    CHECK(std::get<error>(e).code == error_code::protocol_error);
    // truncated versions of a valid state are rejected too
    for (std::size_t n = 0; n < state->size(); ++n) {
        byte_buffer cut(state->begin(), state->begin() + static_cast<std::ptrdiff_t>(n));
        CHECK(std::holds_alternative<error>(f.q("SELECT k FROM t", {}, 3, cut)));
    }
    // rows deleted between pages: resumes after the last returned position
    auto first = std::get<rows_result>(f.q("SELECT k FROM t", {}, 3));
    f.ok("DELETE FROM t WHERE k = ?", {*first.rows[2][0]});
    auto second = std::get<rows_result>(f.q("SELECT k FROM t", {}, 3, first.paging_state));
    auto all = f.rows("SELECT k FROM t").rows;
    REQUIRE(all.size() == 9);
    CHECK(second.rows[0] == all[2]);
}
