#include "cqlsim/literals.hpp"

#include <arpa/inet.h>

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

namespace cqlsim {

namespace proto = cql::protocol;
using proto::cql_decimal;
using proto::cql_duration;
using proto::cql_varint;
using proto::data_type;
using proto::type_id;
using proto::value;

namespace {

bool all_digits(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    return true;
}

bool parse_int(std::string_view s, std::int64_t& out) {
    bool neg = false;
    if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        s.remove_prefix(1);
    }
    if (!all_digits(s)) return false;
    std::uint64_t v = 0;
    for (char c : s) {
        auto d = static_cast<std::uint64_t>(c - '0');
        if (v > (std::numeric_limits<std::uint64_t>::max() - d) / 10) return false;
        v = v * 10 + d;
    }
    if (neg) {
        if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + 1)
            return false;
        out = static_cast<std::int64_t>(0 - v);
    } else {
        if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return false;
        out = static_cast<std::int64_t>(v);
    }
    return true;
}

// Days since 1970-01-01 of a civil date (proleptic Gregorian).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool read_num(std::string_view s, std::size_t& p, std::size_t n, int& out) {
    if (p + n > s.size()) return false;
    out = 0;
    for (std::size_t i = 0; i < n; ++i) {
        char c = s[p + i];
        if (!std::isdigit(static_cast<unsigned char>(c))) return false;
        out = out * 10 + (c - '0');
    }
    p += n;
    return true;
}

bool parse_date_part(std::string_view s, std::size_t& p, std::int64_t& days) {
    // yyyy-mm-dd (year may have a sign and more digits)
    bool neg = false;
    if (p < s.size() && (s[p] == '-' || s[p] == '+')) {
        neg = s[p] == '-';
        ++p;
    }
    std::size_t start = p;
    while (p < s.size() && std::isdigit(static_cast<unsigned char>(s[p])))
        ++p;
    if (p - start < 1 || p - start > 9) return false;
    std::int64_t year = 0;
    for (std::size_t i = start; i < p; ++i)
        year = year * 10 + (s[i] - '0');
    if (neg) year = -year;
    int month = 0;
    int day = 0;
    if (p >= s.size() || s[p] != '-') return false;
    ++p;
    std::size_t ms = p;
    while (p < s.size() && std::isdigit(static_cast<unsigned char>(s[p])))
        ++p;
    if (p - ms < 1 || p - ms > 2) return false;
    month = std::atoi(std::string(s.substr(ms, p - ms)).c_str());
    if (p >= s.size() || s[p] != '-') return false;
    ++p;
    std::size_t ds = p;
    while (p < s.size() && std::isdigit(static_cast<unsigned char>(s[p])))
        ++p;
    if (p - ds < 1 || p - ds > 2) return false;
    day = std::atoi(std::string(s.substr(ds, p - ds)).c_str());
    if (month < 1 || month > 12 || day < 1 || day > 31) return false;
    static constexpr int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (day > mdays[month - 1]) return false;
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (month == 2 && day == 29 && !leap) return false;
    days = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
    return true;
}

// hh:mm[:ss[.fffffffff]] -> nanoseconds
bool parse_time_part(std::string_view s, std::size_t& p, std::int64_t& nanos,
                     bool require_seconds) {
    int h = 0;
    int m = 0;
    int sec = 0;
    if (!read_num(s, p, 2, h)) {
        // allow a single-digit hour
        int h1 = 0;
        if (!read_num(s, p, 1, h1)) return false;
        h = h1;
    }
    if (p >= s.size() || s[p] != ':') return false;
    ++p;
    if (!read_num(s, p, 2, m)) return false;
    std::int64_t frac = 0;
    if (p < s.size() && s[p] == ':') {
        ++p;
        if (!read_num(s, p, 2, sec)) return false;
        if (p < s.size() && s[p] == '.') {
            ++p;
            std::size_t start = p;
            while (p < s.size() && std::isdigit(static_cast<unsigned char>(s[p])))
                ++p;
            std::size_t n = p - start;
            if (n == 0 || n > 9) return false;
            for (std::size_t i = 0; i < 9; ++i)
                frac = frac * 10 + (i < n ? s[start + i] - '0' : 0);
        }
    } else if (require_seconds) {
        return false;
    }
    if (h > 23 || m > 59 || sec > 59) return false;
    nanos = ((static_cast<std::int64_t>(h) * 60 + m) * 60 + sec) * 1000000000LL + frac;
    return true;
}

