#pragma once
// Cassandra's Murmur3Partitioner: MurmurHash3 x64 128-bit (seed 0) with Cassandra's
// quirk of sign-extending the tail bytes (they are Java bytes), the first 64 bits taken
// as a signed token, and Long.MIN_VALUE mapped to Long.MAX_VALUE (MIN is not a valid
// token).

#include <array>
#include <cstdint>
#include <initializer_list>

#include "cql/protocol/bytes.hpp"

namespace cql::protocol {

/// The two 64-bit halves of Cassandra's variant of MurmurHash3_x64_128.
std::array<std::uint64_t, 2> cassandra_murmur3_128(bytes_view data,
                                                   std::uint64_t seed = 0) noexcept;

/// Token of a serialized partition key (for a composite key: the composite encoding).
std::int64_t murmur3_token(bytes_view partition_key) noexcept;

/// Composite encoding of a multi-component partition key: for each component a 2-byte
/// big-endian length, the bytes, then a 0 byte. A single-component key is used as is.
byte_buffer composite_partition_key(std::initializer_list<bytes_view> components);
void append_composite_component(byte_buffer& out, bytes_view component);

}  // namespace cql::protocol
