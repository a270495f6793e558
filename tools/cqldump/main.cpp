// cqldump: prints the CQL frames one side of a connection sent, one line per frame.
//
//   cqldump --from client|server [--compression auto|none|lz4] [--rows] [--segments] FILE
//
// Each line: <offset> [<stream>] <OPCODE> <summary>. <offset> is the byte offset of the
// frame in FILE; for a frame carried by v5 segments it is <segment offset>+<position of
// the frame in the segment's payload, after decompression>. --rows adds one line per row
// of RESULT rows (cells as CQL literals; as blobs when the result has no metadata),
// --segments one line per v5 segment. At the first malformed byte it prints
// "error at offset N: <reason>" to stderr and exits 1. Exit 0 for a clean file, 2 for a
// bad command line or an unreadable file.

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "cql/protocol/requests.hpp"
#include "cql/protocol/responses.hpp"
#include "cql/protocol/stream_decoder.hpp"
#include "cql/protocol/value.hpp"

namespace cp = cql::protocol;

namespace {

struct options {
    cp::stream_side from = cp::stream_side::client;
    cp::compression_choice compression = cp::compression_choice::automatic;
    bool rows = false;
    bool segments = false;
    std::string file;
};

void usage() {
    std::cerr << "usage: cqldump --from client|server [--compression auto|none|lz4] [--rows] "
                 "[--segments] FILE\n";
}

// Returns false on a bad command line.
bool parse_args(int argc, char** argv, options& o) {
    bool have_from = false;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        auto next = [&](std::string_view& out) {
            if (i + 1 >= argc) return false;
            out = argv[++i];
            return true;
        };
        std::string_view v;
        if (a == "--from") {
            if (!next(v)) return false;
            if (v == "client")
                o.from = cp::stream_side::client;
            else if (v == "server")
                o.from = cp::stream_side::server;
            else
                return false;
            have_from = true;
        } else if (a == "--compression") {
            if (!next(v)) return false;
            if (v == "auto")
                o.compression = cp::compression_choice::automatic;
            else if (v == "none")
                o.compression = cp::compression_choice::none;
            else if (v == "lz4")
                o.compression = cp::compression_choice::lz4;
            else
                return false;
        } else if (a == "--rows") {
            o.rows = true;
        } else if (a == "--segments") {
            o.segments = true;
        } else if (!a.empty() && a[0] == '-') {
            return false;
        } else {
            if (!o.file.empty()) return false;
            o.file = std::string(a);
        }
    }
    return have_from && !o.file.empty();
}

// ---- text helpers ----

constexpr char hex_digits[] = "0123456789abcdef";

std::string hex(cp::bytes_view b) {
    std::string s;
    s.reserve(b.size() * 2);
    for (auto c : b) {
        s += hex_digits[c >> 4];
        s += hex_digits[c & 15];
    }
    return s;
}

// A double-quoted string with control characters, quotes and backslashes escaped.
std::string quoted(std::string_view text) {
    std::string s = "\"";
    for (char ch : text) {
        auto c = static_cast<unsigned char>(ch);
        if (ch == '"' || ch == '\\') {
            s += '\\';
            s += ch;
        } else if (ch == '\n') {
            s += "\\n";
        } else if (ch == '\t') {
            s += "\\t";
        } else if (ch == '\r') {
            s += "\\r";
        } else if (c < 0x20 || c == 0x7F) {
            s += "\\x";
            s += hex_digits[c >> 4];
            s += hex_digits[c & 15];
        } else {
            s += ch;
        }
    }
    s += '"';
    return s;
}

std::string uuid_text(const cp::uuid_bytes& u) {
    auto h = hex(cp::bytes_view(u.data(), u.size()));
    return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
           "-" + h.substr(20);
}