std::string upper_kind(ast::term::kind k) {
    using K = ast::term::kind;
    switch (k) {
        case K::string:
            return "STRING";
        case K::integer:
            return "INTEGER";
        case K::floating:
            return "FLOAT";
        case K::uuid:
            return "UUID";
        case K::blob:
            return "HEX";
        case K::boolean:
            return "BOOLEAN";
        case K::duration:
            return "DURATION";
        default:
            return "CONSTANT";
    }
}

std::string type_name(const data_type& t) {
    return proto::to_cql_string(t);
}

std::string quoted_col(std::string_view c) {
    return "\"" + std::string(c) + "\"";
}

struct converter {
    const term_context& ctx;
    std::string_view column;

    std::optional<std::string> invalid_constant(const ast::term& t, const data_type& type) {
        std::string shown = t.text;
        if (t.k == ast::term::kind::blob) shown = "0x" + t.text;
        return "Invalid " + upper_kind(t.k) + " constant (" + shown + ") for " +
               quoted_col(column) + " of type " + type_name(type);
    }

    std::optional<std::string> bound(const ast::term& t, const data_type& type, value& out,
                                     bool& unset) {
        if (!ctx.bound || t.bind_index < 0 ||
            static_cast<std::size_t>(t.bind_index) >= ctx.bound->size())
            return std::string("Invalid unset value for column ") + std::string(column);
        const auto& v = (*ctx.bound)[static_cast<std::size_t>(t.bind_index)];
        if (v.is_unset()) {
            unset = true;
            out = value{};
            return std::nullopt;
        }
        if (v.is_null()) {
            out = value{};
            return std::nullopt;
        }
        if (auto ec = proto::decode_value(type, v.data, out)) return bind_error(type, v.data);
        return std::nullopt;
    }

    std::string bind_error(const data_type& type, proto::bytes_view data) {
        auto fixed = proto::fixed_value_size(type);
        if (fixed != 0 && data.size() != fixed && type.id != type_id::vector)
            return "Expected " + std::to_string(fixed) + " or 0 byte " + type_name(type) + " (" +
                   std::to_string(data.size()) + ")";
        return "Invalid value for column " + std::string(column) + " of type " + type_name(type);
    }

    std::optional<std::string> function(const ast::term& t, const data_type& type, value& out) {
        const auto& f = t.text;
        auto want = [&](std::initializer_list<type_id> ids) {
            for (auto id : ids)
                if (type.id == id) return true;
            return false;
        };
        auto type_error = [&](std::string ret) -> std::optional<std::string> {
            return "Type error: " + f +
                   "() cannot be passed as argument 0 of function... (returns " + ret +
                   ", column " + std::string(column) + " is " + type_name(type) + ")";
        };
        std::int64_t now_ms = ctx.now_micros / 1000;
        if (f == "now" || f == "currenttimeuuid") {
            if (!want({type_id::timeuuid})) return type_error("timeuuid");
            out = ctx.make_timeuuid ? ctx.make_timeuuid() : make_timeuuid(ctx.now_micros, 0, 0);
            return std::nullopt;
        }
        if (f == "uuid") {
            if (!want({type_id::uuid})) return type_error("uuid");
            proto::uuid_bytes u{};
            if (ctx.make_uuid) u = ctx.make_uuid();
            out = u;
            return std::nullopt;
        }
        if (f == "currenttimestamp" ||
            (f == "totimestamp" && t.items.size() == 1 &&
             t.items[0].k == ast::term::kind::function && t.items[0].text == "now")) {
            if (!want({type_id::timestamp})) return type_error("timestamp");
            out = now_ms;
            return std::nullopt;
        }
        if (f == "currentdate" || (f == "todate" && t.items.size() == 1)) {
            if (!want({type_id::date})) return type_error("date");
            std::int64_t days = now_ms >= 0 ? now_ms / 86400000 : (now_ms - 86399999) / 86400000;
            out = days + (std::int64_t{1} << 31);
            return std::nullopt;
        }
        if (f == "currenttime") {
            if (!want({type_id::time})) return type_error("time");
            std::int64_t ms_of_day = ((now_ms % 86400000) + 86400000) % 86400000;
            out = ms_of_day * 1000000;
            return std::nullopt;
        }
        if ((f == "mintimeuuid" || f == "maxtimeuuid") && t.items.size() == 1) {
            if (!want({type_id::timeuuid})) return type_error("timeuuid");
            value ts;
            bool unset = false;
            if (auto e = convert(t.items[0], data_type(type_id::timestamp), ts, unset)) return e;
            auto* ms = std::get_if<std::int64_t>(&ts.v);
            if (!ms) return std::string("Invalid null argument to ") + f;
            auto u = make_timeuuid(*ms * 1000, f == "mintimeuuid" ? 0x8080 : 0x7f7f,
                                   f == "mintimeuuid" ? 0x808080808080ULL : 0x7f7f7f7f7f7fULL);
            out = u;
            return std::nullopt;
        }
        return "Unknown function '" + f + "'";
    }

