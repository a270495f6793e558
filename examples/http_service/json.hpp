#pragma once
// Just enough JSON for the example service: a writer (strings, numbers) and a strict parser
// into a small value tree. (Boost.JSON does this and more, but needs a compiled library.)

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace json {

// ---- writing ----

// Appends `s` as a quoted JSON string.
inline void append_string(std::string& out, std::string_view s) {
    out += '"';
    for (char c : s) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
                    out += buf;
                } else {
                    out += c;
                }
        }
    }
    out += '"';
}

// Shortest text that reads back as the same number (210.5f is "210.5", not 210.500000).
template <class Number>
void append_number(std::string& out, Number n) {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
    out.append(buf, ec == std::errc() ? end : buf);
}

// ---- reading ----

struct value;
struct member;
using array = std::vector<value>;
using object = std::vector<member>;  // in document order

struct value {
    std::variant<std::nullptr_t, bool, double, std::string, array, object> v;

    const std::string* as_string() const { return std::get_if<std::string>(&v); }
    const double* as_number() const { return std::get_if<double>(&v); }
    const json::array* as_array() const { return std::get_if<json::array>(&v); }
    const json::object* as_object() const { return std::get_if<json::object>(&v); }
    bool is_null() const { return std::holds_alternative<std::nullptr_t>(v); }
    // The member `key` of an object (nullptr when absent or not an object).
    const value* find(std::string_view key) const;
};

// (not a std::pair: a pair of an incomplete type may not be named in `object`)
struct member {
    std::string first;  // the name
    value second;
};

inline const value* value::find(std::string_view key) const {
    if (auto* o = as_object())
        for (auto& [k, val] : *o)
            if (k == key) return &val;
    return nullptr;
}

namespace detail {

class parser {
  public:
    explicit parser(std::string_view text) : s_(text) {}

    std::optional<value> document() {
        auto v = parse_value(0);
        skip_ws();
        if (!v || pos_ != s_.size()) return std::nullopt;
        return v;
    }

  private:
    // Nesting deeper than this is refused rather than recursing without bound.
    static constexpr int max_depth = 32;

    void skip_ws() {
        while (pos_ < s_.size() &&
               (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
            ++pos_;
    }
    bool eat(char c) {
        skip_ws();
        if (pos_ < s_.size() && s_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }
    bool literal(std::string_view word) {
        if (s_.substr(pos_, word.size()) != word) return false;
        pos_ += word.size();
        return true;
    }

    std::optional<value> parse_value(int depth) {
        if (depth > max_depth) return std::nullopt;
        skip_ws();
        if (pos_ >= s_.size()) return std::nullopt;
        const char c = s_[pos_];
        if (c == '{') return parse_object(depth);
        if (c == '[') return parse_array(depth);
        if (c == '"') {
            auto str = parse_string();
            if (!str) return std::nullopt;
            return value{std::move(*str)};
        }
        if (literal("true")) return value{true};
        if (literal("false")) return value{false};
        if (literal("null")) return value{nullptr};
        return parse_number();
    }

    std::optional<value> parse_object(int depth) {
        ++pos_;  // '{'
        json::object members;
        if (eat('}')) return value{std::move(members)};
        do {
            skip_ws();
            auto key = parse_string();
            if (!key || !eat(':')) return std::nullopt;
            auto v = parse_value(depth + 1);
            if (!v) return std::nullopt;
            members.push_back({std::move(*key), std::move(*v)});
        } while (eat(','));
        if (!eat('}')) return std::nullopt;
        return value{std::move(members)};
    }

    std::optional<value> parse_array(int depth) {
        ++pos_;  // '['
        json::array items;
        if (eat(']')) return value{std::move(items)};
        do {
            auto v = parse_value(depth + 1);
            if (!v) return std::nullopt;
            items.push_back(std::move(*v));
        } while (eat(','));
        if (!eat(']')) return std::nullopt;
        return value{std::move(items)};
    }

    std::optional<value> parse_number() {
        // JSON's grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
        const std::size_t start = pos_;
        auto digits = [&] {
            const std::size_t from = pos_;
            while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9')
                ++pos_;
            return pos_ > from;
        };
        if (pos_ < s_.size() && s_[pos_] == '-') ++pos_;
        if (pos_ < s_.size() && s_[pos_] == '0')
            ++pos_;
        else if (!digits())
            return std::nullopt;
        if (pos_ < s_.size() && s_[pos_] == '.') {
            ++pos_;
            if (!digits()) return std::nullopt;
        }
        if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
            ++pos_;
            if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
            if (!digits()) return std::nullopt;
        }
        double d = 0;
        auto [end, ec] = std::from_chars(s_.data() + start, s_.data() + pos_, d);
        if (ec != std::errc() || end != s_.data() + pos_) return std::nullopt;
        return value{d};
    }

    static void append_utf8(std::string& out, std::uint32_t cp) {
        if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else if (cp < 0x800) {
            out += static_cast<char>(0xC0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out += static_cast<char>(0xE0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
            out += static_cast<char>(0xF0 | (cp >> 18));
            out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        }
    }

    std::optional<std::uint32_t> hex4() {
        if (s_.size() - pos_ < 4) return std::nullopt;
        std::uint32_t cp = 0;
        auto [end, ec] = std::from_chars(s_.data() + pos_, s_.data() + pos_ + 4, cp, 16);
        if (ec != std::errc() || end != s_.data() + pos_ + 4) return std::nullopt;
        pos_ += 4;
        return cp;
    }

    std::optional<std::string> parse_string() {
        if (pos_ >= s_.size() || s_[pos_] != '"') return std::nullopt;
        ++pos_;
        std::string out;
        while (pos_ < s_.size()) {
            const char c = s_[pos_++];
            if (c == '"') return out;
            if (static_cast<unsigned char>(c) < 0x20) return std::nullopt;
            if (c != '\\') {
                out += c;
                continue;
            }
            if (pos_ >= s_.size()) return std::nullopt;
            switch (s_[pos_++]) {
                case '"':
                    out += '"';
                    break;
                case '\\':
                    out += '\\';
                    break;
                case '/':
                    out += '/';
                    break;
                case 'b':
                    out += '\b';
                    break;
                case 'f':
                    out += '\f';
                    break;
                case 'n':
                    out += '\n';
                    break;
                case 'r':
                    out += '\r';
                    break;
                case 't':
                    out += '\t';
                    break;
                case 'u': {
                    auto cp = hex4();
                    if (!cp) return std::nullopt;
                    if (*cp >= 0xD800 && *cp < 0xDC00) {  // a surrogate pair
                        if (!literal("\\u")) return std::nullopt;
                        auto low = hex4();
                        if (!low || *low < 0xDC00 || *low >= 0xE000) return std::nullopt;
                        *cp = 0x10000 + ((*cp - 0xD800) << 10) + (*low - 0xDC00);
                    } else if (*cp >= 0xDC00 && *cp < 0xE000) {
                        return std::nullopt;
                    }
                    append_utf8(out, *cp);
                    break;
                }
                default:
                    return std::nullopt;
            }
        }
        return std::nullopt;  // no closing quote
    }

    std::string_view s_;
    std::size_t pos_ = 0;
};

}  // namespace detail

// The value of a whole document, or nullopt when it is not valid JSON.
inline std::optional<value> parse(std::string_view text) {
    return detail::parser(text).document();
}

}  // namespace json
