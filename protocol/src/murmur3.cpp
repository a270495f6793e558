#include "cql/protocol/murmur3.hpp"

#include <limits>

namespace cql::protocol {

namespace {

constexpr std::uint64_t c1 = 0x87c37b91114253d5ULL;
constexpr std::uint64_t c2 = 0x4cf5ad432745937fULL;

constexpr std::uint64_t rotl(std::uint64_t x, int r) noexcept {
    return (x << r) | (x >> (64 - r));
}

constexpr std::uint64_t fmix(std::uint64_t k) noexcept {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
}

std::uint64_t block(bytes_view d, std::size_t at) noexcept {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i)
        v = (v << 8) | d[at + static_cast<std::size_t>(i)];
    return v;
}

// A tail byte as Java sees it: signed, so widened with sign extension.
std::uint64_t sext(std::uint8_t b) noexcept {
    return static_cast<std::uint64_t>(static_cast<std::int64_t>(static_cast<std::int8_t>(b)));
}

}  // namespace

std::array<std::uint64_t, 2> cassandra_murmur3_128(bytes_view data, std::uint64_t seed) noexcept {
    const std::size_t len = data.size();
    const std::size_t nblocks = len / 16;
    std::uint64_t h1 = seed;
    std::uint64_t h2 = seed;

    for (std::size_t i = 0; i < nblocks; ++i) {
        std::uint64_t k1 = block(data, i * 16);
        std::uint64_t k2 = block(data, i * 16 + 8);
        k1 *= c1;
        k1 = rotl(k1, 31);
        k1 *= c2;
        h1 ^= k1;
        h1 = rotl(h1, 27);
        h1 += h2;
        h1 = h1 * 5 + 0x52dce729;
        k2 *= c2;
        k2 = rotl(k2, 33);
        k2 *= c1;
        h2 ^= k2;
        h2 = rotl(h2, 31);
        h2 += h1;
        h2 = h2 * 5 + 0x38495ab5;
    }

    const std::size_t tail = nblocks * 16;
    std::uint64_t k1 = 0;
    std::uint64_t k2 = 0;
    switch (len & 15) {
        case 15:
            k2 ^= sext(data[tail + 14]) << 48;
            [[fallthrough]];
        case 14:
            k2 ^= sext(data[tail + 13]) << 40;
            [[fallthrough]];
        case 13:
            k2 ^= sext(data[tail + 12]) << 32;
            [[fallthrough]];
        case 12:
            k2 ^= sext(data[tail + 11]) << 24;
            [[fallthrough]];
        case 11:
            k2 ^= sext(data[tail + 10]) << 16;
            [[fallthrough]];
        case 10:
            k2 ^= sext(data[tail + 9]) << 8;
            [[fallthrough]];
        case 9:
            k2 ^= sext(data[tail + 8]);
            k2 *= c2;
            k2 = rotl(k2, 33);
            k2 *= c1;
            h2 ^= k2;
            [[fallthrough]];
        case 8:
            k1 ^= sext(data[tail + 7]) << 56;
            [[fallthrough]];
        case 7:
            k1 ^= sext(data[tail + 6]) << 48;
            [[fallthrough]];
        case 6:
            k1 ^= sext(data[tail + 5]) << 40;
            [[fallthrough]];
        case 5:
            k1 ^= sext(data[tail + 4]) << 32;
            [[fallthrough]];
        case 4:
            k1 ^= sext(data[tail + 3]) << 24;
            [[fallthrough]];
        case 3:
            k1 ^= sext(data[tail + 2]) << 16;
            [[fallthrough]];
        case 2:
            k1 ^= sext(data[tail + 1]) << 8;
            [[fallthrough]];
        case 1:
            k1 ^= sext(data[tail]);
            k1 *= c1;
            k1 = rotl(k1, 31);
            k1 *= c2;
            h1 ^= k1;
            break;
        default:
            break;
    }

    h1 ^= len;
    h2 ^= len;
    h1 += h2;
    h2 += h1;
    h1 = fmix(h1);
    h2 = fmix(h2);
    h1 += h2;
    h2 += h1;
    return {h1, h2};
}

std::int64_t murmur3_token(bytes_view partition_key) noexcept {
    auto h = cassandra_murmur3_128(partition_key);
    auto t = static_cast<std::int64_t>(h[0]);
    if (t == std::numeric_limits<std::int64_t>::min())
        return std::numeric_limits<std::int64_t>::max();
    return t;
}

void append_composite_component(byte_buffer& out, bytes_view component) {
    out.push_back(static_cast<std::uint8_t>(component.size() >> 8));
    out.push_back(static_cast<std::uint8_t>(component.size()));
    out.insert(out.end(), component.begin(), component.end());
    out.push_back(0);
}

byte_buffer composite_partition_key(std::initializer_list<bytes_view> components) {
    byte_buffer out;
    if (components.size() == 1) {
        auto c = *components.begin();
        out.assign(c.begin(), c.end());
        return out;
    }
    for (auto c : components)
        append_composite_component(out, c);
    return out;
}

}  // namespace cql::protocol