    std::optional<std::string> convert(const ast::term& t, const data_type& type, value& out,
                                       bool& unset) {
        using K = ast::term::kind;
        unset = false;
        if (t.k == K::bind) return bound(t, type, out, unset);
        if (t.k == K::null) {
            out = value{};
            return std::nullopt;
        }
        if (t.k == K::function) return function(t, type, out);
        switch (type.id) {
            case type_id::ascii:
            case type_id::varchar:
                if (t.k != K::string) return invalid_constant(t, type);
                if (type.id == type_id::ascii)
                    for (unsigned char c : t.text)
                        if (c > 127)
                            return std::string("Invalid ASCII character in string literal");
                out = t.text;
                return std::nullopt;
            case type_id::tinyint:
            case type_id::smallint:
            case type_id::int_:
            case type_id::bigint:
            case type_id::counter: {
                if (t.k != K::integer) return invalid_constant(t, type);
                std::int64_t v = 0;
                std::int64_t lo = std::numeric_limits<std::int64_t>::min();
                std::int64_t hi = std::numeric_limits<std::int64_t>::max();
                if (type.id == type_id::tinyint) {
                    lo = -128;
                    hi = 127;
                } else if (type.id == type_id::smallint) {
                    lo = -32768;
                    hi = 32767;
                } else if (type.id == type_id::int_) {
                    lo = std::numeric_limits<std::int32_t>::min();
                    hi = std::numeric_limits<std::int32_t>::max();
                }
                if (!parse_int(t.text, v) || v < lo || v > hi)
                    return "Unable to make " + type_name(type) + " from '" + t.text + "'";
                out = v;
                return std::nullopt;
            }
            case type_id::varint: {
                if (t.k != K::integer) return invalid_constant(t, type);
                cql_varint v;
                if (!parse_varint_string(t.text, v))
                    return "Unable to make varint from '" + t.text + "'";
                out = std::move(v);
                return std::nullopt;
            }
            case type_id::decimal: {
                if (t.k != K::integer && t.k != K::floating) return invalid_constant(t, type);
                cql_decimal d;
                if (!parse_decimal_string(t.text, d))
                    return "Unable to make decimal from '" + t.text + "'";
                out = std::move(d);
                return std::nullopt;
            }
            case type_id::float_:
            case type_id::double_: {
                if (t.k != K::integer && t.k != K::floating) return invalid_constant(t, type);
                double d = 0;
                if (t.text == "NaN")
                    d = std::numeric_limits<double>::quiet_NaN();
                else if (t.text == "Infinity")
                    d = std::numeric_limits<double>::infinity();
                else if (t.text == "-Infinity")
                    d = -std::numeric_limits<double>::infinity();
                else
                    d = std::strtod(t.text.c_str(), nullptr);
                if (type.id == type_id::float_)
                    out = static_cast<float>(d);
                else
                    out = d;
                return std::nullopt;
            }
            case type_id::boolean:
                if (t.k != K::boolean) return invalid_constant(t, type);
                out = t.text == "true";
                return std::nullopt;
            case type_id::uuid:
            case type_id::timeuuid: {
                if (t.k != K::uuid) return invalid_constant(t, type);
                proto::uuid_bytes u{};
                if (!parse_uuid_string(t.text, u)) return invalid_constant(t, type);
                if (type.id == type_id::timeuuid && (u[6] >> 4) != 1)
                    return "Invalid UUID constant (" + t.text + ") for " + quoted_col(column) +
                           " of type timeuuid";
                out = u;
                return std::nullopt;
            }
            case type_id::blob:
            case type_id::custom: {
                if (t.k != K::blob) return invalid_constant(t, type);
                if (t.text.size() % 2 != 0) return std::string("Hex string is odd length");
                proto::byte_buffer b;
                for (std::size_t i = 0; i < t.text.size(); i += 2)
                    b.push_back(
                        static_cast<std::uint8_t>(std::stoi(t.text.substr(i, 2), nullptr, 16)));
                out = std::move(b);
                return std::nullopt;
            }
            case type_id::timestamp: {
                std::int64_t ms = 0;
                if (t.k == K::integer) {
                    if (!parse_int(t.text, ms))
                        return "Unable to make timestamp from '" + t.text + "'";
                } else if (t.k == K::string) {
                    if (!parse_timestamp_string(t.text, ms))
                        return "Unable to coerce '" + t.text + "' to a formatted date (long)";
                } else {
                    return invalid_constant(t, type);
                }
                out = ms;
                return std::nullopt;
            }
            case type_id::date: {
                std::int64_t d = 0;
                if (t.k == K::integer) {
                    if (!parse_int(t.text, d) || d < 0 || d > 0xFFFFFFFFLL)
                        return "Unable to make date from '" + t.text + "'";
                } else if (t.k == K::string) {
                    if (!parse_date_string(t.text, d))
                        return "Unable to coerce '" + t.text + "' to a formatted date (long)";
                } else {
                    return invalid_constant(t, type);
                }
                out = d;
                return std::nullopt;
            }
            case type_id::time: {
                std::int64_t ns = 0;
                if (t.k == K::integer) {
                    if (!parse_int(t.text, ns) || ns < 0 || ns >= 86400000000000LL)
                        return "Unable to make time from '" + t.text + "'";
                } else if (t.k == K::string) {
                    if (!parse_time_string(t.text, ns))
                        return "Timestamp format must be hh:mm:ss[.fffffffff]";
                } else {
                    return invalid_constant(t, type);
                }
                out = ns;
                return std::nullopt;
            }
            case type_id::inet: {
                if (t.k != K::string) return invalid_constant(t, type);
                proto::inet_address a;
                if (!parse_inet_string(t.text, a))
                    return "Unable to make inet address from '" + t.text + "'";
                out = a;
                return std::nullopt;
            }
            case type_id::duration: {
                if (t.k != K::duration && t.k != K::string) return invalid_constant(t, type);
                cql_duration d;
                if (!parse_duration_literal(t.text, d))
                    return "Unable to convert '" + t.text + "' to a duration";
                out = d;
                return std::nullopt;
            }
            case type_id::list:
            case type_id::vector: {
                if (t.k != K::list)
                    return "Invalid " + literal_name(t) + " literal for " + std::string(column) +
                           " of type " + type_name(type);
                proto::value_list items;
                if (type.id == type_id::vector && t.items.size() != type.dimension)
                    return "Invalid vector literal for " + std::string(column) + " of type " +
                           type_name(type) + "; expected " + std::to_string(type.dimension) +
                           " elements, but given " + std::to_string(t.items.size());
                for (const auto& item : t.items) {
                    value v;
                    bool u = false;
                    if (auto e = convert(item, type.params.at(0), v, u)) return e;
                    if (v.is_null() || u)
                        return std::string("null is not supported inside collections");
                    items.push_back(std::move(v));
                }
                out = std::move(items);
                return std::nullopt;
            }
            case type_id::set: {
                bool empty_map = t.k == K::map && t.items.empty();
                if (t.k != K::set && !empty_map)
                    return "Invalid " + literal_name(t) + " literal for " + std::string(column) +
                           " of type " + type_name(type);
                proto::value_list items;
                for (const auto& item : t.items) {
                    value v;
                    bool u = false;
                    if (auto e = convert(item, type.params.at(0), v, u)) return e;
                    if (v.is_null() || u)
                        return std::string("null is not supported inside collections");
                    items.push_back(std::move(v));
                }
                std::sort(items.begin(), items.end(), [&](const value& a, const value& b) {
                    return proto::compare_values(type.params[0], a, b) < 0;
                });
                items.erase(std::unique(items.begin(), items.end(),
                                        [&](const value& a, const value& b) {
                                            return proto::compare_values(type.params[0], a, b) == 0;
                                        }),
                            items.end());
                out = std::move(items);
                return std::nullopt;
            }
            case type_id::map: {
                if (t.k != K::map)
                    return "Invalid " + literal_name(t) + " literal for " + std::string(column) +
                           " of type " + type_name(type);
                proto::value_map entries;
                for (std::size_t i = 0; i + 1 < t.items.size(); i += 2) {
                    value k;
                    value v;
                    bool u = false;
                    if (auto e = convert(t.items[i], type.params.at(0), k, u)) return e;
                    if (k.is_null() || u)
                        return std::string("null is not supported inside collections");
                    if (auto e = convert(t.items[i + 1], type.params.at(1), v, u)) return e;
                    if (v.is_null() || u)
                        return std::string("null is not supported inside collections");
                    entries.emplace_back(std::move(k), std::move(v));
                }
                std::stable_sort(entries.begin(), entries.end(), [&](const auto& a, const auto& b) {
                    return proto::compare_values(type.params[0], a.first, b.first) < 0;
                });
                // Later duplicates win.
                proto::value_map dedup;
                for (auto& e : entries) {
                    if (!dedup.empty() &&
                        proto::compare_values(type.params[0], dedup.back().first, e.first) == 0)
                        dedup.back() = std::move(e);
                    else
                        dedup.push_back(std::move(e));
                }
                out = std::move(dedup);
                return std::nullopt;
            }
            case type_id::tuple: {
                if (t.k != K::tuple)
                    return "Invalid " + literal_name(t) + " literal for " + std::string(column) +
                           " of type " + type_name(type);
                if (t.items.size() > type.params.size())
                    return "Invalid tuple literal for " + std::string(column) +
                           ": too many elements. Type " + type_name(type) + " expects " +
                           std::to_string(type.params.size()) + " but got " +
                           std::to_string(t.items.size());
                proto::value_list items;
                for (std::size_t i = 0; i < type.params.size(); ++i) {
                    value v;
                    bool u = false;
                    if (i < t.items.size())
                        if (auto e = convert(t.items[i], type.params[i], v, u)) return e;
                    items.push_back(std::move(v));
                }
                out = std::move(items);
                return std::nullopt;
            }
            case type_id::udt: {
                if (t.k != K::udt && !(t.k == K::map && t.items.empty()))
                    return "Invalid " + literal_name(t) + " literal for " + std::string(column) +
                           " of type " + type_name(type);
                for (const auto& f : t.field_names) {
                    bool known = false;
                    for (const auto& n : type.field_names)
                        if (n == f) known = true;
                    if (!known)
                        return "Unknown field '" + f + "' in value of user defined type " +
                               type.name;
                }
                proto::value_list items;
                for (std::size_t i = 0; i < type.params.size(); ++i) {
                    value v;
                    for (std::size_t j = 0; j < t.field_names.size(); ++j) {
                        if (t.field_names[j] == type.field_names[i]) {
                            bool u = false;
                            if (auto e = convert(t.items[j], type.params[i], v, u)) return e;
                        }
                    }
                    items.push_back(std::move(v));
                }
                out = std::move(items);
                return std::nullopt;
            }
        }
        return invalid_constant(t, type);
    }

