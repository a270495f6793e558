// Writes seed corpora for the fuzz targets from the real traffic in tests/fixtures:
//   fuzz_seeds FIXTURES_DIR OUT_DIR   (FIXTURES_DIR defaults to the source tree's)
// OUT_DIR/<target>/ receives one file per seed, named by a hash of its contents.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <string_view>
#include <variant>

#include "cql/protocol/responses.hpp"
#include "cql/protocol/stream_decoder.hpp"
#include "cql/protocol/types.hpp"
#include "cql/values.hpp"
#include "fuzz_common.hpp"

namespace fs = std::filesystem;
using namespace cql::protocol;

namespace {

fs::path out_dir;
std::set<std::string> written;
std::size_t counts[7] = {};

void write_seed(const char* target, int index, const byte_buffer& b) {
    char name[32];
    std::snprintf(name, sizeof name, "%016llx",
                  static_cast<unsigned long long>(cql::fuzz::hash_bytes(b.data(), b.size())));
    auto path = out_dir / target / name;
    if (!written.insert(path.string()).second) return;
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
    ++counts[index];
}

byte_buffer with_prefix(std::initializer_list<std::uint8_t> prefix, bytes_view rest) {
    byte_buffer b(prefix);
    b.insert(b.end(), rest.begin(), rest.end());
    return b;
}

void seed_from(const fs::path& file, stream_side side, bool lz4) {
    std::ifstream in(file, std::ios::binary);
    byte_buffer data(std::istreambuf_iterator<char>(in), {});
    const std::uint8_t side_bit = side == stream_side::server ? 1 : 0;

    // fuzz_stream: the start of the connection, with automatic and forced compression.
    bytes_view head(data.data(), std::min<std::size_t>(data.size(), 32768));
    write_seed("fuzz_stream", 4, with_prefix({side_bit}, head));
    write_seed("fuzz_stream", 4,
               with_prefix({static_cast<std::uint8_t>(side_bit | (lz4 ? 4 : 2))}, head));

    stream_decoder d(side);
    byte_buffer run;  // consecutive segments for fuzz_segment
    int in_run = 0;
    auto on_segment = [&](const stream_segment& g) {
        if (run.empty()) run.push_back(g.layout == compression_algorithm::lz4 ? 1 : 0);
        run.insert(run.end(), g.wire.begin(), g.wire.end());
        if (++in_run == 3 || run.size() > 16384) {
            write_seed("fuzz_segment", 1, run);
            run.clear();
            in_run = 0;
        }
    };
    auto on_frame = [&](const stream_frame& f) {
        if (f.envelope.size() <= 16384) {
            byte_buffer env(f.envelope.begin(), f.envelope.end());
            write_seed("fuzz_frame", 0, env);
        }
        if (f.frame.body.size() <= 8192)
            write_seed("fuzz_message", 2,
                       with_prefix(
                           {static_cast<std::uint8_t>(static_cast<int>(f.frame.header.version) - 3),
                            static_cast<std::uint8_t>(f.frame.header.op)},
                           f.frame.body));
        if (side != stream_side::server || f.frame.header.op != opcode::result) return;
        response r;
        body_prefix p;
        if (decode_response(f.frame, r, p)) return;
        auto* rows = std::get_if<rows_result>(&r);
        if (!rows || rows->metadata.no_metadata) return;
        // fuzz_value: each column type with the first non-null cell of that column.
        for (std::size_t i = 0; i < rows->metadata.columns.size(); ++i) {
            for (auto row : rows->rows()) {
                auto cell = row[i];
                if (cell.is_null()) continue;
                byte_buffer seed;
                byte_writer w(seed);
                write_type_option(w, rows->metadata.columns[i].type);
                w.raw(cell.data);
                if (seed.size() <= 2048) {
                    write_seed("fuzz_value", 3, seed);
                    write_seed("fuzz_mapping", 5, seed);
                }
                break;
            }
        }
    };
    auto ec = d.feed(data, on_frame, on_segment);
    if (!ec) ec = d.finish();
    if (ec) std::fprintf(stderr, "%s: %s\n", file.string().c_str(), ec.message().c_str());
    // fuzz_handshake: the server's answers from the start, behind the control byte of the
    // client settings of that connection (v5, LZ4), and with "a lower version may follow".
    if (side == stream_side::server && d.version()) {
        const auto control = static_cast<std::uint8_t>(
            (*d.version() == protocol_version::v5 ? 1 : 0) | (lz4 ? 2 : 0));
        bytes_view answers(data.data(), std::min<std::size_t>(data.size(), 8192));
        write_seed("fuzz_handshake", 6, with_prefix({control}, answers));
        write_seed("fuzz_handshake", 6,
                   with_prefix({static_cast<std::uint8_t>(control | 8)}, answers));
    }
    if (!run.empty()) write_seed("fuzz_segment", 1, run);
}

// fuzz_mapping: user types shaped like its structs (inner {a int, b text}, outer {x inner,
// xs list<inner>, m map<text, inner>, n bigint}), fields in another order than the structs'.
void mapping_seeds() {
    data_type inner(type_id::udt);
    inner.keyspace = "ks";
    inner.name = "inner";
    inner.field_names = {"b", "a"};
    inner.params = {data_type(type_id::varchar), data_type(type_id::int_)};
    data_type outer(type_id::udt);
    outer.keyspace = "ks";
    outer.name = "outer";
    outer.field_names = {"n", "x", "xs", "m"};
    outer.params = {data_type(type_id::bigint), inner, list_of(inner),
                    map_of(data_type(type_id::varchar), inner)};
    using inner_v = std::tuple<std::string, std::int32_t>;
    using outer_v =
        std::tuple<std::int64_t, inner_v, std::vector<inner_v>, std::map<std::string, inner_v>>;
    const outer_v o{7, {"b", 1}, {{"c", 2}, {"d", 3}}, {{"k", {"e", 4}}}};
    auto seed = [](const data_type& t, const auto& v) {
        byte_buffer b;
        byte_writer w(b);
        write_type_option(w, t);
        if (!cql::values::encode(w, v)) write_seed("fuzz_mapping", 5, b);
    };
    seed(inner, inner_v{"b", 1});
    seed(outer, o);
    seed(list_of(outer), std::vector<outer_v>{o, o});
    seed(tuple_of({data_type(type_id::int_), data_type(type_id::varchar)}),
         std::tuple<std::int32_t, std::string>{1, "q"});
}

}  // namespace

