// CQL data types: [option] codec, Cassandra marshal class names and CQL type syntax.
#include "cql/protocol/types.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>

namespace cql::protocol {

namespace {

constexpr std::string_view marshal_prefix = "org.apache.cassandra.db.marshal.";

struct native_name {
    type_id id;
    std::string_view marshal;  // short marshal class name
    std::string_view cql;      // CQL name
};

constexpr std::array<native_name, 21> natives{{
    {type_id::ascii, "AsciiType", "ascii"},
    {type_id::bigint, "LongType", "bigint"},
    {type_id::blob, "BytesType", "blob"},
    {type_id::boolean, "BooleanType", "boolean"},
    {type_id::counter, "CounterColumnType", "counter"},
    {type_id::decimal, "DecimalType", "decimal"},
    {type_id::double_, "DoubleType", "double"},
    {type_id::float_, "FloatType", "float"},
    {type_id::int_, "Int32Type", "int"},
    {type_id::timestamp, "TimestampType", "timestamp"},
    {type_id::uuid, "UUIDType", "uuid"},
    {type_id::varchar, "UTF8Type", "text"},
    {type_id::varint, "IntegerType", "varint"},
    {type_id::timeuuid, "TimeUUIDType", "timeuuid"},
    {type_id::inet, "InetAddressType", "inet"},
    {type_id::date, "SimpleDateType", "date"},
    {type_id::time, "TimeType", "time"},
    {type_id::smallint, "ShortType", "smallint"},
    {type_id::tinyint, "ByteType", "tinyint"},
    {type_id::duration, "DurationType", "duration"},
    {type_id::custom, "", ""},  // sentinel, never matched (empty names are skipped)
}};

const native_name* find_native(type_id id) noexcept {
    for (const auto& n : natives)
        if (n.id == id && !n.marshal.empty()) return &n;
    return nullptr;
}

bool is_native_id(std::uint16_t id) noexcept {
    return (id >= 0x0001 && id <= 0x0015 && id != 0x000A);
}

void read_option(byte_reader& r, data_type& out, int depth) {
    if (depth > max_type_depth) {
        r.fail(codec_errc::type_nesting_too_deep);
        return;
    }
    out = data_type{};
    auto id = r.u16();
    if (!r.ok()) return;
    if (is_native_id(id)) {
        out.id = static_cast<type_id>(id);
        return;
    }
    switch (id) {
        case 0x0000: {
            auto cls = r.string();
            if (!r.ok()) return;
            out.id = type_id::custom;
            out.custom_class = std::string(cls);
            // A VectorType travels as a custom type; expose it as a vector.
            auto short_name =
                cls.starts_with(marshal_prefix) ? cls.substr(marshal_prefix.size()) : cls;
            if (short_name.starts_with("VectorType(")) {
                data_type v;
                if (!parse_marshal_class(cls, v) && v.id == type_id::vector) {
                    out = std::move(v);
                    out.custom_class = std::string(cls);
                }
            }
            return;
        }
        case 0x0020:
        case 0x0022:
            out.id = static_cast<type_id>(id);
            out.params.resize(1);
            read_option(r, out.params[0], depth + 1);
            return;
        case 0x0021:
            out.id = type_id::map;
            out.params.resize(2);
            read_option(r, out.params[0], depth + 1);
            read_option(r, out.params[1], depth + 1);
            return;
        case 0x0030: {
            out.id = type_id::udt;
            out.keyspace = std::string(r.string());
            out.name = std::string(r.string());
            auto n = r.u16();
            // Every field needs at least a [string] (2 bytes) and an [option] (2 bytes).
            if (!r.plausible_count(n, 4)) return;
            out.params.resize(n);
            out.field_names.resize(n);
            for (std::size_t i = 0; i < n && r.ok(); ++i) {
                out.field_names[i] = std::string(r.string());
                read_option(r, out.params[i], depth + 1);
            }
            return;
        }
        case 0x0031: {
            out.id = type_id::tuple;
            auto n = r.u16();
            if (!r.plausible_count(n, 2)) return;
            out.params.resize(n);
            for (std::size_t i = 0; i < n && r.ok(); ++i)
                read_option(r, out.params[i], depth + 1);
            return;
        }
        default:
            r.fail(codec_errc::unknown_type);
            return;
    }
}

// ---------------------------------------------------------------------------------
// Marshal class parser (the grammar of Cassandra's TypeParser).

bool is_marshal_ident_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '+' || c == '.' || c == '_' || c == '&' || c == '$';
}

struct marshal_parser {
    std::string_view s;
    std::size_t pos = 0;