    static std::string literal_name(const ast::term& t) {
        using K = ast::term::kind;
        switch (t.k) {
            case K::list:
                return "list";
            case K::set:
                return "set";
            case K::map:
                return "map";
            case K::udt:
                return "user type";
            case K::tuple:
                return "tuple";
            default:
                return upper_kind(t.k) + " constant";
        }
    }
};

}  // namespace

std::optional<std::string> evaluate_term_value(const ast::term& t, const data_type& type,
                                               std::string_view column, const term_context& ctx,
                                               value& out, bool& is_unset) {
    converter c{ctx, column};
    return c.convert(t, type, out, is_unset);
}

std::optional<std::string> evaluate_term(const ast::term& t, const data_type& type,
                                         std::string_view column, const term_context& ctx,
                                         cell_value& out) {
    out = cell_value{};
    // Bound values are validated and copied as is (no re-encoding).
    if (t.k == ast::term::kind::bind) {
        if (!ctx.bound || t.bind_index < 0 ||
            static_cast<std::size_t>(t.bind_index) >= ctx.bound->size())
            return "Invalid unset value for column " + std::string(column);
        const auto& v = (*ctx.bound)[static_cast<std::size_t>(t.bind_index)];
        if (v.is_unset()) {
            out.st = cell_value::state::unset;
            return std::nullopt;
        }
        if (v.is_null()) {
            out.st = cell_value::state::null;
            return std::nullopt;
        }
        if (proto::validate_value(type, v.data)) {
            converter c{ctx, column};
            return c.bind_error(type, v.data);
        }
        out.st = cell_value::state::bytes;
        out.data.assign(v.data.begin(), v.data.end());
        return std::nullopt;
    }
    value v;
    bool unset = false;
    if (auto e = evaluate_term_value(t, type, column, ctx, v, unset)) return e;
    if (unset) {
        out.st = cell_value::state::unset;
        return std::nullopt;
    }
    if (v.is_null()) {
        out.st = cell_value::state::null;
        return std::nullopt;
    }
    if (proto::encode_value(type, v, out.data))
        return "Invalid value for column " + std::string(column) + " of type " + type_name(type);
    out.st = cell_value::state::bytes;
    return std::nullopt;
}

