#include <catch2/catch.hpp>

#include <string_view>
#include <vector>

#include "cql/protocol/murmur3.hpp"

using namespace cql::protocol;

namespace {
std::int64_t tok(std::vector<std::uint8_t> b) {
    return murmur3_token(bytes_view{b.data(), b.size()});
}
std::int64_t tok(std::string_view s) {
    return murmur3_token(as_bytes(s));
}
}  // namespace

// Expected tokens are those Cassandra's Murmur3Partitioner gives (as listed by the DataStax
// drivers' token tests, which were computed by Cassandra).
TEST_CASE("murmur3 token: text keys", "[murmur3]") {
    CHECK(tok("123") == -7468325962851647638LL);
    CHECK(tok("9223372036854775807") == 7162290910810015547LL);
    CHECK(tok("") == 0);  // h1 = h2 = 0 for empty input: fmix(0) == 0
}

TEST_CASE("murmur3 token: full blocks", "[murmur3]") {
    CHECK(tok({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}) == -5563837382979743776LL);
    CHECK(tok({2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17}) == -1513403162740402161LL);
    CHECK(tok({3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18}) == -495360443712684655LL);
    CHECK(tok({4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19}) == 1734091135765407943LL);
    CHECK(tok(std::vector<std::uint8_t>(16, 0x00)) == 5457549051747178710LL);
    CHECK(tok(std::vector<std::uint8_t>(16, 0xFF)) == -2824192546314762522LL);
    CHECK(tok(std::vector<std::uint8_t>(16, 0xFE)) == -833317529301936754LL);
    CHECK(tok({0, 1, 2, 3, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255}) ==
          6463632673159404390LL);
}

TEST_CASE("murmur3 token: tails with high bytes are sign-extended", "[murmur3]") {
    CHECK(tok(std::vector<std::uint8_t>(17, 0xFE)) == -1672437813826982685LL);
    CHECK(tok({254, 254, 254, 254}) == 4566408979886474012LL);
    CHECK(tok({0, 0, 0, 0}) == -3485513579396041028LL);
    CHECK(tok({0, 1, 127, 127}) == 6573459401642635627LL);
    CHECK(tok({226, 231, 226, 231, 226, 231, 1}) == 2222373981930033306LL);
    CHECK(tok({0, 0, 0, 0, 0, 0, 0, 0x80}) == 78142285821850151LL);
    CHECK(tok(std::vector<std::uint8_t>(8, 0xFE)) == -8927430733708461935LL);
    CHECK(tok(std::vector<std::uint8_t>(8, 0x10)) == 1446172840243228796LL);
    std::vector<std::uint8_t> fifty;
    for (int i = 0; i < 10; ++i)
        fifty.insert(fifty.end(), {0x00, 0xff, 0x10, 0xfa, 0x99});
    CHECK(tok(fifty) == 5837342703291459765LL);
}

TEST_CASE("murmur3 token: bigint keys", "[murmur3]") {
    CHECK(tok({0, 0, 0, 0, 0, 0, 0, 0}) == 2945182322382062539LL);
    CHECK(tok({0, 0, 0, 0, 0, 0, 0, 1}) == 6292367497774912474LL);
    CHECK(tok(std::vector<std::uint8_t>(8, 0xFF)) == 7071048584287372947LL);
}

TEST_CASE("composite partition key encoding", "[murmur3]") {
    std::vector<std::uint8_t> a{0, 0, 0, 1};
    std::vector<std::uint8_t> b{'x', 'y'};
    auto key = composite_partition_key({bytes_view{a}, bytes_view{b}});
    std::vector<std::uint8_t> expected{0, 4, 0, 0, 0, 1, 0, 0, 2, 'x', 'y', 0};
    CHECK(key == expected);
    auto single = composite_partition_key({bytes_view{a}});
    CHECK(single == a);
    CHECK(murmur3_token(key) == murmur3_token(bytes_view{expected}));
}