    void skip_blank() noexcept {
        while (pos < s.size() &&
               (s[pos] == ' ' || s[pos] == '\t' || s[pos] == '\n' || s[pos] == '\r'))
            ++pos;
    }
    bool at(char c) noexcept {
        skip_blank();
        return pos < s.size() && s[pos] == c;
    }
    bool eat(char c) noexcept {
        if (!at(c)) return false;
        ++pos;
        return true;
    }
    std::string_view ident() noexcept {
        skip_blank();
        auto start = pos;
        while (pos < s.size() && is_marshal_ident_char(s[pos]))
            ++pos;
        return s.substr(start, pos - start);
    }
    // Skips a balanced parenthesised group starting at '(' (already checked).
    bool skip_group() noexcept {
        int level = 0;
        while (pos < s.size()) {
            char c = s[pos++];
            if (c == '(')
                ++level;
            else if (c == ')') {
                if (--level == 0) return true;
            }
        }
        return false;
    }

    std::error_code parse(data_type& out, int depth) {
        if (depth > max_type_depth) return codec_errc::type_nesting_too_deep;
        out = data_type{};
        skip_blank();
        auto start = pos;
        auto name = ident();
        if (name.empty()) return codec_errc::invalid_value;
        auto short_name =
            name.starts_with(marshal_prefix) ? name.substr(marshal_prefix.size()) : name;
        // A fully qualified class from another package is never one of ours.
        bool ours = short_name.find('.') == std::string_view::npos;

        if (ours) {
            for (const auto& n : natives) {
                if (!n.marshal.empty() && n.marshal == short_name) {
                    out.id = n.id;
                    return {};
                }
            }
            if (short_name == "DateType") {  // legacy timestamp
                out.id = type_id::timestamp;
                return {};
            }
            if (short_name == "ListType" || short_name == "SetType" || short_name == "MapType" ||
                short_name == "FrozenType" || short_name == "ReversedType") {
                std::size_t arity = short_name == "MapType" ? 2 : 1;
                if (!eat('(')) return codec_errc::invalid_value;
                std::vector<data_type> params(arity);
                for (std::size_t i = 0; i < arity; ++i) {
                    if (i > 0 && !eat(',')) return codec_errc::invalid_value;
                    if (auto ec = parse(params[i], depth + 1)) return ec;
                }
                if (!eat(')')) return codec_errc::invalid_value;
                if (short_name == "FrozenType" || short_name == "ReversedType") {
                    out = std::move(params[0]);
                    if (short_name == "FrozenType") out.frozen = true;
                    return {};
                }
                out.id = short_name == "ListType"  ? type_id::list
                         : short_name == "SetType" ? type_id::set
                                                   : type_id::map;
                out.params = std::move(params);
                return {};
            }
            if (short_name == "TupleType") {
                out.id = type_id::tuple;
                if (!eat('(')) return codec_errc::invalid_value;
                if (eat(')')) return {};
                do {
                    out.params.emplace_back();
                    if (auto ec = parse(out.params.back(), depth + 1)) return ec;
                } while (eat(','));
                if (!eat(')')) return codec_errc::invalid_value;
                return {};
            }
            if (short_name == "VectorType") {
                out.id = type_id::vector;
                if (!eat('(')) return codec_errc::invalid_value;
                out.params.resize(1);
                if (auto ec = parse(out.params[0], depth + 1)) return ec;
                if (!eat(',')) return codec_errc::invalid_value;
                auto num = ident();
                std::uint32_t dim = 0;
                auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), dim);
                if (num.empty() || ec != std::errc{} || p != num.data() + num.size() || dim == 0)
                    return codec_errc::invalid_value;
                out.dimension = dim;
                if (!eat(')')) return codec_errc::invalid_value;
                return {};
            }
            if (short_name == "UserType") {
                out.id = type_id::udt;
                if (!eat('(')) return codec_errc::invalid_value;
                out.keyspace = std::string(ident());
                if (out.keyspace.empty() || !eat(',')) return codec_errc::invalid_value;
                if (!hex_decode(ident(), out.name)) return codec_errc::invalid_value;
                while (eat(',')) {
                    std::string field;
                    if (!hex_decode(ident(), field)) return codec_errc::invalid_value;
                    if (!eat(':')) return codec_errc::invalid_value;
                    out.field_names.push_back(std::move(field));
                    out.params.emplace_back();
                    if (auto ec = parse(out.params.back(), depth + 1)) return ec;
                }
                if (!eat(')')) return codec_errc::invalid_value;
                return {};
            }
        }
        // Any other class (CompositeType(...), a user's own type, ...) stays custom,
        // parameters and all.
        skip_blank();
        if (pos < s.size() && s[pos] == '(') {
            if (!skip_group()) return codec_errc::invalid_value;
        }
        out.id = type_id::custom;
        out.custom_class = std::string(s.substr(start, pos - start));
        return {};
    }

    static bool hex_decode(std::string_view hex, std::string& out) {
        if (hex.size() % 2 != 0) return false;
        out.clear();
        out.reserve(hex.size() / 2);
        auto nibble = [](char c) -> int {
            if (c >= '0' && c <= '9') return c - '0';
            if (c >= 'a' && c <= 'f') return c - 'a' + 10;
            if (c >= 'A' && c <= 'F') return c - 'A' + 10;
            return -1;
        };
        for (std::size_t i = 0; i < hex.size(); i += 2) {
            int hi = nibble(hex[i]);
            int lo = nibble(hex[i + 1]);
            if (hi < 0 || lo < 0) return false;
            out.push_back(static_cast<char>(hi * 16 + lo));
        }
        return true;
    }
};

