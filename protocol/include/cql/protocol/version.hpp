#pragma once
// Protocol versions and consistency levels: the small enums every message uses.

#include <cstdint>
#include <string_view>

namespace cql::protocol {

enum class protocol_version : std::uint8_t { v3 = 3, v4 = 4, v5 = 5 };

inline constexpr bool is_supported_version(std::uint8_t v) noexcept {
    return v >= 3 && v <= 5;
}

enum class consistency : std::uint16_t {
    any = 0x0000,
    one = 0x0001,
    two = 0x0002,
    three = 0x0003,
    quorum = 0x0004,
    all = 0x0005,
    local_quorum = 0x0006,
    each_quorum = 0x0007,
    serial = 0x0008,
    local_serial = 0x0009,
    local_one = 0x000A,
};

inline constexpr bool is_valid_consistency(std::uint16_t c) noexcept {
    return c <= 0x000A;
}

/// Upper-case names as Cassandra prints them ("LOCAL_QUORUM").
std::string_view to_string(consistency c) noexcept;

}  // namespace cql::protocol