bool parse_timestamp_string(std::string_view s, std::int64_t& millis) {
    std::int64_t num = 0;
    if (parse_int(s, num)) {
        millis = num;
        return true;
    }
    std::size_t p = 0;
    std::int64_t days = 0;
    if (!parse_date_part(s, p, days)) return false;
    std::int64_t nanos = 0;
    if (p < s.size() && (s[p] == ' ' || s[p] == 'T')) {
        ++p;
        if (!parse_time_part(s, p, nanos, false)) return false;
    }
    std::int64_t offset_min = 0;
    if (p < s.size()) {
        if (s[p] == 'Z' || s[p] == 'z') {
            ++p;
        } else if (s[p] == '+' || s[p] == '-') {
            int sign = s[p] == '-' ? -1 : 1;
            ++p;
            int hh = 0;
            int mm = 0;
            if (!read_num(s, p, 2, hh)) return false;
            if (p < s.size() && s[p] == ':') ++p;
            if (p < s.size() && !read_num(s, p, 2, mm)) return false;
            offset_min = sign * (hh * 60 + mm);
        } else if (s.substr(p) == " UTC" || s.substr(p) == " GMT") {
            p = s.size();
        }
    }
    if (p != s.size()) return false;
    millis = days * 86400000LL + nanos / 1000000 - offset_min * 60000;
    return true;
}