void hex_encode(std::string_view in, std::string& out) {
    constexpr char digits[] = "0123456789abcdef";
    for (unsigned char c : in) {
        out.push_back(digits[c >> 4]);
        out.push_back(digits[c & 0xF]);
    }
}

bool freezable(const data_type& t) noexcept {
    return t.id == type_id::list || t.id == type_id::set || t.id == type_id::map ||
           t.id == type_id::udt;
}

// Cassandra's AbstractType.toString(ignoreFreezing): a frozen collection or UDT is
// wrapped in FrozenType(...) unless an enclosing frozen type already says so. A type
// nested in another is always frozen in Cassandra (collections may only hold frozen
// collections and UDTs; tuples and vectors freeze their elements), whatever its flag.
void append_marshal(const data_type& t, std::string& out, bool ignore_freezing, bool nested) {
    if (auto* n = find_native(t.id)) {
        out += marshal_prefix;
        out += n->marshal;
        return;
    }
    const bool frozen = (t.frozen || nested) && freezable(t);
    const bool wrap = !ignore_freezing && frozen;
    if (wrap) {
        out += marshal_prefix;
        out += "FrozenType(";
    }
    // Inside a frozen type every nested type is frozen as well and not marked again.
    const bool inner_ignore = ignore_freezing || frozen;
    switch (t.id) {
        case type_id::list:
        case type_id::set:
        case type_id::map: {
            out += marshal_prefix;
            out += t.id == type_id::list  ? "ListType("
                   : t.id == type_id::set ? "SetType("
                                          : "MapType(";
            for (std::size_t i = 0; i < t.params.size(); ++i) {
                if (i) out += ',';
                append_marshal(t.params[i], out, inner_ignore, true);
            }
            out += ')';
            break;
        }
        case type_id::tuple: {
            out += marshal_prefix;
            out += "TupleType(";
            for (std::size_t i = 0; i < t.params.size(); ++i) {
                if (i) out += ',';
                append_marshal(t.params[i], out, t.id == type_id::tuple || inner_ignore, true);
            }
            out += ')';
            break;
        }
        case type_id::udt: {
            out += marshal_prefix;
            out += "UserType(";
            out += t.keyspace;
            out += ',';
            hex_encode(t.name, out);
            for (std::size_t i = 0; i < t.params.size(); ++i) {
                out += ',';
                hex_encode(i < t.field_names.size() ? std::string_view(t.field_names[i])
                                                    : std::string_view{},
                           out);
                out += ':';
                append_marshal(t.params[i], out, t.id == type_id::tuple || inner_ignore, true);
            }
            out += ')';
            break;
        }
        case type_id::vector: {
            out += marshal_prefix;
            out += "VectorType(";
            if (!t.params.empty()) append_marshal(t.params[0], out, ignore_freezing, true);
            // Cassandra's TypeParser.stringifyVectorParameters writes " , ".
            out += " , ";
            out += std::to_string(t.dimension);
            out += ')';
            break;
        }
        default:  // custom (and anything unknown)
            out += t.custom_class;
            break;
    }
    if (wrap) out += ')';
}