int main(int argc, char** argv) {
    fs::path fixtures = argc > 1 ? argv[1] : CQL_FIXTURES_DIR;
    out_dir = argc > 2 ? argv[2] : "corpus";
    const char* targets[] = {"fuzz_frame",  "fuzz_segment", "fuzz_message",  "fuzz_value",
                             "fuzz_stream", "fuzz_mapping", "fuzz_handshake"};
    for (auto t : targets)
        fs::create_directories(out_dir / t);
    // fuzz_value_types: no fixtures; a few texts and cells to start from.
    fs::create_directories(out_dir / "fuzz_value_types");
    using namespace std::string_view_literals;
    const std::string_view value_seeds[] = {"\x00-123456789012345678901234567890"sv,
                                            "\x01-12.3400E+5"sv,
                                            "\x02::1"sv,
                                            "\x03\xff\x7f"sv,
                                            "\x04\x00\x00\x00\x02\x4e"sv,
                                            "\x05\x0a\x00\x00\x07"sv};
    int n = 0;
    for (auto v : value_seeds) {
        std::ofstream f(out_dir / "fuzz_value_types" / ("seed" + std::to_string(n++)),
                        std::ios::binary);
        f.write(v.data(), static_cast<std::streamsize>(v.size()));
    }
    for (int conn = 0; conn < 6; ++conn) {
        auto base = fixtures / "cassandra-4.0-traffic" / ("conn0" + std::to_string(conn));
        seed_from(base.string() + ".client.bin", stream_side::client, conn >= 4);
        seed_from(base.string() + ".server.bin", stream_side::server, conn >= 4);
    }
    mapping_seeds();
    for (int i = 0; i < 7; ++i)
        std::printf("%s: %zu seeds\n", targets[i], counts[i]);
    return 0;
}
