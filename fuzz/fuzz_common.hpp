#pragma once
// Helpers shared by the fuzz targets.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "cql/protocol/bytes.hpp"

namespace cql::fuzz {

// A property the code under test must keep; a violation is a finding.
#define CQL_FUZZ_CHECK(cond)                                                                   \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            std::fprintf(stderr, "%s:%d: property violated: %s\n", __FILE__, __LINE__, #cond); \
            std::abort();                                                                      \
        }                                                                                      \
    } while (0)

// Chunk sizes for feeding a stream in pieces, from a seed byte of the input: small pieces
// (1..16 bytes) most of the time, sometimes large ones.
class chunker {
  public:
    explicit chunker(std::uint8_t seed) noexcept : state_(seed * 2654435761u + 1u) {}
    std::size_t next() noexcept {
        state_ = state_ * 1103515245u + 12345u;
        auto r = (state_ >> 16) & 0x7FFF;
        if (r % 8 == 0) return 1 + r % 4096;
        return 1 + r % 16;
    }

  private:
    std::uint32_t state_;
};

// Hands `in` to a decoder that works in place, as a connection's read buffer does: in pieces
// of the chunker's sizes appended to one buffer, `decode(unconsumed, used)` seeing what earlier
// calls left plus the new piece and setting `used` to the bytes it took. It returns false to
// stop.
template <class Decode>
void decode_in_pieces(protocol::bytes_view in, std::uint8_t seed, Decode&& decode) {
    protocol::byte_buffer buf;
    std::size_t begin = 0;
    chunker chunks(seed);
    for (std::size_t pos = 0; pos < in.size();) {
        auto n = chunks.next();
        if (n > in.size() - pos) n = in.size() - pos;
        buf.insert(buf.end(), in.begin() + static_cast<std::ptrdiff_t>(pos),
                   in.begin() + static_cast<std::ptrdiff_t>(pos + n));
        pos += n;
        std::size_t used = 0;
        const bool go_on = decode(protocol::bytes_view(buf).subspan(begin), used);
        begin += used;
        if (!go_on) return;
    }
}

// FNV-1a, to compare frame sequences cheaply.
inline std::uint64_t hash_bytes(const std::uint8_t* p, std::size_t n,
                                std::uint64_t h = 14695981039346656037ull) noexcept {
    for (std::size_t i = 0; i < n; ++i)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

}  // namespace cql::fuzz