// ---------------------------------------------------------------------------------
// CQL type syntax.

bool is_ident_start(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_ident_char(char c) noexcept {
    return is_ident_start(c) || (c >= '0' && c <= '9') || c == '_';
}
char lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

struct cql_parser {
    std::string_view s;
    std::size_t pos = 0;

    void skip_blank() noexcept {
        while (pos < s.size() &&
               (s[pos] == ' ' || s[pos] == '\t' || s[pos] == '\n' || s[pos] == '\r'))
            ++pos;
    }
    bool eat(char c) noexcept {
        skip_blank();
        if (pos < s.size() && s[pos] == c) {
            ++pos;
            return true;
        }
        return false;
    }
    // An identifier: unquoted ones are case-insensitive (lower-cased), "Quoted" ones keep
    // their case with "" for a quote. Sets quoted accordingly.
    bool identifier(std::string& out, bool& quoted) {
        skip_blank();
        out.clear();
        quoted = false;
        if (pos < s.size() && s[pos] == '"') {
            quoted = true;
            ++pos;
            while (pos < s.size()) {
                if (s[pos] == '"') {
                    if (pos + 1 < s.size() && s[pos + 1] == '"') {
                        out.push_back('"');
                        pos += 2;
                        continue;
                    }
                    ++pos;
                    return !out.empty();
                }
                out.push_back(s[pos++]);
            }
            return false;
        }
        if (pos >= s.size() || !is_ident_start(s[pos])) return false;
        while (pos < s.size() && is_ident_char(s[pos]))
            out.push_back(lower(s[pos++]));
        return true;
    }
    bool string_literal(std::string& out) {
        skip_blank();
        if (pos >= s.size() || s[pos] != '\'') return false;
        ++pos;
        out.clear();
        while (pos < s.size()) {
            if (s[pos] == '\'') {
                if (pos + 1 < s.size() && s[pos + 1] == '\'') {
                    out.push_back('\'');
                    pos += 2;
                    continue;
                }
                ++pos;
                return true;
            }
            out.push_back(s[pos++]);
        }
        return false;
    }

    std::error_code parse(data_type& out, int depth) {
        if (depth > max_type_depth) return codec_errc::type_nesting_too_deep;
        out = data_type{};
        skip_blank();
        if (pos < s.size() && s[pos] == '\'') {
            std::string cls;
            if (!string_literal(cls)) return codec_errc::invalid_value;
            return parse_marshal_class(cls, out);
        }
        std::string word;
        bool quoted = false;
        if (!identifier(word, quoted)) return codec_errc::invalid_value;
        if (!quoted) {
            if (word == "varchar") {
                out.id = type_id::varchar;
                return {};
            }
            for (const auto& n : natives) {
                if (!n.cql.empty() && n.cql == word) {
                    out.id = n.id;
                    return {};
                }
            }
            if (word == "frozen") {
                if (!eat('<')) return codec_errc::invalid_value;
                if (auto ec = parse(out, depth + 1)) return ec;
                out.frozen = true;
                if (!eat('>')) return codec_errc::invalid_value;
                return {};
            }
            if (word == "list" || word == "set" || word == "map" || word == "tuple") {
                skip_blank();
                if (pos < s.size() && s[pos] == '<') {
                    ++pos;
                    out.id = word == "list"  ? type_id::list
                             : word == "set" ? type_id::set
                             : word == "map" ? type_id::map
                                             : type_id::tuple;
                    do {
                        out.params.emplace_back();
                        if (auto ec = parse(out.params.back(), depth + 1)) return ec;
                    } while (eat(','));
                    if (!eat('>')) return codec_errc::invalid_value;
                    std::size_t n = out.params.size();
                    if ((out.id == type_id::list || out.id == type_id::set) && n != 1)
                        return codec_errc::invalid_value;
                    if (out.id == type_id::map && n != 2) return codec_errc::invalid_value;
                    return {};
                }
            }
            if (word == "vector") {
                skip_blank();
                if (pos < s.size() && s[pos] == '<') {
                    ++pos;
                    out.id = type_id::vector;
                    out.params.resize(1);
                    if (auto ec = parse(out.params[0], depth + 1)) return ec;
                    if (!eat(',')) return codec_errc::invalid_value;
                    skip_blank();
                    auto start = pos;
                    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9')
                        ++pos;
                    std::uint32_t dim = 0;
                    auto [p, ec] = std::from_chars(s.data() + start, s.data() + pos, dim);
                    if (start == pos || ec != std::errc{} || dim == 0)
                        return codec_errc::invalid_value;
                    (void)p;
                    out.dimension = dim;
                    if (!eat('>')) return codec_errc::invalid_value;
                    return {};
                }
            }
        }
        // A user-defined type, optionally qualified by its keyspace.
        out.id = type_id::udt;
        if (eat('.')) {
            out.keyspace = std::move(word);
            if (!identifier(word, quoted)) return codec_errc::invalid_value;
        }
        out.name = std::move(word);
        return {};
    }
};

bool needs_quotes(std::string_view name) noexcept {
    if (name.empty() || !(name[0] >= 'a' && name[0] <= 'z')) return true;
    for (char c : name)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return true;
    // Type names that would read back as something else.
    static constexpr std::string_view reserved[] = {
        "ascii",  "bigint",    "blob",     "boolean", "counter", "date",     "decimal",
        "double", "duration",  "float",    "inet",    "int",     "smallint", "text",
        "time",   "timestamp", "timeuuid", "tinyint", "uuid",    "varchar",  "varint",
        "frozen", "list",      "set",      "map",     "tuple",   "vector"};
    return std::find(std::begin(reserved), std::end(reserved), name) != std::end(reserved);
}

void append_quoted_ident(std::string_view name, std::string& out) {
    if (!needs_quotes(name)) {
        out += name;
        return;
    }
    out += '"';
    for (char c : name) {
        if (c == '"') out += '"';
        out += c;
    }
    out += '"';
}

// Cassandra's CQL3Type.toString(): frozen collections and UDTs print as frozen<...>
// (nested ones always are frozen, see append_marshal), tuples always print as
// frozen<tuple<...>>, vectors never carry frozen<>.
void append_cql(const data_type& t, std::string& out, bool nested) {
    if (auto* n = find_native(t.id)) {
        out += n->cql;
        return;
    }
    const bool wrap = ((t.frozen || nested) && freezable(t)) || t.id == type_id::tuple;
    if (wrap) out += "frozen<";
    switch (t.id) {
        case type_id::list:
        case type_id::set:
        case type_id::map:
        case type_id::tuple:
            out += t.id == type_id::list  ? "list<"
                   : t.id == type_id::set ? "set<"
                   : t.id == type_id::map ? "map<"
                                          : "tuple<";
            for (std::size_t i = 0; i < t.params.size(); ++i) {
                if (i) out += ", ";
                append_cql(t.params[i], out, true);
            }
            out += '>';
            break;
        case type_id::udt:
            append_quoted_ident(t.name, out);
            break;
        case type_id::vector:
            out += "vector<";
            if (!t.params.empty()) append_cql(t.params[0], out, true);
            out += ", ";
            out += std::to_string(t.dimension);
            out += '>';
            break;
        default: {  // custom: a quoted class name
            out += '\'';
            for (char c : t.custom_class) {
                if (c == '\'') out += '\'';
                out += c;
            }
            out += '\'';
            break;
        }
    }
    if (wrap) out += '>';
}

// Vectors keep their marshal class; nested ones built from text get a generated one.
void fill_vector_classes(data_type& t) {
    for (auto& p : t.params)
        fill_vector_classes(p);
    if (t.id == type_id::vector && t.custom_class.empty()) t.custom_class = to_marshal_class(t);
}

}  // namespace

