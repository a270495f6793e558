#include "cqlsim/parser.hpp"

#include <cctype>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cqlsim {

std::string fold_identifier(std::string_view id) {
    std::string out(id);
    for (auto& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

namespace {

enum class tk : std::uint8_t {
    ident,         // unquoted identifier or keyword (text as written)
    quoted_ident,  // "Name" (text unescaped)
    string,
    integer,
    floating,
    uuid,
    hex,
    duration,
    symbol,  // text holds the symbol
    qmark,
    named_marker,  // :name (text holds the name)
    end,
};

struct token {
    tk kind = tk::end;
    std::string text;
    int line = 1;
    int col = 0;
};

bool is_hex(char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) != 0;
}
bool is_ident_start(char c) {
    return std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_';
}
bool is_ident_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}

struct lex_error {
    std::string message;
};

bool match_uuid(std::string_view s, std::size_t at) {
    static constexpr int groups[] = {8, 4, 4, 4, 12};
    std::size_t p = at;
    for (int g = 0; g < 5; ++g) {
        for (int i = 0; i < groups[g]; ++i, ++p)
            if (p >= s.size() || !is_hex(s[p])) return false;
        if (g < 4) {
            if (p >= s.size() || s[p] != '-') return false;
            ++p;
        }
    }
    return p >= s.size() || !is_ident_char(s[p]);
}

// Length of a duration literal (1h30m, 2d, 10ms, 5us, 7ns, 1mo, 1y) starting at `at` with a
// digit, or 0 when it is not one.
std::size_t match_duration(std::string_view s, std::size_t at) {
    std::size_t p = at;
    bool any = false;
    while (p < s.size() && std::isdigit(static_cast<unsigned char>(s[p]))) {
        while (p < s.size() && std::isdigit(static_cast<unsigned char>(s[p])))
            ++p;
        std::size_t u = p;
        while (u < s.size() && std::isalpha(static_cast<unsigned char>(s[u])))
            ++u;
        std::string unit = fold_identifier(s.substr(p, u - p));
        // A unit followed by more digits is split greedily: "1h30m" is h then 30m.
        static constexpr std::string_view units[] = {"mo", "ms", "us", "ns", "y",
                                                     "w",  "d",  "h",  "m",  "s"};
        bool found = false;
        for (auto cand : units) {
            if (unit == cand) {
                found = true;
                break;
            }
        }
        if (!found) return 0;
        p = u;
        any = true;
    }
    if (!any || (p < s.size() && is_ident_char(s[p]))) return 0;
    return p - at;
}

std::variant<std::vector<token>, lex_error> lex(std::string_view s) {
    std::vector<token> out;
    std::size_t i = 0;
    int line = 1;
    std::size_t line_start = 0;
    auto err = [&](std::size_t at, std::string what) {
        return lex_error{"line " + std::to_string(line) + ":" + std::to_string(at - line_start) +
                         " " + what};
    };
    while (i < s.size()) {
        char c = s[i];
        if (c == '\n') {
            ++i;
            ++line;
            line_start = i;
            continue;
        }
        if (std::isspace(static_cast<unsigned char>(c))) {
            ++i;
            continue;
        }
        if ((c == '-' && i + 1 < s.size() && s[i + 1] == '-') ||
            (c == '/' && i + 1 < s.size() && s[i + 1] == '/')) {
            while (i < s.size() && s[i] != '\n')
                ++i;
            continue;
        }
        if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
            auto e = s.find("*/", i + 2);
            if (e == std::string_view::npos) return err(i, "unterminated comment");
            for (std::size_t k = i; k < e; ++k)
                if (s[k] == '\n') {
                    ++line;
                    line_start = k + 1;
                }
            i = e + 2;
            continue;
        }
        token t;
        t.line = line;
        t.col = static_cast<int>(i - line_start);
        if (c == '\'') {
            std::string v;
            std::size_t p = i + 1;
            bool closed = false;
            while (p < s.size()) {
                if (s[p] == '\'') {
                    if (p + 1 < s.size() && s[p + 1] == '\'') {
                        v += '\'';
                        p += 2;
                        continue;
                    }
                    closed = true;
                    ++p;
                    break;
                }
                if (s[p] == '\n') {
                    ++line;
                    line_start = p + 1;
                }
                v += s[p++];
            }
            if (!closed)
                return err(i, "token recognition error at: '" + std::string(s.substr(i)) + "'");
            t.kind = tk::string;
            t.text = std::move(v);
            i = p;
        } else if (c == '$' && i + 1 < s.size() && s[i + 1] == '$') {
            auto e = s.find("$$", i + 2);
            if (e == std::string_view::npos) return err(i, "unterminated $$ string");
            t.kind = tk::string;
            t.text = std::string(s.substr(i + 2, e - i - 2));
            i = e + 2;
        } else if (c == '"') {
            std::string v;
            std::size_t p = i + 1;
            bool closed = false;
            while (p < s.size()) {
                if (s[p] == '"') {
                    if (p + 1 < s.size() && s[p + 1] == '"') {
                        v += '"';
                        p += 2;
                        continue;
                    }
                    closed = true;
                    ++p;
                    break;
                }
                v += s[p++];
            }
            if (!closed || v.empty())
                return err(i, "token recognition error at: '" + std::string(s.substr(i)) + "'");
            t.kind = tk::quoted_ident;
            t.text = std::move(v);
            i = p;
        } else if (is_hex(c) && match_uuid(s, i)) {
            t.kind = tk::uuid;
            t.text = std::string(s.substr(i, 36));
            i += 36;
        } else if (c == '0' && i + 1 < s.size() && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
            std::size_t p = i + 2;
            while (p < s.size() && is_hex(s[p]))
                ++p;
            if (p < s.size() && is_ident_char(s[p]))
                return err(
                    i, "token recognition error at: '" + std::string(s.substr(i, p - i + 1)) + "'");
            t.kind = tk::hex;
            t.text = std::string(s.substr(i + 2, p - i - 2));
            i = p;
        } else if (std::isdigit(static_cast<unsigned char>(c)) ||
                   (c == '.' && i + 1 < s.size() &&
                    std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
            if (auto n = match_duration(s, i); n != 0) {
                t.kind = tk::duration;
                t.text = std::string(s.substr(i, n));
                i += n;
            } else {
                std::size_t p = i;
                bool fl = false;
                while (p < s.size() && std::isdigit(static_cast<unsigned char>(s[p])))
                    ++p;
                if (p < s.size() && s[p] == '.' && p + 1 < s.size() &&
                    std::isdigit(static_cast<unsigned char>(s[p + 1]))) {
                    fl = true;
                    ++p;
                    while (p < s.size() && std::isdigit(static_cast<unsigned char>(s[p])))
                        ++p;
                } else if (p < s.size() && s[p] == '.' &&
                           (p + 1 >= s.size() || !is_ident_start(s[p + 1]))) {
                    fl = true;
                    ++p;
                }
                if (p < s.size() && (s[p] == 'e' || s[p] == 'E')) {
                    std::size_t q = p + 1;
                    if (q < s.size() && (s[q] == '+' || s[q] == '-')) ++q;
                    if (q < s.size() && std::isdigit(static_cast<unsigned char>(s[q]))) {
                        fl = true;
                        p = q;
                        while (p < s.size() && std::isdigit(static_cast<unsigned char>(s[p])))
                            ++p;
                    }
                }
                if (p < s.size() && is_ident_char(s[p]))
                    return err(i, "token recognition error at: '" +
                                      std::string(s.substr(i, p - i + 1)) + "'");
                t.kind = fl ? tk::floating : tk::integer;
                t.text = std::string(s.substr(i, p - i));
                i = p;
            }
        } else if (is_ident_start(c)) {
            std::size_t p = i;
            while (p < s.size() && is_ident_char(s[p]))
                ++p;
            t.kind = tk::ident;
            t.text = std::string(s.substr(i, p - i));
            i = p;
        } else if (c == '?') {
            t.kind = tk::qmark;
            t.text = "?";
            ++i;
        } else if (c == ':' && i + 1 < s.size() && (is_ident_start(s[i + 1]) || s[i + 1] == '"')) {
            std::size_t p = i + 1;
            if (s[p] == '"') {
                auto e = s.find('"', p + 1);
                if (e == std::string_view::npos) return err(i, "unterminated quoted name");
                t.text = std::string(s.substr(p + 1, e - p - 1));
                p = e + 1;
            } else {
                while (p < s.size() && is_ident_char(s[p]))
                    ++p;
                t.text = fold_identifier(s.substr(i + 1, p - i - 1));
            }
            t.kind = tk::named_marker;
            i = p;
        } else {
            static constexpr std::string_view two[] = {"<=", ">=", "!=", "<>"};
            bool done = false;
            for (auto sym : two) {
                if (s.substr(i, 2) == sym) {
                    t.kind = tk::symbol;
                    t.text = sym == "<>" ? "!=" : std::string(sym);
                    i += 2;
                    done = true;
                    break;
                }
            }
            if (!done) {
                static constexpr std::string_view one = "(),;.*=<>[]{}:+-";
                if (one.find(c) == std::string_view::npos)
                    return err(i, "token recognition error at: '" + std::string(1, c) + "'");
                t.kind = tk::symbol;
                t.text = std::string(1, c);
                ++i;
            }
        }
        out.push_back(std::move(t));
    }
    token e;
    e.kind = tk::end;
    e.line = line;
    e.col = static_cast<int>(s.size() - line_start);
    out.push_back(e);
    return out;
}

struct parse_failure {
    std::string message;
};

class parser {
  public:
    explicit parser(std::vector<token> toks) : t_(std::move(toks)) {}

    ast::parsed_statement statement() {
        ast::parsed_statement out;
        out.stmt = parse_statement();
        accept_sym(";");
        if (peek().kind != tk::end) fail_mismatch("<EOF>");
        out.markers = std::move(markers_);
        return out;
    }

    // Statements inside a batch must be INSERT/UPDATE/DELETE.
  private:
    const token& peek(std::size_t ahead = 0) const {
        auto i = pos_ + ahead;
        return i < t_.size() ? t_[i] : t_.back();
    }
    const token& next() {
        const token& t = t_[pos_];
        if (pos_ + 1 < t_.size()) ++pos_;
        return t;
    }
    static std::string shown(const token& t) {
        switch (t.kind) {
            case tk::end:
                return "<EOF>";
            case tk::string:
                return "'" + t.text + "'";
            case tk::quoted_ident:
                return "\"" + t.text + "\"";
            case tk::hex:
                return "0x" + t.text;
            case tk::named_marker:
                return ":" + t.text;
            default:
                return t.text;
        }
    }
    [[noreturn]] void fail_at(const token& t, const std::string& what) {
        throw parse_failure{"line " + std::to_string(t.line) + ":" + std::to_string(t.col) + " " +
                            what};
    }
    [[noreturn]] void fail_mismatch(const std::string& expecting) {
        const auto& t = peek();
        if (t.kind == tk::end) fail_at(t, "mismatched input '<EOF>' expecting " + expecting);
        fail_at(t, "mismatched input '" + shown(t) + "' expecting " + expecting);
    }
    [[noreturn]] void fail_no_viable() {
        const auto& t = peek();
        fail_at(t, "no viable alternative at input '" + shown(t) + "' ([" + shown(t) + "]...)");
    }

    bool is_kw(const token& t, std::string_view kw) const {
        if (t.kind != tk::ident || t.text.size() != kw.size()) return false;
        for (std::size_t i = 0; i < kw.size(); ++i)
            if (std::tolower(static_cast<unsigned char>(t.text[i])) != kw[i]) return false;
        return true;
    }
    bool peek_kw(std::string_view kw, std::size_t ahead = 0) const {
        return is_kw(peek(ahead), kw);
    }
    bool accept_kw(std::string_view kw) {
        if (peek_kw(kw)) {
            next();
            return true;
        }
        return false;
    }
    void expect_kw(std::string_view kw) {
        if (!accept_kw(kw)) {
            std::string up;
            for (char c : kw)
                up += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            fail_mismatch("K_" + up);
        }
    }
    bool peek_sym(std::string_view s, std::size_t ahead = 0) const {
        const auto& t = peek(ahead);
        return t.kind == tk::symbol && t.text == s;
    }
    bool accept_sym(std::string_view s) {
        if (peek_sym(s)) {
            next();
            return true;
        }
        return false;
    }
    void expect_sym(std::string_view s) {
        if (!accept_sym(s)) fail_mismatch("'" + std::string(s) + "'");
    }

    // Reserved words cannot be unquoted identifiers.
    bool reserved(const token& t) const {
        static constexpr std::string_view words[] = {
            "add",      "allow",  "alter",   "and",          "apply",  "asc",     "authorize",
            "batch",    "begin",  "by",      "columnfamily", "create", "delete",  "desc",
            "describe", "drop",   "entries", "execute",      "from",   "full",    "grant",
            "if",       "in",     "index",   "infinity",     "insert", "into",    "keyspace",
            "limit",    "modify", "nan",     "norecursive",  "not",    "null",    "of",
            "on",       "or",     "order",   "primary",      "rename", "replace", "revoke",
            "schema",   "select", "set",     "table",        "to",     "token",   "truncate",
            "unlogged", "update", "use",     "using",        "view",   "where",   "with"};
        for (auto w : words)
            if (is_kw(t, w)) return true;
        return false;
    }

    std::string ident(const char* expecting = "IDENT") {
        const auto& t = peek();
        if (t.kind == tk::quoted_ident) return next().text;
        if (t.kind == tk::ident && !reserved(t)) return fold_identifier(next().text);
        if (t.kind == tk::end) fail_mismatch(expecting);
        fail_no_viable();
    }
    // Also accepts some keywords usable as names (e.g. a column called "key" or "type").
    ast::qualified_name qname() {
        ast::qualified_name q;
        auto first = ident();
        if (accept_sym(".")) {
            q.keyspace = std::move(first);
            q.name = ident();
        } else {
            q.name = std::move(first);
        }
        return q;
    }

    bool if_not_exists() {
        if (peek_kw("if") && peek_kw("not", 1)) {
            next();
            next();
            expect_kw("exists");
            return true;
        }
        return false;
    }
    bool if_exists() {
        if (peek_kw("if") && peek_kw("exists", 1)) {
            next();
            next();
            return true;
        }
        return false;
    }

    ast::statement parse_statement() {
        const auto& t = peek();
        if (is_kw(t, "select")) return select();
        if (is_kw(t, "insert")) return insert();
        if (is_kw(t, "update")) return update();
        if (is_kw(t, "delete")) return del();
        if (is_kw(t, "begin")) return batch();
        if (is_kw(t, "use")) {
            next();
            return ast::use_statement{ident()};
        }
        if (is_kw(t, "create")) return create();
        if (is_kw(t, "alter")) return alter();
        if (is_kw(t, "drop")) return drop();
        if (is_kw(t, "truncate")) {
            next();
            accept_kw("table") || accept_kw("columnfamily");
            return ast::truncate_table{qname()};
        }
        fail_no_viable();
    }

    // ---- terms ----
    ast::term make_marker(std::string name) {
        ast::term m;
        m.k = ast::term::kind::bind;
        m.bind_index = static_cast<int>(markers_.size());
        m.bind_name = name;
        markers_.push_back({std::move(name)});
        return m;
    }

    ast::term term() {
        ast::term out;
        const auto& t = peek();
        using K = ast::term::kind;
        if (t.kind == tk::qmark) {
            next();
            return make_marker("");
        }
        if (t.kind == tk::named_marker) {
            auto n = next().text;
            return make_marker(n);
        }
        if (t.kind == tk::string) {
            out.k = K::string;
            out.text = next().text;
            return out;
        }
        if (t.kind == tk::integer) {
            out.k = K::integer;
            out.text = next().text;
            return out;
        }
        if (t.kind == tk::floating) {
            out.k = K::floating;
            out.text = next().text;
            return out;
        }
        if (t.kind == tk::uuid) {
            out.k = K::uuid;
            out.text = next().text;
            return out;
        }
        if (t.kind == tk::hex) {
            out.k = K::blob;
            out.text = next().text;
            return out;
        }
        if (t.kind == tk::duration) {
            out.k = K::duration;
            out.text = next().text;
            return out;
        }
        if (t.kind == tk::symbol && t.text == "-") {
            next();
            const auto& n = peek();
            if (n.kind == tk::integer || n.kind == tk::floating || n.kind == tk::duration) {
                out.k = n.kind == tk::integer    ? K::integer
                        : n.kind == tk::floating ? K::floating
                                                 : K::duration;
                out.text = "-" + next().text;
                return out;
            }
            if (is_kw(n, "nan") || is_kw(n, "infinity")) {
                out.k = K::floating;
                out.text = is_kw(n, "nan") ? "NaN" : "-Infinity";
                next();
                return out;
            }
            fail_no_viable();
        }
        if (t.kind == tk::ident) {
            if (is_kw(t, "true") || is_kw(t, "false")) {
                out.k = K::boolean;
                out.text = fold_identifier(next().text);
                return out;
            }
            if (is_kw(t, "null")) {
                next();
                out.k = K::null;
                return out;
            }
            if (is_kw(t, "nan")) {
                next();
                out.k = K::floating;
                out.text = "NaN";
                return out;
            }
            if (is_kw(t, "infinity")) {
                next();
                out.k = K::floating;
                out.text = "Infinity";
                return out;
            }
            if (peek_sym("(", 1)) {
                out.k = K::function;
                out.text = fold_identifier(next().text);
                next();
                if (!accept_sym(")")) {
                    do {
                        out.items.push_back(term());
                    } while (accept_sym(","));
                    expect_sym(")");
                }
                return out;
            }
            // ISO 8601 durations: P1Y2M, PT1H30M, P1W
            if ((t.text[0] == 'P' || t.text[0] == 'p') && t.text.size() > 1) {
                out.k = K::duration;
                out.text = next().text;
                return out;
            }
            fail_no_viable();
        }
        if (accept_sym("[")) {
            out.k = K::list;
            if (!accept_sym("]")) {
                do {
                    out.items.push_back(term());
                } while (accept_sym(","));
                expect_sym("]");
            }
            return out;
        }
        if (accept_sym("{")) {
            if (accept_sym("}")) {
                out.k = K::map;
                return out;
            }
            // UDT literal: {ident: value}
            if ((peek().kind == tk::ident || peek().kind == tk::quoted_ident) && peek_sym(":", 1) &&
                !is_kw(peek(), "true") && !is_kw(peek(), "false") && !is_kw(peek(), "null")) {
                out.k = K::udt;
                do {
                    out.field_names.push_back(ident());
                    expect_sym(":");
                    out.items.push_back(term());
                } while (accept_sym(","));
                expect_sym("}");
                return out;
            }
            auto first = term();
            if (accept_sym(":")) {
                out.k = K::map;
                out.items.push_back(std::move(first));
                out.items.push_back(term());
                while (accept_sym(",")) {
                    out.items.push_back(term());
                    expect_sym(":");
                    out.items.push_back(term());
                }
            } else {
                out.k = K::set;
                out.items.push_back(std::move(first));
                while (accept_sym(","))
                    out.items.push_back(term());
            }
            expect_sym("}");
            return out;
        }
        if (accept_sym("(")) {
            // Type cast (int) 3 or a tuple literal.
            if (peek().kind == tk::ident && peek_sym(")", 1) && !is_kw(peek(), "true") &&
                !is_kw(peek(), "false") && !is_kw(peek(), "null")) {
                auto type = fold_identifier(next().text);
                next();
                auto inner = term();
                inner.cast_type = type;
                return inner;
            }
            out.k = K::tuple;
            do {
                out.items.push_back(term());
            } while (accept_sym(","));
            expect_sym(")");
            return out;
        }
        fail_no_viable();
    }

    // ---- USING / WHERE / IF ----
    void using_clause(ast::using_clause& u) {
        if (!accept_kw("using")) return;
        do {
            if (accept_kw("ttl"))
                u.ttl = term();
            else if (accept_kw("timestamp"))
                u.timestamp = term();
            else
                fail_mismatch("K_TTL or K_TIMESTAMP");
        } while (accept_kw("and"));
    }

    ast::op relation_op(bool allow_in) {
        const auto& t = peek();
        if (t.kind == tk::symbol) {
            static const std::pair<std::string_view, ast::op> ops[] = {
                {"=", ast::op::eq}, {"<", ast::op::lt},   {"<=", ast::op::lte},
                {">", ast::op::gt}, {">=", ast::op::gte}, {"!=", ast::op::neq}};
            for (auto [s, o] : ops)
                if (t.text == s) {
                    next();
                    return o;
                }
        }
        if (allow_in && accept_kw("in")) return ast::op::in;
        if (accept_kw("contains")) {
            if (accept_kw("key")) return ast::op::contains_key;
            return ast::op::contains;
        }
        if (accept_kw("like")) return ast::op::like;
        if (accept_kw("is")) {
            expect_kw("not");
            return ast::op::is_not;
        }
        fail_no_viable();
    }

    void in_values(std::vector<ast::term>& values, bool& marker, ast::term& single) {
        if (peek().kind == tk::qmark || peek().kind == tk::named_marker) {
            marker = true;
            single = term();
            return;
        }
        expect_sym("(");
        if (!accept_sym(")")) {
            do {
                values.push_back(term());
            } while (accept_sym(","));
            expect_sym(")");
        }
    }

    std::vector<ast::relation> where() {
        std::vector<ast::relation> out;
        if (!accept_kw("where")) return out;
        do {
            ast::relation r;
            if (peek_kw("token") && peek_sym("(", 1)) {
                next();
                next();
                r.token = true;
                do {
                    r.columns.push_back(ident());
                } while (accept_sym(","));
                expect_sym(")");
                r.oper = relation_op(false);
                r.rhs = term();
            } else if (peek_sym("(")) {
                next();
                r.multi = true;
                do {
                    r.columns.push_back(ident());
                } while (accept_sym(","));
                expect_sym(")");
                r.oper = relation_op(true);
                if (r.oper == ast::op::in)
                    in_values(r.in_values, r.in_marker, r.rhs);
                else
                    r.rhs = term();
            } else {
                r.columns.push_back(ident());
                if (accept_sym("[")) {
                    r.map_key = term();
                    expect_sym("]");
                }
                r.oper = relation_op(true);
                if (r.oper == ast::op::in)
                    in_values(r.in_values, r.in_marker, r.rhs);
                else if (r.oper == ast::op::is_not)
                    expect_kw("null");
                else
                    r.rhs = term();
            }
            out.push_back(std::move(r));
        } while (accept_kw("and"));
        return out;
    }

    // IF EXISTS | IF cond AND cond ...
    void conditions(std::vector<ast::condition>& conds, bool& exists) {
        if (!peek_kw("if")) return;
        next();
        if (accept_kw("exists")) {
            exists = true;
            return;
        }
        do {
            ast::condition c;
            c.column = ident();
            if (accept_sym("[")) {
                c.element = term();
                expect_sym("]");
            } else if (accept_sym(".")) {
                c.field = ident();
            }
            c.oper = relation_op(true);
            if (c.oper == ast::op::in)
                in_values(c.in_values, c.in_marker, c.rhs);
            else
                c.rhs = term();
            conds.push_back(std::move(c));
        } while (accept_kw("and"));
    }

    // ---- DML ----
    ast::select_statement select() {
        expect_kw("select");
        ast::select_statement s;
        if (accept_kw("json")) s.json = true;
        if (peek_kw("distinct") && !peek_sym(",", 1) && !peek_kw("from", 1)) {
            next();
            s.distinct = true;
        }
        if (accept_sym("*")) {
            s.star = true;
        } else {
            do {
                s.selectors.push_back(selector());
            } while (accept_sym(","));
        }
        expect_kw("from");
        s.table = qname();
        s.where = where();
        if (accept_kw("group")) {
            expect_kw("by");
            fail_at(peek(), "GROUP BY is not supported by cqlsim");
        }
        if (accept_kw("order")) {
            expect_kw("by");
            do {
                auto col = ident();
                if (accept_kw("ann")) {
                    expect_kw("of");
                    if (s.ann || !s.order_by.empty())
                        fail_at(peek(), "ANN ordering cannot be combined with other orderings");
                    s.ann.emplace(std::move(col), term());
                    continue;
                }
                if (s.ann) fail_at(peek(), "ANN ordering cannot be combined with other orderings");
                bool desc = false;
                if (accept_kw("desc"))
                    desc = true;
                else
                    accept_kw("asc");
                s.order_by.emplace_back(std::move(col), desc);
            } while (accept_sym(","));
        }
        if (accept_kw("per")) {
            expect_kw("partition");
            expect_kw("limit");
            s.per_partition_limit = term();
        }
        if (accept_kw("limit")) s.limit = term();
        if (accept_kw("allow")) {
            expect_kw("filtering");
            s.allow_filtering = true;
        }
        return s;
    }

    ast::selector selector() {
        ast::selector sel;
        const auto& t = peek();
        if (t.kind == tk::ident && peek_sym("(", 1)) {
            auto fname = fold_identifier(next().text);
            next();
            if (fname == "count" && accept_sym("*")) {
                sel.k = ast::selector::kind::count_star;
                sel.name = "count";
                expect_sym(")");
            } else if (fname == "count" && peek().kind == tk::integer && peek().text == "1" &&
                       peek_sym(")", 1)) {
                next();
                next();
                sel.k = ast::selector::kind::count_star;
                sel.name = "count";
            } else {
                if (fname == "writetime")
                    sel.k = ast::selector::kind::writetime;
                else if (fname == "ttl")
                    sel.k = ast::selector::kind::ttl;
                else if (fname == "token")
                    sel.k = ast::selector::kind::token;
                else if (fname == "count")
                    sel.k = ast::selector::kind::count_column;
                else
                    sel.k = ast::selector::kind::function;
                sel.name = fname;
                if (fname == "similarity_cosine" || fname == "similarity_dot_product" ||
                    fname == "similarity_euclidean") {
                    // (column, term), (term, column) or (column, column)
                    for (int i = 0; i < 2; ++i) {
                        if (i == 1) expect_sym(",");
                        bool column = (peek().kind == tk::ident && !peek_kw("null")) ||
                                      peek().kind == tk::quoted_ident;
                        if (column) {
                            sel.args.push_back(ident());
                        } else {
                            if (sel.value) fail_at(peek(), "similarity of two literals");
                            sel.value = term();
                            sel.value_first = i == 0;
                        }
                    }
                    expect_sym(")");
                } else if (!accept_sym(")")) {
                    do {
                        sel.args.push_back(ident());
                    } while (accept_sym(","));
                    expect_sym(")");
                }
            }
        } else if (t.kind == tk::ident || t.kind == tk::quoted_ident) {
            sel.k = ast::selector::kind::column;
            sel.name = ident();
        } else {
            sel.k = ast::selector::kind::literal;
            sel.value = term();
        }
        if (accept_kw("as")) sel.alias = ident();
        return sel;
    }

    ast::insert_statement insert() {
        expect_kw("insert");
        expect_kw("into");
        ast::insert_statement s;
        s.table = qname();
        if (peek_kw("json")) fail_at(peek(), "INSERT JSON is not supported by cqlsim");
        expect_sym("(");
        do {
            s.columns.push_back(ident());
        } while (accept_sym(","));
        expect_sym(")");
        expect_kw("values");
        expect_sym("(");
        do {
            s.values.push_back(term());
        } while (accept_sym(","));
        expect_sym(")");
        s.if_not_exists = if_not_exists();
        using_clause(s.using_);
        if (!s.if_not_exists) s.if_not_exists = if_not_exists();
        return s;
    }

    ast::update_statement update() {
        expect_kw("update");
        ast::update_statement s;
        s.table = qname();
        using_clause(s.using_);
        expect_kw("set");
        do {
            ast::assignment a;
            a.column = ident();
            if (accept_sym("[")) {
                a.element = term();
                expect_sym("]");
                expect_sym("=");
                a.k = ast::assignment::kind::set_element;
                a.value = term();
            } else if (accept_sym(".")) {
                a.field = ident();
                expect_sym("=");
                a.k = ast::assignment::kind::set_field;
                a.value = term();
            } else {
                expect_sym("=");
                // c = c + x | c = c - x | c = x + c | c = x
                const auto& t = peek();
                bool self =
                    (t.kind == tk::ident || t.kind == tk::quoted_ident) &&
                    (t.kind == tk::quoted_ident ? t.text : fold_identifier(t.text)) == a.column &&
                    (peek_sym("+", 1) || peek_sym("-", 1));
                if (self) {
                    next();
                    a.k = accept_sym("+") ? ast::assignment::kind::add
                                          : (next(), ast::assignment::kind::subtract);
                    a.value = term();
                } else {
                    a.value = term();
                    if (accept_sym("+")) {
                        auto other = ident();
                        if (other != a.column)
                            fail_at(peek(),
                                    "Only expressions of the form X = <value> + X are supported.");
                        a.k = ast::assignment::kind::prepend;
                    }
                }
            }
            s.assignments.push_back(std::move(a));
        } while (accept_sym(","));
        s.where = where();
        if (s.where.empty()) fail_mismatch("K_WHERE");
        conditions(s.conditions, s.if_exists);
        return s;
    }

    ast::delete_statement del() {
        expect_kw("delete");
        ast::delete_statement s;
        if (!peek_kw("from")) {
            do {
                ast::delete_statement::target tg;
                tg.column = ident();
                if (accept_sym("[")) {
                    tg.element = term();
                    expect_sym("]");
                } else if (accept_sym(".")) {
                    tg.field = ident();
                }
                s.columns.push_back(std::move(tg));
            } while (accept_sym(","));
        }
        expect_kw("from");
        s.table = qname();
        using_clause(s.using_);
        s.where = where();
        if (s.where.empty()) fail_mismatch("K_WHERE");
        conditions(s.conditions, s.if_exists);
        return s;
    }

    ast::batch_statement batch() {
        expect_kw("begin");
        ast::batch_statement b;
        if (accept_kw("unlogged"))
            b.type = ast::batch_type::unlogged;
        else if (accept_kw("counter"))
            b.type = ast::batch_type::counter;
        else
            accept_kw("logged");
        expect_kw("batch");
        using_clause(b.using_);
        while (!peek_kw("apply")) {
            if (peek_kw("insert"))
                b.statements.emplace_back(insert());
            else if (peek_kw("update"))
                b.statements.emplace_back(update());
            else if (peek_kw("delete"))
                b.statements.emplace_back(del());
            else if (peek().kind == tk::end)
                fail_mismatch("K_APPLY");
            else
                fail_no_viable();
            accept_sym(";");
        }
        expect_kw("apply");
        expect_kw("batch");
        return b;
    }

    // ---- DDL ----
    std::string type_text() {
        // A CQL type as text, with nested <...>; kept for parse_cql_type.
        std::string out;
        const auto& t = peek();
        if (t.kind == tk::quoted_ident) {
            out = next().text;
        } else if (t.kind == tk::ident) {
            out = fold_identifier(next().text);
            if (accept_sym(".")) out += "." + ident();
        } else if (t.kind == tk::string) {
            out = "'" + next().text + "'";  // custom type class
            return out;
        } else {
            fail_no_viable();
        }
        if (peek_sym("<")) {
            next();
            out += "<";
            int n = 0;
            do {
                if (n++) out += ", ";
                if (peek().kind == tk::integer)
                    out += next().text;
                else
                    out += type_text();
            } while (accept_sym(","));
            expect_sym(">");
            out += ">";
        }
        return out;
    }

    ast::option_map string_map() {
        ast::option_map m;
        expect_sym("{");
        if (accept_sym("}")) return m;
        do {
            auto k = literal_text();
            expect_sym(":");
            auto v = literal_text();
            m.emplace_back(std::move(k), std::move(v));
        } while (accept_sym(","));
        expect_sym("}");
        return m;
    }
    std::string literal_text() {
        const auto& t = peek();
        switch (t.kind) {
            case tk::string:
            case tk::integer:
            case tk::floating:
            case tk::duration:
            case tk::uuid:
                return next().text;
            case tk::ident:
                return fold_identifier(next().text);
            case tk::quoted_ident:
                return next().text;
            case tk::symbol:
                if (t.text == "-") {
                    next();
                    return "-" + literal_text();
                }
                break;
            default:
                break;
        }
        fail_no_viable();
    }

    void table_options(std::vector<ast::table_option>& opts, ast::create_table* ct) {
        do {
            if (ct && peek_kw("clustering")) {
                next();
                expect_kw("order");
                expect_kw("by");
                expect_sym("(");
                do {
                    auto col = ident();
                    bool desc = false;
                    if (accept_kw("desc"))
                        desc = true;
                    else
                        accept_kw("asc");
                    ct->clustering_order.emplace_back(std::move(col), desc);
                } while (accept_sym(","));
                expect_sym(")");
                continue;
            }
            if (ct && peek_kw("compact")) {
                next();
                expect_kw("storage");
                ct->compact_storage = true;
                continue;
            }
            ast::table_option o;
            o.name = ident();
            expect_sym("=");
            if (peek_sym("{"))
                o.map = string_map();
            else
                o.value = literal_text();
            opts.push_back(std::move(o));
        } while (accept_kw("and"));
    }

    ast::statement create() {
        expect_kw("create");
        if (accept_kw("keyspace") || accept_kw("schema")) {
            ast::create_keyspace k;
            k.if_not_exists = if_not_exists();
            k.name = ident();
            expect_kw("with");
            do {
                auto opt = ident();
                expect_sym("=");
                if (opt == "replication")
                    k.replication = string_map();
                else if (opt == "durable_writes")
                    k.durable_writes = fold_identifier(literal_text()) == "true";
                else
                    fail_at(peek(), "Unknown property '" + opt + "'");
            } while (accept_kw("and"));
            return k;
        }
        if (accept_kw("table") || accept_kw("columnfamily")) {
            ast::create_table c;
            c.if_not_exists = if_not_exists();
            c.table = qname();
            expect_sym("(");
            do {
                if (peek_kw("primary")) {
                    next();
                    expect_kw("key");
                    expect_sym("(");
                    if (accept_sym("(")) {
                        do {
                            c.partition_key.push_back(ident());
                        } while (accept_sym(","));
                        expect_sym(")");
                    } else {
                        c.partition_key.push_back(ident());
                    }
                    while (accept_sym(","))
                        c.clustering.push_back(ident());
                    expect_sym(")");
                    continue;
                }
                ast::column_decl col;
                col.name = ident();
                col.type = type_text();
                if (accept_kw("static")) col.is_static = true;
                if (peek_kw("primary")) {
                    next();
                    expect_kw("key");
                    c.partition_key.push_back(col.name);
                }
                c.columns.push_back(std::move(col));
            } while (accept_sym(",") && !peek_sym(")"));
            expect_sym(")");
            if (accept_kw("with")) table_options(c.options, &c);
            return c;
        }
        if (accept_kw("type")) {
            ast::create_type ty;
            ty.if_not_exists = if_not_exists();
            ty.type = qname();
            expect_sym("(");
            do {
                auto n = ident();
                ty.fields.emplace_back(std::move(n), type_text());
            } while (accept_sym(","));
            expect_sym(")");
            return ty;
        }
        bool custom = accept_kw("custom");
        if (accept_kw("index")) {
            ast::create_index ix;
            ix.custom = custom;
            ix.if_not_exists = if_not_exists();
            if (!peek_kw("on")) ix.name = ident();
            expect_kw("on");
            ix.table = qname();
            expect_sym("(");
            if (peek().kind == tk::ident && peek_sym("(", 1)) {
                next();
                next();
                ix.column = ident();
                expect_sym(")");
            } else {
                ix.column = ident();
            }
            expect_sym(")");
            if (accept_kw("using")) {
                if (peek().kind == tk::string) next();
            }
            if (accept_kw("with")) {
                std::vector<ast::table_option> ignored;
                table_options(ignored, nullptr);
            }
            return ix;
        }
        fail_no_viable();
    }

    ast::statement alter() {
        expect_kw("alter");
        if (accept_kw("keyspace") || accept_kw("schema")) {
            ast::alter_keyspace k;
            k.name = ident();
            expect_kw("with");
            do {
                auto opt = ident();
                expect_sym("=");
                if (opt == "replication")
                    k.replication = string_map();
                else if (opt == "durable_writes")
                    k.durable_writes = fold_identifier(literal_text()) == "true";
                else
                    fail_at(peek(), "Unknown property '" + opt + "'");
            } while (accept_kw("and"));
            return k;
        }
        if (accept_kw("table") || accept_kw("columnfamily")) {
            ast::alter_table a;
            a.if_exists = if_exists();
            a.table = qname();
            if (accept_kw("add")) {
                a.k = ast::alter_table::kind::add;
                if_not_exists();
                bool paren = accept_sym("(");
                do {
                    ast::column_decl col;
                    col.name = ident();
                    col.type = type_text();
                    if (accept_kw("static")) col.is_static = true;
                    a.added.push_back(std::move(col));
                } while (paren && accept_sym(","));
                if (paren) expect_sym(")");
            } else if (accept_kw("drop")) {
                a.k = ast::alter_table::kind::drop;
                if_exists();
                bool paren = accept_sym("(");
                do {
                    a.dropped.push_back(ident());
                } while (paren && accept_sym(","));
                if (paren) expect_sym(")");
                if (accept_kw("using")) {
                    expect_kw("timestamp");
                    term();
                }
            } else if (accept_kw("rename")) {
                a.k = ast::alter_table::kind::rename;
                if_exists();
                do {
                    auto from = ident();
                    expect_kw("to");
                    a.renamed.emplace_back(std::move(from), ident());
                } while (accept_kw("and"));
            } else if (accept_kw("with")) {
                a.k = ast::alter_table::kind::with;
                table_options(a.options, nullptr);
            } else if (accept_kw("alter")) {
                a.k = ast::alter_table::kind::alter_type;
                ast::column_decl col;
                col.name = ident();
                expect_kw("type");
                col.type = type_text();
                a.added.push_back(std::move(col));
            } else {
                fail_no_viable();
            }
            return a;
        }
        if (accept_kw("type")) {
            ast::alter_type ty;
            ty.type = qname();
            if (accept_kw("add")) {
                auto n = ident();
                ty.added.emplace_back(std::move(n), type_text());
            } else if (accept_kw("rename")) {
                do {
                    auto from = ident();
                    expect_kw("to");
                    ty.renamed.emplace_back(std::move(from), ident());
                } while (accept_kw("and"));
            } else {
                fail_no_viable();
            }
            return ty;
        }
        fail_no_viable();
    }

    ast::statement drop() {
        expect_kw("drop");
        if (accept_kw("keyspace") || accept_kw("schema")) {
            ast::drop_keyspace d;
            d.if_exists = if_exists();
            d.name = ident();
            return d;
        }
        if (accept_kw("table") || accept_kw("columnfamily")) {
            ast::drop_table d;
            d.if_exists = if_exists();
            d.table = qname();
            return d;
        }
        if (accept_kw("type")) {
            ast::drop_type d;
            d.if_exists = if_exists();
            d.type = qname();
            return d;
        }
        if (accept_kw("index")) {
            ast::drop_index d;
            d.if_exists = if_exists();
            d.index = qname();
            return d;
        }
        fail_no_viable();
    }

    std::vector<token> t_;
    std::size_t pos_ = 0;
    std::vector<ast::bind_marker> markers_;
};

}  // namespace

std::variant<ast::parsed_statement, syntax_error> parse(std::string_view cql) {
    auto lexed = lex(cql);
    if (auto* e = std::get_if<lex_error>(&lexed)) return syntax_error{e->message};
    try {
        parser p(std::move(std::get<std::vector<token>>(lexed)));
        return p.statement();
    } catch (const parse_failure& f) {
        return syntax_error{f.message};
    }
}

}  // namespace cqlsim