bool parse_date_string(std::string_view s, std::int64_t& days_with_offset) {
    std::size_t p = 0;
    std::int64_t days = 0;
    if (!parse_date_part(s, p, days) || p != s.size()) {
        std::int64_t raw = 0;
        if (parse_int(s, raw) && raw >= 0 && raw <= 0xFFFFFFFFLL) {
            days_with_offset = raw;
            return true;
        }
        return false;
    }
    days += std::int64_t{1} << 31;
    if (days < 0 || days > 0xFFFFFFFFLL) return false;
    days_with_offset = days;
    return true;
}

bool parse_time_string(std::string_view s, std::int64_t& nanos) {
    std::size_t p = 0;
    std::int64_t raw = 0;
    if (parse_int(s, raw)) {
        if (raw < 0 || raw >= 86400000000000LL) return false;
        nanos = raw;
        return true;
    }
    return parse_time_part(s, p, nanos, true) && p == s.size();
}

bool parse_duration_literal(std::string_view s, cql_duration& out) {
    out = {};
    bool neg = false;
    if (!s.empty() && s[0] == '-') {
        neg = true;
        s.remove_prefix(1);
    }
    if (s.empty()) return false;
    std::int64_t months = 0;
    std::int64_t days = 0;
    std::int64_t nanos = 0;
    auto upper = [](char c) {
        return static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    };
    if (upper(s[0]) == 'P') {
        // ISO 8601: PnYnMnWnDTnHnMnS
        std::size_t p = 1;
        bool in_time = false;
        bool any = false;
        while (p < s.size()) {
            if (upper(s[p]) == 'T') {
                in_time = true;
                ++p;
                continue;
            }
            std::size_t st = p;
            while (p < s.size() && std::isdigit(static_cast<unsigned char>(s[p])))
                ++p;
            if (p == st || p >= s.size()) return false;
            std::int64_t n = std::stoll(std::string(s.substr(st, p - st)));
            char u = upper(s[p++]);
            any = true;
            if (!in_time) {
                if (u == 'Y')
                    months += n * 12;
                else if (u == 'M')
                    months += n;
                else if (u == 'W')
                    days += n * 7;
                else if (u == 'D')
                    days += n;
                else
                    return false;
            } else {
                if (u == 'H')
                    nanos += n * 3600000000000LL;
                else if (u == 'M')
                    nanos += n * 60000000000LL;
                else if (u == 'S')
                    nanos += n * 1000000000LL;
                else
                    return false;
            }
        }
        if (!any) return false;
    } else {
        std::size_t p = 0;
        while (p < s.size()) {
            std::size_t st = p;
            while (p < s.size() && std::isdigit(static_cast<unsigned char>(s[p])))
                ++p;
            if (p == st || p - st > 18) return false;
            std::int64_t n = std::stoll(std::string(s.substr(st, p - st)));
            std::size_t us = p;
            while (p < s.size() && !std::isdigit(static_cast<unsigned char>(s[p])))
                ++p;
            std::string unit;
            for (char c : s.substr(us, p - us))
                unit += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            if (unit == "y")
                months += n * 12;
            else if (unit == "mo")
                months += n;
            else if (unit == "w")
                days += n * 7;
            else if (unit == "d")
                days += n;
            else if (unit == "h")
                nanos += n * 3600000000000LL;
            else if (unit == "m")
                nanos += n * 60000000000LL;
            else if (unit == "s")
                nanos += n * 1000000000LL;
            else if (unit == "ms")
                nanos += n * 1000000LL;
            else if (unit == "us" || unit == "\xc2\xb5s")
                nanos += n * 1000LL;
            else if (unit == "ns")
                nanos += n;
            else
                return false;
        }
    }
    if (months > std::numeric_limits<std::int32_t>::max() ||
        days > std::numeric_limits<std::int32_t>::max())
        return false;
    out.months = static_cast<std::int32_t>(neg ? -months : months);
    out.days = static_cast<std::int32_t>(neg ? -days : days);
    out.nanoseconds = neg ? -nanos : nanos;
    return true;
}

