#include "transcript.hpp"

#include <cctype>
#include <cstdio>
#include <sstream>
#include <variant>

#include "cql/protocol/responses.hpp"
#include "cql/protocol/value.hpp"

namespace differential {

namespace p = cql::protocol;

namespace {

std::string hex(p::bytes_view b) {
    std::string out;
    char two[4];
    for (std::size_t i = 0; i < b.size(); ++i) {
        std::snprintf(two, sizeof two, i ? " %02x" : "%02x", b[i]);
        out += two;
    }
    return out;
}

std::string column(const p::column_spec& c) {
    return std::string(c.keyspace) + "." + std::string(c.table) + " " + std::string(c.name) + " " +
           p::to_cql_string(c.type);
}

// A cell as a CQL literal followed by its bytes: both must match.
std::string cell(const p::data_type& t, const p::value_view& v) {
    if (v.state == p::value_view::kind::null) return "null";
    if (v.state == p::value_view::kind::not_set) return "unset";
    p::value decoded;
    if (auto ec = p::decode_value(t, v.data, decoded))
        return "undecodable (" + ec.message() + ") (" + hex(v.data) + ")";
    return p::to_cql_literal(t, decoded) + " (" + hex(v.data) + ")";
}

void add_metadata(transcript& t, const std::string& step, const std::string& what,
                  const p::result_metadata& m) {
    std::string flags;
    if (m.global_tables_spec) flags += " global_tables_spec";
    if (m.paging_state) flags += " has_more_pages";
    if (m.no_metadata) flags += " no_metadata";
    if (m.new_metadata_id) flags += " metadata_changed";
    t.note(step, what + " flags", flags.empty() ? "none" : flags.substr(1));
    t.note(step, what + " columns", std::to_string(m.column_count));
    for (std::size_t i = 0; i < m.columns.size(); ++i)
        t.note(step, what + " column[" + std::to_string(i) + "]", column(m.columns[i]));
    // The paging state is the server's own encoding: only whether there is one is compared.
    if (m.paging_state) t.note(step, what + " paging_state", "present");
}

void add_error(transcript& t, const std::string& step, const p::error_response& e) {
    t.note(step, "error", std::string(p::to_string(e.code)));
    t.note(step, "message", std::string(e.message));
    std::visit(
        [&](const auto& d) {
            using T = std::decay_t<decltype(d)>;
            if constexpr (std::is_same_v<T, p::already_exists_info>) {
                t.note(step, "keyspace", std::string(d.keyspace));
                t.note(step, "table", std::string(d.table));
            } else if constexpr (std::is_same_v<T, p::unprepared_info>) {
                t.note(step, "id", hex(d.id));
            } else if constexpr (std::is_same_v<T, p::read_failure_info>) {
                t.note(step, "consistency", std::string(p::to_string(d.cl)));
                t.note(step, "received", std::to_string(d.received));
                t.note(step, "block_for", std::to_string(d.block_for));
                t.note(step, "num_failures", std::to_string(d.num_failures));
                t.note(step, "data_present", d.data_present ? "true" : "false");
                for (const auto& r : d.reasons)  // v5; the replica's address varies
                    t.note(step, "reason", "<node> " + std::to_string(r.code));
            } else if constexpr (std::is_same_v<T, p::unavailable_info>) {
                t.note(step, "consistency", std::string(p::to_string(d.cl)));
                t.note(step, "required", std::to_string(d.required));
                t.note(step, "alive", std::to_string(d.alive));
            } else if constexpr (!std::is_same_v<T, std::monostate>) {
                t.note(step, "details", "(not rendered)");
            }
        },
        e.details);
}

}  // namespace

namespace {

// "/127.0.0.21:7000" (a replica in a message) -> "/<node>:7000": the servers' addresses differ.
std::string without_addresses(std::string v) {
    for (std::size_t at = v.find('/'); at != std::string::npos; at = v.find('/', at + 1)) {
        auto end = at + 1;
        while (end < v.size() &&
               (std::isdigit(static_cast<unsigned char>(v[end])) || v[end] == '.'))
            ++end;
        if (end > at + 1 && end < v.size() && v[end] == ':')
            v.replace(at + 1, end - at - 1, "<node>");
    }
    return v;
}

}  // namespace

void transcript::note(const std::string& step, const std::string& field, const std::string& value) {
    lines.push_back(step + " " + field + ": " + without_addresses(value));
}

void transcript::add(const std::string& step, const cql::response& r) {
    for (std::size_t i = 0; i < r.warnings().size(); ++i)
        note(step, "warning[" + std::to_string(i) + "]", std::string(r.warnings()[i]));
    p::response m;
    if (auto ec = r.decode(m)) {
        note(step, "answer", "undecodable: " + ec.message());
        return;
    }
    std::visit(
        [&](const auto& msg) {
            using T = std::decay_t<decltype(msg)>;
            if constexpr (std::is_same_v<T, p::error_response>) {
                note(step, "answer", "ERROR");
                add_error(*this, step, msg);
            } else if constexpr (std::is_same_v<T, p::void_result>) {
                note(step, "answer", "RESULT void");
            } else if constexpr (std::is_same_v<T, p::set_keyspace_result>) {
                note(step, "answer", "RESULT set_keyspace " + std::string(msg.keyspace));
            } else if constexpr (std::is_same_v<T, p::schema_change_result>) {
                const auto& c = msg.change;
                note(step, "answer",
                     "RESULT schema_change " + std::string(p::to_string(c.change)) + " " +
                         std::string(p::to_string(c.target)) + " " + std::string(c.keyspace) +
                         (c.name.empty() ? "" : "." + std::string(c.name)));
            } else if constexpr (std::is_same_v<T, p::prepared_result>) {
                note(step, "answer", "RESULT prepared");
                note(step, "id", hex(msg.id));
                if (!msg.result_metadata_id.empty())
                    note(step, "result_metadata_id", hex(msg.result_metadata_id));
                std::string pk;
                for (auto i : msg.metadata.pk_indexes)
                    pk += " " + std::to_string(i);
                note(step, "pk_indexes", pk.empty() ? "none" : pk.substr(1));
                note(step, "bind global_tables_spec",
                     msg.metadata.global_tables_spec ? "true" : "false");
                for (std::size_t i = 0; i < msg.metadata.columns.size(); ++i)
                    note(step, "bind[" + std::to_string(i) + "]", column(msg.metadata.columns[i]));
                add_metadata(*this, step, "result", msg.result);
            } else if constexpr (std::is_same_v<T, p::rows_result>) {
                note(step, "answer", "RESULT rows");
                add_metadata(*this, step, "rows", msg.metadata);
                note(step, "row count", std::to_string(msg.row_count));
                std::size_t row = 0;
                for (auto rv : msg.rows()) {
                    std::size_t i = 0;
                    for (auto v : rv) {
                        const auto field = "row[" + std::to_string(row) + "]";
                        if (i < msg.metadata.columns.size()) {
                            const auto& col = msg.metadata.columns[i];
                            note(step, field + "." + std::string(col.name), cell(col.type, v));
                        } else {  // no metadata
                            note(step, field + "[" + std::to_string(i) + "]", hex(v.data));
                        }
                        ++i;
                    }
                    ++row;
                }
            } else {
                note(step, "answer", std::string(p::to_string(r.opcode())));
            }
        },
        m);
}

std::vector<std::string> compare(const transcript& expected, const transcript& actual,
                                 const allowed_differences& allowed, std::size_t limit) {
    auto step_of = [](const std::string& line) { return line.substr(0, line.find(' ', 3)); };
    auto kept = [&](const transcript& t) {
        std::vector<std::string> out;
        for (const auto& line : t.lines) {
            const auto step = step_of(line);
            bool skip = false;
            for (const auto* side : {&expected, &actual})
                for (const auto& s : side->skipped)
                    skip = skip || s.rfind(step + ":", 0) == 0;
            const auto after_version = line.substr(line.find(' ') + 1);
            const auto field = after_version.substr(after_version.find(' ') + 1);
            for (const auto& a : allowed)
                skip =
                    skip || (after_version.rfind(a.step, 0) == 0 && field.rfind(a.field, 0) == 0);
            if (!skip) out.push_back(line);
        }
        return out;
    };
    const auto a = kept(expected);
    const auto b = kept(actual);
    // The longest common subsequence, so that one missing field is one difference.
    std::vector<std::vector<std::uint32_t>> lcs(a.size() + 1,
                                                std::vector<std::uint32_t>(b.size() + 1, 0));
    for (std::size_t i = a.size(); i-- > 0;)
        for (std::size_t j = b.size(); j-- > 0;)
            lcs[i][j] =
                a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
    std::vector<std::string> out;
    std::size_t i = 0, j = 0;
    while ((i < a.size() || j < b.size()) && out.size() < limit) {
        if (i < a.size() && j < b.size() && a[i] == b[j]) {
            ++i;
            ++j;
        } else if (j < b.size() && (i == a.size() || lcs[i][j + 1] >= lcs[i + 1][j])) {
            out.push_back("+ " + b[j++]);
        } else {
            out.push_back("- " + a[i++]);
        }
    }
    return out;
}

std::string write(const transcript& t) {
    std::string out;
    for (const auto& s : t.skipped)
        out += "# skipped " + s + "\n";
    for (const auto& line : t.lines)
        out += line + "\n";
    return out;
}

transcript read(const std::string& text) {
    transcript t;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("# skipped ", 0) == 0)
            t.skipped.push_back(line.substr(10));
        else if (!line.empty() && line[0] != '#')
            t.lines.push_back(line);
    }
    return t;
}

}  // namespace differential
