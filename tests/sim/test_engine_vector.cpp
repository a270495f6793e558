// Vector search: ORDER BY v ANN OF [...] LIMIT n and the similarity_* selectors on
// vector<float, n> columns, with Cassandra 5's formulas (jvector's compare):
// cosine (1 + cos) / 2, dot product (1 + a.b) / 2, euclidean 1 / (1 + |a - b|^2).
#include <cmath>
#include <cstring>

#include "sim_fixture.hpp"

using namespace simtest;

namespace {

byte_buffer float_vector_bytes(std::initializer_list<float> fs) {
    byte_buffer b;
    for (float f : fs) {
        std::uint32_t u;
        std::memcpy(&u, &f, 4);
        for (int s = 24; s >= 0; s -= 8)
            b.push_back(static_cast<std::uint8_t>(u >> s));
    }
    return b;
}

float as_float(const std::optional<byte_buffer>& cell) {
    REQUIRE(cell);
    REQUIRE(cell->size() == 4);
    std::uint32_t u = 0;
    for (auto byte : *cell)
        u = (u << 8) | byte;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

std::vector<std::string> first_column(const rows_result& r) {
    std::vector<std::string> out;
    for (const auto& row : fixture::render(r))
        out.push_back(row.at(0));
    return out;
}

void make_items(fixture& f) {
    f.setup_ks();
    f.ok(
        "CREATE TABLE items (id int PRIMARY KEY, v vector<float, 2>, w vector<float, 2>, "
        "v3 vector<float, 3>, vi vector<int, 2>, name text)");
    f.ok("INSERT INTO items (id, v, w) VALUES (1, [1, 0], [1, 0])");
    f.ok("INSERT INTO items (id, v, w) VALUES (2, [0, 1], [1, 0])");
    f.ok("INSERT INTO items (id, v, w) VALUES (3, [1, 1], [1, 0])");
    f.ok("INSERT INTO items (id, v, w) VALUES (4, [-1, 0], [1, 0])");
    f.ok("INSERT INTO items (id, name) VALUES (5, 'no vector')");
}

}  // namespace

TEST_CASE("ORDER BY ANN OF returns the nearest rows by cosine similarity", "[engine][vector]") {
    fixture f;
    make_items(f);
    // cosine with [1, 0]: id 1 -> 1, id 3 -> (1 + 1/sqrt 2) / 2, id 2 -> 0.5, id 4 -> 0
    CHECK(first_column(f.rows("SELECT id FROM items ORDER BY v ANN OF [1, 0] LIMIT 3")) ==
          std::vector<std::string>{"1", "3", "2"});
    CHECK(first_column(f.rows("SELECT id FROM items ORDER BY v ANN OF [1.0, 0.0] LIMIT 1")) ==
          std::vector<std::string>{"1"});
    // Rows without a vector are not candidates.
    CHECK(first_column(f.rows("SELECT id FROM items ORDER BY v ANN OF [0.1, 1] LIMIT 10")) ==
          std::vector<std::string>{"2", "3", "1", "4"});
    // A bind marker for the vector and for the limit.
    CHECK(first_column(f.rows("SELECT id FROM items ORDER BY v ANN OF ? LIMIT ?",
                              {float_vector_bytes({-1, 0.5f}), int_bytes(2)})) ==
          std::vector<std::string>{"4", "2"});
    // With a partition key restriction, only that partition.
    CHECK(first_column(f.rows("SELECT id FROM items WHERE id = 2 ORDER BY v ANN OF [1, 0] "
                              "LIMIT 5")) == std::vector<std::string>{"2"});
}

TEST_CASE("ANN: prepared, and paging does not split the top rows", "[engine][vector]") {
    fixture f;
    make_items(f);
    auto p = f.e.prepare(f.s, "SELECT id, name FROM items ORDER BY v ANN OF ? LIMIT 3");
    REQUIRE(std::holds_alternative<prepared_result>(p));
    const auto& pr = std::get<prepared_result>(p);
    REQUIRE(pr.bind_variables.size() == 1);
    CHECK(pr.bind_variables[0].name == "v");
    CHECK(pr.bind_variables[0].type.id == proto::type_id::vector);
    CHECK(pr.bind_variables[0].type.dimension == 2);
    auto vec = float_vector_bytes({1, 0.9f});
    query_options o;
    o.values.push_back(value_view::of(vec));
    o.page_size = 2;
    auto r = f.e.execute(f.s, pr.id, o);
    REQUIRE(std::holds_alternative<rows_result>(r));
    const auto& rows = std::get<rows_result>(r);
    CHECK(first_column(rows) == std::vector<std::string>{"3", "1", "2"});
    CHECK_FALSE(rows.paging_state);
}

TEST_CASE("ANN errors", "[engine][vector]") {
    fixture f;
    make_items(f);
    CHECK_THAT(f.err("SELECT id FROM items ORDER BY v ANN OF [1, 0]").message,
               Catch::Contains("requires a LIMIT that is not greater than 1000. LIMIT was NO "
                               "LIMIT"));
    CHECK_THAT(f.err("SELECT id FROM items ORDER BY v ANN OF [1, 0] LIMIT 1001").message,
               Catch::Contains("LIMIT was 1001"));
    CHECK_THAT(f.err("SELECT id FROM items ORDER BY name ANN OF [1, 0] LIMIT 1").message,
               Catch::Contains("only supported on float vector"));
    CHECK_THAT(f.err("SELECT id FROM items ORDER BY vi ANN OF [1, 0] LIMIT 1").message,
               Catch::Contains("only supported on float vector"));
    CHECK(f.err("SELECT id FROM items ORDER BY v ANN OF [1, 0, 2] LIMIT 1").code ==
          error_code::invalid);
    CHECK(f.err("SELECT id FROM items ORDER BY v ANN OF [1, 0], id LIMIT 1").code ==
          error_code::syntax_error);
}

TEST_CASE("similarity_cosine, similarity_dot_product, similarity_euclidean", "[engine][vector]") {
    fixture f;
    make_items(f);
    auto r = f.rows(
        "SELECT similarity_cosine(v, [1, 0]), similarity_dot_product(v, [1, 0]), "
        "similarity_euclidean([1, 0], v) AS e FROM items WHERE id = 3");
    REQUIRE(r.rows.size() == 1);
    CHECK(r.columns[0].type.id == proto::type_id::float_);
    CHECK(r.columns[0].name == "system.similarity_cosine(v, ?)");
    CHECK(r.columns[2].name == "e");
    CHECK(as_float(r.rows[0][0]) ==
          Approx(static_cast<float>((1 + 1 / std::sqrt(2.0)) / 2)).epsilon(1e-6));
    CHECK(as_float(r.rows[0][1]) == 1.0f);  // (1 + 1) / 2
    CHECK(as_float(r.rows[0][2]) == 0.5f);  // 1 / (1 + 1)

    r = f.rows(
        "SELECT similarity_cosine(v, w), similarity_dot_product(v, w), "
        "similarity_euclidean(v, w) FROM items WHERE id = 4");
    CHECK(as_float(r.rows[0][0]) == 0.0f);  // (1 - 1) / 2
    CHECK(as_float(r.rows[0][1]) == 0.0f);
    CHECK(as_float(r.rows[0][2]) == 0.2f);  // 1 / (1 + 4)

    // Bind marker, typed after the column; null vectors give null.
    r = f.rows("SELECT similarity_dot_product(v, ?) FROM items WHERE id = 2",
               {float_vector_bytes({3, 2})});
    CHECK(as_float(r.rows.at(0)[0]) == 1.5f);  // (1 + 2) / 2
    r = f.rows("SELECT similarity_dot_product(v, ?) FROM items WHERE id = 5",
               {float_vector_bytes({3, 2})});
    CHECK_FALSE(r.rows.at(0)[0]);
    r = f.rows("SELECT similarity_cosine(v, null) FROM items WHERE id = 1");
    CHECK_FALSE(r.rows[0][0]);

    // Together with ANN, as vector search queries are written.
    r = f.rows(
        "SELECT id, similarity_cosine(v, [0, 1]) FROM items ORDER BY v ANN OF [0, 1] LIMIT 2");
    REQUIRE(r.rows.size() == 2);
    CHECK(as_float(r.rows[0][1]) == 1.0f);
    CHECK(as_float(r.rows[1][1]) ==
          Approx(static_cast<float>((1 + 1 / std::sqrt(2.0)) / 2)).epsilon(1e-6));

    auto p = f.e.prepare(f.s, "SELECT similarity_euclidean(v, ?) FROM items WHERE id = ?");
    REQUIRE(std::holds_alternative<prepared_result>(p));
    const auto& pr = std::get<prepared_result>(p);
    REQUIRE(pr.bind_variables.size() == 2);
    CHECK(pr.bind_variables[0].type.id == proto::type_id::vector);
    CHECK(pr.bind_variables[1].type.id == proto::type_id::int_);
    REQUIRE(pr.result_columns.size() == 1);
    CHECK(pr.result_columns[0].type.id == proto::type_id::float_);
}

TEST_CASE("similarity errors", "[engine][vector]") {
    fixture f;
    make_items(f);
    CHECK_THAT(f.err("SELECT similarity_cosine(name, [1, 0]) FROM items").message,
               Catch::Contains("requires a float vector argument, but found argument name of "
                               "type text"));
    CHECK_THAT(f.err("SELECT similarity_cosine(vi, [1, 0]) FROM items").message,
               Catch::Contains("requires a float vector argument"));
    CHECK_THAT(f.err("SELECT similarity_cosine(v, v3) FROM items").message,
               Catch::Contains("All arguments must have the same vector dimensions"));
    CHECK(f.err("SELECT similarity_cosine(v, [1, 2, 3]) FROM items").code == error_code::invalid);
    CHECK(f.err("SELECT similarity_cosine(?, ?) FROM items").code == error_code::syntax_error);
    CHECK_THAT(f.err("SELECT nosuchfunction(v) FROM items").message,
               Catch::Contains("Unknown function"));
}