bool parse_uuid_string(std::string_view s, proto::uuid_bytes& out) {
    if (s.size() != 36) return false;
    std::size_t o = 0;
    for (std::size_t i = 0; i < 36;) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') return false;
            ++i;
            continue;
        }
        if (!std::isxdigit(static_cast<unsigned char>(s[i])) ||
            !std::isxdigit(static_cast<unsigned char>(s[i + 1])))
            return false;
        out[o++] = static_cast<std::uint8_t>(std::stoi(std::string(s.substr(i, 2)), nullptr, 16));
        i += 2;
    }
    return o == 16;
}

bool parse_inet_string(std::string_view s, proto::inet_address& out) {
    std::string str(s);
    out = {};
    if (inet_pton(AF_INET, str.c_str(), out.bytes.data()) == 1) {
        out.size = 4;
        return true;
    }
    if (inet_pton(AF_INET6, str.c_str(), out.bytes.data()) == 1) {
        out.size = 16;
        return true;
    }
    return false;
}

bool parse_varint_string(std::string_view s, cql_varint& out) {
    bool neg = false;
    if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        s.remove_prefix(1);
    }
    if (!all_digits(s) || s.size() > 10000) return false;
    // magnitude, little-endian base 256
    std::vector<std::uint32_t> mag;
    for (char c : s) {
        std::uint32_t carry = static_cast<std::uint32_t>(c - '0');
        for (auto& b : mag) {
            std::uint32_t v = b * 10 + carry;
            b = v & 0xFF;
            carry = v >> 8;
        }
        while (carry) {
            mag.push_back(carry & 0xFF);
            carry >>= 8;
        }
    }
    if (mag.empty()) mag.push_back(0);
    mag.push_back(0);  // room for the sign bit
    if (neg) {
        std::uint32_t carry = 1;
        for (auto& b : mag) {
            std::uint32_t v = (~b & 0xFF) + carry;
            b = v & 0xFF;
            carry = v >> 8;
        }
    }
    // big-endian, minimal two's complement
    proto::byte_buffer be(mag.rbegin(), mag.rend());
    std::size_t start = 0;
    while (start + 1 < be.size() && ((be[start] == 0 && (be[start + 1] & 0x80) == 0) ||
                                     (be[start] == 0xFF && (be[start + 1] & 0x80) != 0)))
        ++start;
    out.bytes.assign(be.begin() + static_cast<std::ptrdiff_t>(start), be.end());
    return true;
}

