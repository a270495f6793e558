#pragma once
/// \file
/// UUID generators for uuid and timeuuid columns (RFC 9562), as the 16 bytes the codecs take
/// (cql::protocol::uuid_bytes binds to uuid and timeuuid; a timeuuid column takes version 1
/// only).
///
/// \code
///   auto id = cql::uuid_v4();                  // random
///   auto t = cql::timeuuid_now();              // version 1: time + clock sequence + node
///   auto k = cql::uuid_v7();                   // version 7: Unix ms, sortable
///   s.async_execute(cql::statement("INSERT INTO ks.t (id, at) VALUES (?, ?)", id, t), ...);
/// \endcode
///
/// All are safe from any thread. Generated v1 and v7 values increase strictly within the
/// process (a counter breaks ties inside one clock tick).

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "cql/protocol/bytes.hpp"

namespace cql {

/// A UUID as the 16 bytes (network order) that bind to uuid and timeuuid columns and that
/// row_view::get<cql::uuid>() reads. A std::array: call cql::to_string() qualified (ADL
/// does not find it).
using uuid = protocol::uuid_bytes;

/// Version 4: 122 random bits.
uuid uuid_v4();
/// Version 1 (timeuuid) of the current time: 100 ns ticks since 1582-10-15, a random clock
/// sequence and a random node id (multicast bit set, as RFC 9562 asks for random nodes).
uuid timeuuid_now();
/// Version 1 of a given time, with the process's clock sequence and node.
uuid timeuuid_at(std::chrono::system_clock::time_point t);
/// Version 7: 48-bit Unix milliseconds, then random bits (a counter within one ms).
uuid uuid_v7();

/// The version nibble (1, 4, 7, ...).
int uuid_version(const uuid& u) noexcept;
/// The time of a version 1 or version 7 UUID (other versions: the epoch).
std::chrono::system_clock::time_point uuid_time(const uuid& u) noexcept;
/// "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (lower case).
std::string to_string(const uuid& u);
/// Parses the 36-character form to_string() writes (either case); false if malformed.
bool parse_uuid(std::string_view text, uuid& out) noexcept;

}  // namespace cql
