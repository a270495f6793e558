#pragma once
// CQL data types: the [option] descriptions found in result and prepared metadata,
// Cassandra's marshal class names (custom types, VectorType, ...) and CQL type syntax
// ("frozen<map<text, int>>") as used in DDL and system_schema.

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "cql/protocol/bytes.hpp"

namespace cql::protocol {

enum class type_id : std::uint16_t {
    custom = 0x0000,
    ascii = 0x0001,
    bigint = 0x0002,
    blob = 0x0003,
    boolean = 0x0004,
    counter = 0x0005,
    decimal = 0x0006,
    double_ = 0x0007,
    float_ = 0x0008,
    int_ = 0x0009,
    timestamp = 0x000B,
    uuid = 0x000C,
    varchar = 0x000D,
    varint = 0x000E,
    timeuuid = 0x000F,
    inet = 0x0010,
    date = 0x0011,
    time = 0x0012,
    smallint = 0x0013,
    tinyint = 0x0014,
    duration = 0x0015,
    list = 0x0020,
    map = 0x0021,
    set = 0x0022,
    udt = 0x0030,
    tuple = 0x0031,
    /// Not a wire id: a custom type whose class is VectorType(elem, n). It travels as
    /// `custom` with the class name kept in `custom_class`, so it re-encodes identically.
    vector = 0xFFFF,
};

/// A CQL type as the protocol describes it ([option] in the spec), with its parameters.
struct data_type {
    type_id id = type_id::blob;  ///< the type's id (vector: see type_id::vector)
    /// list/set: {element}; map: {key, value}; tuple: elements; udt: field types;
    /// vector: {element}.
    std::vector<data_type> params;
    std::string custom_class;              ///< custom and vector: the marshal class name
    std::string keyspace;                  ///< udt
    std::string name;                      ///< udt
    std::vector<std::string> field_names;  ///< udt, parallel to params
    std::uint32_t dimension = 0;           ///< vector
    bool frozen = false;                   ///< CQL syntax only; not on the wire

    data_type() = default;
    /// A type without parameters.
    explicit data_type(type_id t) : id(t) {}

    friend bool operator==(const data_type&, const data_type&) = default;
};

/// Convenience constructors.
data_type list_of(data_type element);
data_type set_of(data_type element);
data_type map_of(data_type key, data_type value);
data_type tuple_of(std::vector<data_type> elements);
data_type vector_of(data_type element, std::uint32_t dimension);

/// Deepest nesting accepted from the wire or from text; beyond it decoding fails with
/// type_nesting_too_deep instead of recursing without bound.
inline constexpr int max_type_depth = 32;

/// [option] as in result metadata. Reading a custom type whose class is a VectorType
/// yields type_id::vector with its element type and dimension.
void read_type_option(byte_reader& r, data_type& out);
void write_type_option(byte_writer& w, const data_type& t);

/// Cassandra marshal class names, e.g. "org.apache.cassandra.db.marshal.Int32Type",
/// "org.apache.cassandra.db.marshal.VectorType(org.apache.cassandra.db.marshal.FloatType,3)".
std::error_code parse_marshal_class(std::string_view cls, data_type& out);
std::string to_marshal_class(const data_type& t);

/// CQL type syntax: "int", "text", "frozen<list<int>>", "map<text, frozen<tuple<int, text>>>",
/// "vector<float, 3>". A bare identifier that is not a native type is a UDT name (its
/// fields are unknown here: the caller resolves it against its schema).
std::error_code parse_cql_type(std::string_view text, data_type& out);
/// The form Cassandra writes into system_schema (e.g. "frozen<map<text, int>>").
std::string to_cql_string(const data_type& t);

/// Serialized size in bytes of a value of this type when that size is fixed
/// (int: 4, uuid: 16, ...), 0 when it varies. Vectors of fixed-size elements use it.
std::size_t fixed_value_size(const data_type& t) noexcept;

/// A custom type whose class names a type we know (protocol v4 sends duration as the
/// custom type org.apache.cassandra.db.marshal.DurationType; VectorType(...)) as that
/// type; any other type unchanged. Cells of both forms have the same bytes.
data_type resolve_custom(const data_type& t);

bool is_collection(const data_type& t) noexcept;

}  // namespace cql::protocol