data_type list_of(data_type element) {
    data_type t(type_id::list);
    t.params.push_back(std::move(element));
    return t;
}
data_type set_of(data_type element) {
    data_type t(type_id::set);
    t.params.push_back(std::move(element));
    return t;
}
data_type map_of(data_type key, data_type value) {
    data_type t(type_id::map);
    t.params.push_back(std::move(key));
    t.params.push_back(std::move(value));
    return t;
}
data_type tuple_of(std::vector<data_type> elements) {
    data_type t(type_id::tuple);
    t.params = std::move(elements);
    return t;
}
data_type vector_of(data_type element, std::uint32_t dimension) {
    data_type t(type_id::vector);
    t.params.push_back(std::move(element));
    t.dimension = dimension;
    t.custom_class = to_marshal_class(t);
    return t;
}

void read_type_option(byte_reader& r, data_type& out) {
    read_option(r, out, 1);
}

void write_type_option(byte_writer& w, const data_type& t) {
    switch (t.id) {
        case type_id::custom:
            w.u16(0);
            w.string(t.custom_class);
            return;
        case type_id::vector:
            w.u16(0);
            if (!t.custom_class.empty())
                w.string(t.custom_class);
            else
                w.string(to_marshal_class(t));
            return;
        case type_id::list:
        case type_id::set:
            w.u16(static_cast<std::uint16_t>(t.id));
            if (!t.params.empty())
                write_type_option(w, t.params[0]);
            else
                w.u16(static_cast<std::uint16_t>(type_id::blob));
            return;
        case type_id::map:
            w.u16(static_cast<std::uint16_t>(t.id));
            for (std::size_t i = 0; i < 2; ++i) {
                if (i < t.params.size())
                    write_type_option(w, t.params[i]);
                else
                    w.u16(static_cast<std::uint16_t>(type_id::blob));
            }
            return;
        case type_id::udt:
            w.u16(static_cast<std::uint16_t>(t.id));
            w.string(t.keyspace);
            w.string(t.name);
            w.u16(static_cast<std::uint16_t>(t.params.size()));
            for (std::size_t i = 0; i < t.params.size(); ++i) {
                w.string(i < t.field_names.size() ? std::string_view(t.field_names[i])
                                                  : std::string_view{});
                write_type_option(w, t.params[i]);
            }
            return;
        case type_id::tuple:
            w.u16(static_cast<std::uint16_t>(t.id));
            w.u16(static_cast<std::uint16_t>(t.params.size()));
            for (const auto& p : t.params)
                write_type_option(w, p);
            return;
        default:
            w.u16(static_cast<std::uint16_t>(t.id));
            return;
    }
}