std::string inet_text(const cp::inet_address& a) {
    std::string s;
    if (a.size == 4) {
        for (int i = 0; i < 4; ++i) {
            if (i) s += '.';
            s += std::to_string(a.bytes[static_cast<std::size_t>(i)]);
        }
    } else {
        s += '[';
        for (int i = 0; i < 16; i += 2) {
            if (i) s += ':';
            s += hex(cp::bytes_view(a.bytes.data() + i, 2));
        }
        s += ']';
    }
    return s + ":" + std::to_string(a.port);
}

std::string token_text(const std::optional<cp::bytes_view>& t) {
    return t ? "token=" + std::to_string(t->size()) + "B" : std::string("token=null");
}

std::string batch_type_text(cp::batch_type t) {
    switch (t) {
        case cp::batch_type::logged:
            return "LOGGED";
        case cp::batch_type::unlogged:
            return "UNLOGGED";
        case cp::batch_type::counter:
            return "COUNTER";
    }
    return "UNKNOWN";
}

std::string params_text(const cp::query_parameters& p) {
    std::string s(cp::to_string(p.consistency_level));
    s += " values=" + std::to_string(p.values.size());
    if (!p.names.empty()) s += " named";
    if (p.skip_metadata) s += " skip_metadata";
    if (p.page_size) s += " page_size=" + std::to_string(*p.page_size);
    if (p.paging_state) s += " paging_state=" + std::to_string(p.paging_state->size()) + "B";
    if (p.serial_consistency) s += " serial=" + std::string(cp::to_string(*p.serial_consistency));
    if (p.default_timestamp) s += " timestamp=" + std::to_string(*p.default_timestamp);
    if (p.keyspace) s += " keyspace=" + std::string(*p.keyspace);
    if (p.now_in_seconds) s += " now=" + std::to_string(*p.now_in_seconds);
    return s;
}

std::string schema_change_text(const cp::schema_change& c) {
    std::string s(cp::to_string(c.change));
    s += ' ';
    s += cp::to_string(c.target);
    s += ' ';
    s += c.keyspace;
    if (c.target != cp::schema_change_target::keyspace) {
        s += '.';
        s += c.name;
    }
    if (c.target == cp::schema_change_target::function ||
        c.target == cp::schema_change_target::aggregate) {
        s += '(';
        for (std::size_t i = 0; i < c.arg_types.size(); ++i) {
            if (i) s += ", ";
            s += c.arg_types[i];
        }
        s += ')';
    }
    return s;
}

// ---- summaries ----

std::string summary(const cp::request& r) {
    return std::visit(
        [](const auto& m) -> std::string {
            using M = std::decay_t<decltype(m)>;
            if constexpr (std::is_same_v<M, cp::startup_request>) {
                std::string s = "{";
                for (std::size_t i = 0; i < m.options.size(); ++i) {
                    if (i) s += ", ";
                    s += m.options[i].first;
                    s += ": ";
                    s += quoted(m.options[i].second);
                }
                return s + "}";
            } else if constexpr (std::is_same_v<M, cp::auth_response_request>) {
                return token_text(m.token);
            } else if constexpr (std::is_same_v<M, cp::options_request>) {
                return "";
            } else if constexpr (std::is_same_v<M, cp::query_request>) {
                return params_text(m.params) + " " + quoted(m.query);
            } else if constexpr (std::is_same_v<M, cp::prepare_request>) {
                std::string s = quoted(m.query);
                if (m.keyspace) s += " keyspace=" + std::string(*m.keyspace);
                return s;
            } else if constexpr (std::is_same_v<M, cp::execute_request>) {
                std::string s = "id=" + hex(m.id);
                if (!m.result_metadata_id.empty()) s += " metadata_id=" + hex(m.result_metadata_id);
                return s + " " + params_text(m.params);
            } else if constexpr (std::is_same_v<M, cp::batch_request>) {
                std::string s = batch_type_text(m.type) +
                                " statements=" + std::to_string(m.statements.size()) + " " +
                                std::string(cp::to_string(m.consistency_level));
                if (m.serial_consistency)
                    s += " serial=" + std::string(cp::to_string(*m.serial_consistency));
                if (m.default_timestamp) s += " timestamp=" + std::to_string(*m.default_timestamp);
                if (m.keyspace) s += " keyspace=" + std::string(*m.keyspace);
                return s;
            } else {
                static_assert(std::is_same_v<M, cp::register_request>);
                std::string s = "[";
                for (std::size_t i = 0; i < m.event_types.size(); ++i) {
                    if (i) s += ", ";
                    s += m.event_types[i];
                }
                return s + "]";
            }
        },
        r);
}