bool parse_decimal_string(std::string_view s, cql_decimal& out) {
    std::string digits;
    bool neg = false;
    std::size_t p = 0;
    if (p < s.size() && (s[p] == '-' || s[p] == '+')) {
        neg = s[p] == '-';
        ++p;
    }
    std::int64_t scale = 0;
    bool seen_dot = false;
    bool any = false;
    for (; p < s.size(); ++p) {
        char c = s[p];
        if (std::isdigit(static_cast<unsigned char>(c))) {
            digits += c;
            any = true;
            if (seen_dot) ++scale;
        } else if (c == '.' && !seen_dot) {
            seen_dot = true;
        } else {
            break;
        }
    }
    if (!any) return false;
    if (p < s.size() && (s[p] == 'e' || s[p] == 'E')) {
        std::int64_t e = 0;
        if (!parse_int(s.substr(p + 1), e) || e > 100000 || e < -100000) return false;
        scale -= e;
        p = s.size();
    }
    if (p != s.size()) return false;
    if (!parse_varint_string((neg ? "-" : "") + digits, out.unscaled)) return false;
    out.scale = static_cast<std::int32_t>(scale);
    return true;
}

proto::uuid_bytes make_timeuuid(std::int64_t micros, std::uint16_t clock_seq, std::uint64_t node) {
    std::uint64_t t = static_cast<std::uint64_t>(micros) * 10 + 0x01B21DD213814000ULL;
    proto::uuid_bytes u{};
    std::uint32_t time_low = static_cast<std::uint32_t>(t);
    std::uint16_t time_mid = static_cast<std::uint16_t>(t >> 32);
    std::uint16_t time_hi = static_cast<std::uint16_t>(((t >> 48) & 0x0FFF) | 0x1000);
    u[0] = static_cast<std::uint8_t>(time_low >> 24);
    u[1] = static_cast<std::uint8_t>(time_low >> 16);
    u[2] = static_cast<std::uint8_t>(time_low >> 8);
    u[3] = static_cast<std::uint8_t>(time_low);
    u[4] = static_cast<std::uint8_t>(time_mid >> 8);
    u[5] = static_cast<std::uint8_t>(time_mid);
    u[6] = static_cast<std::uint8_t>(time_hi >> 8);
    u[7] = static_cast<std::uint8_t>(time_hi);
    u[8] = static_cast<std::uint8_t>(((clock_seq >> 8) & 0x3F) | 0x80);
    u[9] = static_cast<std::uint8_t>(clock_seq);
    for (int i = 0; i < 6; ++i)
        u[static_cast<std::size_t>(10 + i)] = static_cast<std::uint8_t>(node >> (8 * (5 - i)));
    return u;
}

}  // namespace cqlsim