std::error_code parse_marshal_class(std::string_view cls, data_type& out) {
    marshal_parser p{cls};
    data_type t;
    if (auto ec = p.parse(t, 1)) return ec;
    p.skip_blank();
    if (p.pos != cls.size()) return codec_errc::invalid_value;
    // A top-level unknown class keeps exactly the text it was given.
    if (t.id == type_id::custom) t.custom_class = std::string(cls);
    if (t.id == type_id::vector) t.custom_class = std::string(cls);
    fill_vector_classes(t);
    out = std::move(t);
    return {};
}

std::string to_marshal_class(const data_type& t) {
    std::string out;
    append_marshal(t, out, false, false);
    return out;
}

std::error_code parse_cql_type(std::string_view text, data_type& out) {
    cql_parser p{text};
    data_type t;
    if (auto ec = p.parse(t, 1)) return ec;
    p.skip_blank();
    if (p.pos != text.size()) return codec_errc::invalid_value;
    fill_vector_classes(t);
    out = std::move(t);
    return {};
}

std::string to_cql_string(const data_type& t) {
    std::string out;
    append_cql(t, out, false);
    return out;
}

std::size_t fixed_value_size(const data_type& t) noexcept {
    switch (t.id) {
        case type_id::boolean:
        case type_id::tinyint:
            return 1;
        case type_id::smallint:
            return 2;
        case type_id::int_:
        case type_id::float_:
        case type_id::date:
            return 4;
        case type_id::bigint:
        case type_id::counter:
        case type_id::double_:
        case type_id::timestamp:
        case type_id::time:
            return 8;
        case type_id::uuid:
        case type_id::timeuuid:
            return 16;
        case type_id::vector: {
            if (t.params.empty()) return 0;
            auto e = fixed_value_size(t.params[0]);
            if (e == 0 || t.dimension == 0) return 0;
            return e * t.dimension;
        }
        default:
            return 0;
    }
}

data_type resolve_custom(const data_type& t) {
    if (t.id != type_id::custom) return t;
    data_type out;
    if (parse_marshal_class(t.custom_class, out) || out.id == type_id::custom) return t;
    return out;
}

bool is_collection(const data_type& t) noexcept {
    return t.id == type_id::list || t.id == type_id::set || t.id == type_id::map;
}

}  // namespace cql::protocol