std::string summary(const cp::response& r) {
    return std::visit(
        [](const auto& m) -> std::string {
            using M = std::decay_t<decltype(m)>;
            if constexpr (std::is_same_v<M, cp::error_response>) {
                char code[16];
                std::snprintf(code, sizeof code, "0x%04x", static_cast<unsigned>(m.code));
                return std::string(code) + " " + std::string(cp::to_string(m.code)) + " " +
                       quoted(m.message);
            } else if constexpr (std::is_same_v<M, cp::ready_response>) {
                return "";
            } else if constexpr (std::is_same_v<M, cp::authenticate_response>) {
                return std::string(m.authenticator);
            } else if constexpr (std::is_same_v<M, cp::supported_response>) {
                std::string s = "{";
                for (std::size_t i = 0; i < m.options.size(); ++i) {
                    if (i) s += ", ";
                    s += m.options[i].first;
                    s += ": [";
                    for (std::size_t k = 0; k < m.options[i].second.size(); ++k) {
                        if (k) s += ", ";
                        s += m.options[i].second[k];
                    }
                    s += ']';
                }
                return s + "}";
            } else if constexpr (std::is_same_v<M, cp::void_result>) {
                return "void";
            } else if constexpr (std::is_same_v<M, cp::rows_result>) {
                return "rows columns=" + std::to_string(m.metadata.column_count) +
                       " rows=" + std::to_string(m.row_count) +
                       " has_more_pages=" + (m.metadata.paging_state ? "true" : "false");
            } else if constexpr (std::is_same_v<M, cp::set_keyspace_result>) {
                return "set_keyspace " + std::string(m.keyspace);
            } else if constexpr (std::is_same_v<M, cp::prepared_result>) {
                std::string s = "prepared id=" + hex(m.id);
                if (!m.result_metadata_id.empty()) s += " metadata_id=" + hex(m.result_metadata_id);
                return s + " markers=" + std::to_string(m.metadata.columns.size()) +
                       " columns=" + std::to_string(m.result.column_count);
            } else if constexpr (std::is_same_v<M, cp::schema_change_result>) {
                return "schema_change " + schema_change_text(m.change);
            } else if constexpr (std::is_same_v<M, cp::topology_change_event>) {
                return "TOPOLOGY_CHANGE " + std::string(cp::to_string(m.change)) + " " +
                       inet_text(m.address);
            } else if constexpr (std::is_same_v<M, cp::status_change_event>) {
                return "STATUS_CHANGE " + std::string(cp::to_string(m.change)) + " " +
                       inet_text(m.address);
            } else if constexpr (std::is_same_v<M, cp::schema_change_event>) {
                return "SCHEMA_CHANGE " + schema_change_text(m.change);
            } else if constexpr (std::is_same_v<M, cp::auth_challenge_response>) {
                return token_text(m.token);
            } else {
                static_assert(std::is_same_v<M, cp::auth_success_response>);
                return token_text(m.token);
            }
        },
        r);
}

std::string prefix_text(const cp::frame_header& h, const cp::body_prefix& p) {
    std::string s;
    if (p.tracing_id) s += " tracing=" + uuid_text(*p.tracing_id);
    if (h.has(cp::frame_flags::tracing) && !h.is_response) s += " tracing";
    for (auto w : p.warnings)
        s += " warning=" + quoted(w);
    if (!p.custom_payload.empty())
        s += " custom_payload=" + std::to_string(p.custom_payload.size());
    return s;
}

