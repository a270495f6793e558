// LWT and counter-update detection (see detail/statement_kind.hpp).
#include "detail/statement_kind.hpp"

#include <array>
#include <cstddef>
#include <cstdint>

namespace cql::detail {

namespace {

// ---- tokens ----

enum class tk : std::uint8_t { end, word, quoted, string, integer, number, marker, symbol };

struct token {
    tk kind = tk::end;
    std::string_view text;  // quoted identifiers with their quotes
};

constexpr bool is_alpha(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
constexpr bool is_digit(char c) noexcept {
    return c >= '0' && c <= '9';
}
constexpr bool is_hex(char c) noexcept {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
constexpr char to_lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool keyword(const token& t, std::string_view kw) noexcept {  // kw in upper case
    if (t.kind != tk::word || t.text.size() != kw.size()) return false;
    for (std::size_t i = 0; i < kw.size(); ++i)
        if (to_lower(t.text[i]) != to_lower(kw[i])) return false;
    return true;
}
bool symbol(const token& t, char c) noexcept {
    return t.kind == tk::symbol && t.text[0] == c;
}
bool is_identifier(const token& t) noexcept {
    return t.kind == tk::word || t.kind == tk::quoted;
}

// Splits CQL text into tokens, skipping white space and comments. Never fails: an
// unterminated literal or comment runs to the end.
class lexer {
  public:
    explicit lexer(std::string_view s) noexcept : s_(s) {}

    token next() noexcept {
        skip();
        if (i_ >= s_.size()) return {};
        const std::size_t b = i_;
        const char c = s_[i_];
        if (is_alpha(c)) {
            while (i_ < s_.size() && (is_alpha(s_[i_]) || is_digit(s_[i_])))
                ++i_;
            return {tk::word, s_.substr(b, i_ - b)};
        }
        if (c == '"' || c == '\'') {
            quoted_run(c);
            return {c == '"' ? tk::quoted : tk::string, s_.substr(b, i_ - b)};
        }
        if (c == '$' && at(i_ + 1) == '$') {
            const auto e = s_.find("$$", i_ + 2);
            i_ = e == std::string_view::npos ? s_.size() : e + 2;
            return {tk::string, s_.substr(b, i_ - b)};
        }
        if (is_digit(c)) return number();
        if (c == '?') {
            ++i_;
            return {tk::marker, s_.substr(b, 1)};
        }
        if (c == ':' && (is_alpha(at(i_ + 1)) || at(i_ + 1) == '"')) {
            ++i_;
            if (s_[i_] == '"') {
                quoted_run('"');
            } else {
                while (i_ < s_.size() && (is_alpha(s_[i_]) || is_digit(s_[i_])))
                    ++i_;
            }
            return {tk::marker, s_.substr(b, i_ - b)};
        }
        ++i_;
        return {tk::symbol, s_.substr(b, 1)};
    }

  private:
    char at(std::size_t i) const noexcept { return i < s_.size() ? s_[i] : '\0'; }

    // From an opening quote past the closing one; a doubled quote is an escaped one.
    void quoted_run(char q) noexcept {
        ++i_;
        while (i_ < s_.size()) {
            if (s_[i_] == q) {
                if (at(i_ + 1) == q) {
                    i_ += 2;
                    continue;
                }
                ++i_;
                return;
            }
            ++i_;
        }
    }

    // Integers, floats (1.5, 1e-3), hex blobs (0xcafe), uuids (0123abcd-...): only a run of
    // digits is an integer.
    token number() noexcept {
        const std::size_t b = i_;
        bool digits_only = true, hex_only = true;
        while (i_ < s_.size()) {
            const char c = s_[i_];
            if (is_digit(c)) {
            } else if (is_alpha(c) || c == '.') {
                digits_only = false;
                hex_only = hex_only && is_hex(c);
            } else if ((c == '-' || c == '+') && (s_[i_ - 1] == 'e' || s_[i_ - 1] == 'E') &&
                       is_digit(at(i_ + 1))) {
                digits_only = false;  // exponent sign
            } else if (c == '-' && hex_only && i_ - b >= 4 && is_hex(at(i_ + 1))) {
                digits_only = false;  // uuid
            } else {
                break;
            }
            ++i_;
        }
        return {digits_only ? tk::integer : tk::number, s_.substr(b, i_ - b)};
    }

    void skip() noexcept {
        while (i_ < s_.size()) {
            const char c = s_[i_];
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
                ++i_;
            } else if ((c == '-' && at(i_ + 1) == '-') || (c == '/' && at(i_ + 1) == '/')) {
                const auto e = s_.find('\n', i_);
                i_ = e == std::string_view::npos ? s_.size() : e + 1;
            } else if (c == '/' && at(i_ + 1) == '*') {
                const auto e = s_.find("*/", i_ + 2);
                i_ = e == std::string_view::npos ? s_.size() : e + 2;
            } else {
                return;
            }
        }
    }

    std::string_view s_;
    std::size_t i_ = 0;
};

// The characters of the name an identifier token stands for, one at a time (-1 at the end):
// unquoted lower-cased, quoted without quotes and with "" read as ".
class name_reader {
  public:
    explicit name_reader(std::string_view t) noexcept : s_(t), quoted_(!t.empty() && t[0] == '"') {
        if (quoted_) {
            i_ = 1;
            end_ = t.size() >= 2 && t.back() == '"' ? t.size() - 1 : t.size();
        } else {
            end_ = t.size();
        }
    }
    int next() noexcept {
        if (i_ >= end_) return -1;
        const char c = s_[i_++];
        if (quoted_) {
            if (c == '"' && i_ < end_ && s_[i_] == '"') ++i_;
            return static_cast<unsigned char>(c);
        }
        return static_cast<unsigned char>(to_lower(c));
    }

  private:
    std::string_view s_;
    bool quoted_;
    std::size_t i_ = 0, end_ = 0;
};

bool same_name(const token& a, const token& b) noexcept {
    if (!is_identifier(a) || !is_identifier(b)) return false;
    name_reader x(a.text), y(b.text);
    for (;;) {
        const int c = x.next();
        if (c != y.next()) return false;
        if (c < 0) return true;
    }
}

// An item of an assignment at bracket depth 0: a token, or a whole (...), [...], {...}
// (its opening symbol).
using item = token;

enum class operand : std::uint8_t { none, integer, marker, collection, other };

operand classify_operand(const item* it, std::size_t n) noexcept {
    if (n == 1) {
        switch (it[0].kind) {
            case tk::integer:
                return operand::integer;
            case tk::marker:
                return operand::marker;
            case tk::string:
                return operand::none;  // not an increment of anything
            case tk::symbol:
                if (symbol(it[0], '[') || symbol(it[0], '{')) return operand::collection;
                return operand::other;
            default:
                return operand::other;
        }
    }
    if (n == 2 && (symbol(it[0], '-') || symbol(it[0], '+')) && it[1].kind == tk::integer)
        return operand::integer;
    return operand::other;
}

class scanner {
  public:
    explicit scanner(std::string_view cql) noexcept : lex_(cql) {}

    statement_scan run() noexcept {
        for (auto t = lex_.next(); t.kind != tk::end; t = lex_.next())
            step(t);
        end_assignment();
        return out_;
    }

  private:
    enum class stmt : std::uint8_t { start, batch_head, insert, update, del, other };
    enum class phase : std::uint8_t { table, before_set, lhs, rhs, after };
    static constexpr std::size_t max_items = 8;

    void step(const token& t) {
        const bool open = symbol(t, '(') || symbol(t, '[') || symbol(t, '{');
        const bool close = symbol(t, ')') || symbol(t, ']') || symbol(t, '}');
        if (depth_ > 0) {
            if (open) ++depth_;
            if (close) --depth_;
            return;
        }
        if (close) return;  // unbalanced: ignore
        if (symbol(t, ';')) {
            end_assignment();
            cur_ = in_batch_ ? stmt::batch_head : stmt::start;
            return;
        }
        if (cur_ == stmt::other) return;
        if (keyword(t, "INSERT") || keyword(t, "UPDATE") || keyword(t, "DELETE")) {
            end_assignment();
            begin_dml(t);
            return;
        }
        switch (cur_) {
            case stmt::start:
                if (keyword(t, "BEGIN")) {
                    cur_ = stmt::batch_head;
                    in_batch_ = true;
                    out_.dml = true;
                } else {
                    cur_ = stmt::other;  // SELECT, DDL, USE, ...: no LWT, no counter
                }
                return;
            case stmt::batch_head:
                if (keyword(t, "COUNTER")) out_.counter_batch = true;
                if (keyword(t, "APPLY")) cur_ = stmt::other;
                return;
            default:
                break;
        }
        if (keyword(t, "APPLY")) {
            end_assignment();
            cur_ = stmt::other;
            return;
        }
        if (keyword(t, "IF")) {  // a reserved word: only a condition here
            end_assignment();
            out_.lwt = true;
            phase_ = phase::after;
            return;
        }
        if (cur_ == stmt::update) update_step(t);
        if (open) ++depth_;
    }

    void begin_dml(const token& t) noexcept {
        out_.dml = true;
        cur_ = keyword(t, "INSERT")   ? stmt::insert
               : keyword(t, "UPDATE") ? stmt::update
                                      : stmt::del;
        if (cur_ == stmt::update) out_.update = true;
        phase_ = phase::table;
        table_state_ = 0;
        keyspace_ = table_ = {};
    }

    void update_step(const token& t) noexcept {
        if (phase_ == phase::table) {
            if (table_state_ == 0 && is_identifier(t)) {
                table_ = t.text;
                table_state_ = 1;
                return;
            }
            if (table_state_ == 1 && symbol(t, '.')) {
                table_state_ = 2;
                return;
            }
            if (table_state_ == 2 && is_identifier(t)) {
                keyspace_ = table_;
                table_ = t.text;
                phase_ = phase::before_set;
                return;
            }
            phase_ = phase::before_set;
        }
        if (keyword(t, "WHERE")) {
            end_assignment();
            phase_ = phase::after;
            return;
        }
        if (phase_ == phase::before_set) {
            if (keyword(t, "SET")) start_assignment();
            return;
        }
        if (phase_ == phase::lhs) {
            if (symbol(t, '=')) {
                phase_ = phase::rhs;
                return;
            }
            if (lhs_count_ == 0) lhs_ = t;
            if (lhs_count_ == 1) lhs_op_ = t;
            ++lhs_count_;
            return;
        }
        if (phase_ == phase::rhs) {
            if (symbol(t, ',')) {
                end_assignment();
                start_assignment();
                return;
            }
            // A bracket group is one item: its opening symbol.
            if (rhs_count_ < max_items) rhs_[rhs_count_] = t;
            ++rhs_count_;
            before_last_ = last_;
            last_ = t;
        }
    }

    void start_assignment() noexcept {
        phase_ = phase::lhs;
        lhs_count_ = rhs_count_ = 0;
        lhs_ = lhs_op_ = last_ = before_last_ = {};
    }

    // Classifies the assignment just read, if it is one of c = c + x, c = c - x, c = x + c,
    // c += x, c -= x.
    void end_assignment() noexcept {
        if (cur_ != stmt::update || phase_ != phase::rhs) return;
        phase_ = phase::after;
        if (!is_identifier(lhs_) || rhs_count_ == 0) return;
        operand op = operand::none;
        const bool long_rhs = rhs_count_ > max_items;
        if (lhs_count_ == 2 && (symbol(lhs_op_, '+') || symbol(lhs_op_, '-'))) {  // c += x
            op = long_rhs ? operand::other : classify_operand(rhs_.data(), rhs_count_);
        } else if (lhs_count_ != 1 || rhs_count_ < 3) {
            return;
        } else if (same_name(rhs_[0], lhs_) && (symbol(rhs_[1], '+') || symbol(rhs_[1], '-'))) {
            op = long_rhs ? operand::other : classify_operand(rhs_.data() + 2, rhs_count_ - 2);
        } else if (same_name(last_, lhs_) && symbol(before_last_, '+')) {
            const auto n = rhs_count_ - 2;
            op = n > max_items ? operand::other : classify_operand(rhs_.data(), n);
        } else {
            return;
        }
        switch (op) {
            case operand::integer:
                out_.increment_int = true;
                return;
            case operand::marker:
                out_.increment_marker = true;
                break;
            case operand::other:
                out_.increment_other = true;
                break;
            default:
                return;
        }
        if (out_.column.empty()) {
            out_.keyspace = keyspace_;
            out_.table = table_;
            out_.column = lhs_.text;
        }
    }

    lexer lex_;
    statement_scan out_;
    stmt cur_ = stmt::start;
    phase phase_ = phase::after;
    bool in_batch_ = false;
    int depth_ = 0;
    int table_state_ = 0;
    std::string_view keyspace_, table_;
    token lhs_, lhs_op_, last_, before_last_;
    std::size_t lhs_count_ = 0, rhs_count_ = 0;
    std::array<item, max_items> rhs_{};
};

enum class tri : std::uint8_t { no, yes, unknown };

tri column_is_counter(const statement_scan& s, const schema_metadata* schema,
                      std::string_view default_keyspace) {
    if (!schema || s.table.empty() || s.column.empty()) return tri::unknown;
    const std::string ks =
        s.keyspace.empty() ? std::string(default_keyspace) : identifier_name(s.keyspace);
    const auto* t = schema->table(ks, identifier_name(s.table));
    if (!t) return tri::unknown;
    const auto* c = t->column(identifier_name(s.column));
    if (!c) return tri::unknown;
    return c->type == "counter" ? tri::yes : tri::no;
}

}  // namespace

statement_scan scan_statement(std::string_view cql) noexcept {
    return scanner(cql).run();
}

bool needs_schema(const statement_scan& s, bool have_markers) noexcept {
    if (s.counter_batch || s.increment_int) return false;
    return s.increment_other || (s.increment_marker && !have_markers);
}

statement_kind resolve(const statement_scan& s, const std::vector<prepared_column>* markers,
                       const schema_metadata* schema, std::string_view default_keyspace) {
    statement_kind k;
    k.lwt = s.lwt;
    if (s.counter_batch || s.increment_int) {
        k.counter = true;
        return k;
    }
    if (markers && s.update) {
        // A marker of type counter can only be the operand of a counter increment.
        for (const auto& m : *markers) {
            if (m.type.id == protocol::type_id::counter) {
                k.counter = true;
                return k;
            }
        }
    }
    if (!needs_schema(s, markers != nullptr)) return k;
    k.counter = column_is_counter(s, schema, default_keyspace) != tri::no;
    return k;
}

statement_kind classify_prepared(std::string_view cql, const std::vector<prepared_column>& markers,
                                 const schema_metadata* schema, std::string_view default_keyspace) {
    return resolve(scan_statement(cql), &markers, schema, default_keyspace);
}

bool selects_named_columns(std::string_view cql) noexcept {
    lexer lex(cql);
    if (!keyword(lex.next(), "SELECT")) return false;
    auto t = lex.next();
    if (keyword(t, "JSON")) t = lex.next();
    if (keyword(t, "DISTINCT")) t = lex.next();
    return t.kind != tk::end && !symbol(t, '*');
}

std::string identifier_name(std::string_view token) {
    std::string out;
    out.reserve(token.size());
    name_reader r(token);
    for (int c = r.next(); c >= 0; c = r.next())
        out.push_back(static_cast<char>(c));
    return out;
}

}  // namespace cql::detail