// Prints one line per row; false (with `why`) when a cell does not fit its type.
bool print_rows(const cp::rows_result& r, std::string& out, std::error_code& why) {
    const auto& md = r.metadata;
    const bool typed =
        !md.no_metadata && md.columns.size() == static_cast<std::size_t>(md.column_count);
    cp::data_type blob(cp::type_id::blob);
    for (auto row : r.rows()) {
        out += "    (";
        std::size_t i = 0;
        for (auto cell : row) {
            if (i) out += ", ";
            const auto& t = typed ? md.columns[i].type : blob;
            if (cell.is_null()) {
                out += "null";
            } else {
                cp::value v;
                if (auto ec = cp::decode_value(t, cell.data, v)) {
                    why = ec;
                    return false;
                }
                out += cp::to_cql_literal(t, v);
            }
            ++i;
        }
        out += ")\n";
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    options opt;
    if (!parse_args(argc, argv, opt)) {
        usage();
        return 2;
    }
    std::ifstream in(opt.file, std::ios::binary);
    if (!in) {
        std::cerr << "cqldump: cannot open " << opt.file << "\n";
        return 2;
    }

    cp::stream_decoder decoder(opt.from, opt.compression);
    cp::decoded_request req;
    cp::response resp;
    cp::body_prefix prefix;
    std::string out;
    std::error_code row_error;

    auto on_segment = [&](const cp::stream_segment& g) {
        if (!opt.segments) return;
        out += std::to_string(g.offset) +
               " segment payload=" + std::to_string(g.header.payload_length);
        if (g.layout == cp::compression_algorithm::lz4)
            out += " uncompressed=" + std::to_string(g.header.uncompressed_length);
        out += g.header.self_contained ? " self_contained\n" : " part\n";
    };
    auto on_frame = [&](const cp::stream_frame& f) -> std::error_code {
        const auto& h = f.frame.header;
        std::string line = std::to_string(f.offset);
        if (f.in_segments) line += "+" + std::to_string(f.payload_offset);
        line += " [" + std::to_string(h.stream) + "] ";
        line += cp::to_string(h.op);
        std::string text;
        if (opt.from == cp::stream_side::client) {
            if (auto ec = cp::decode_request(f.frame, req)) return ec;
            text = summary(req.message) + prefix_text(h, req.prefix);
        } else {
            prefix = {};
            if (auto ec = cp::decode_response(f.frame, resp, prefix)) return ec;
            text = summary(resp) + prefix_text(h, prefix);
        }
        if (!text.empty()) line += " " + text;
        out += line;
        out += '\n';
        if (opt.rows) {
            if (auto* rows = std::get_if<cp::rows_result>(&resp);
                rows && opt.from == cp::stream_side::server) {
                if (!print_rows(*rows, out, row_error)) return row_error;
            }
        }
        if (out.size() > 1 << 16) {
            std::fwrite(out.data(), 1, out.size(), stdout);
            out.clear();
        }
        return {};
    };

    std::vector<char> chunk(1 << 16);
    std::error_code ec;
    while (!ec && in) {
        in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
        auto n = static_cast<std::size_t>(in.gcount());
        if (n == 0) break;
        ec = decoder.feed(cp::bytes_view(reinterpret_cast<const std::uint8_t*>(chunk.data()), n),
                          on_frame, on_segment);
    }
    if (!ec && in.bad()) {
        std::fwrite(out.data(), 1, out.size(), stdout);
        std::cerr << "cqldump: cannot read " << opt.file << "\n";
        return 2;
    }
    if (!ec) ec = decoder.finish();
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
    if (ec) {
        std::cerr << "error at offset " << decoder.error_offset() << ": " << ec.message() << "\n";
        return 1;
    }
    return 0;
}
