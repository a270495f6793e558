// Golden test over the real traffic in tests/fixtures/cassandra-4.0-traffic (Cassandra 4.0.2
// and the DataStax Python driver 3.25): both directions of all six connections are decoded
// with stream_decoder; every frame and every v5 segment must decode, the counts are checked
// against an independent walk of the bytes, every uncompressed message re-encodes to the
// bytes Cassandra or the driver sent, LZ4 payloads round-trip, and every cell of every
// RESULT rows decodes against its column type. Then specific content of the scenario.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <deque>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>

#include "cql/protocol/compression.hpp"
#include "cql/protocol/requests.hpp"
#include "cql/protocol/responses.hpp"
#include "cql/protocol/segment.hpp"
#include "cql/protocol/stream_decoder.hpp"
#include "cql/protocol/value.hpp"

using namespace cql::protocol;

namespace {

struct fixture {
    int conn;
    protocol_version version;
    bool lz4;
    std::size_t client_frames;
    std::size_t server_frames;
    std::size_t client_segments;
    std::size_t server_segments;
    const char* keyspace;  // of the request connection's scenario
};

// Counts taken from cqldump and cross-checked below by an independent walk.
const fixture fixtures[] = {
    {0, protocol_version::v4, false, 85, 95, 0, 0, "conf_v4"},
    {1, protocol_version::v4, false, 136, 136, 0, 0, "conf_v4"},
    {2, protocol_version::v5, false, 85, 95, 83, 71, "conf_v5"},
    {3, protocol_version::v5, false, 136, 136, 134, 130, "conf_v5"},
    {4, protocol_version::v5, true, 85, 95, 83, 62, "conf_v5_lz4"},
    {5, protocol_version::v5, true, 136, 136, 134, 125, "conf_v5_lz4"},
};

byte_buffer load(const std::string& name) {
    std::ifstream in(std::string(CQL_FIXTURES_DIR) + "/cassandra-4.0-traffic/" + name,
                     std::ios::binary);
    REQUIRE(in);
    return byte_buffer(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string file_name(int conn, stream_side side) {
    return "conn0" + std::to_string(conn) +
           (side == stream_side::client ? ".client.bin" : ".server.bin");
}

bytes_view view(const byte_buffer& b) {
    return {b.data(), b.size()};
}

struct captured_frame {
    std::size_t offset = 0;
    std::size_t payload_offset = 0;
    bool in_segments = false;
    bool spread = false;
    bool compressed = false;
    frame_header header;
    byte_buffer body;      // decompressed
    byte_buffer envelope;  // as framed

    frame_view frame() const { return {header, view(body)}; }
};

struct captured_segment {
    std::size_t offset = 0;
    compression_algorithm layout = compression_algorithm::none;
    segment_header header;
    byte_buffer wire;
    byte_buffer payload;
};

struct capture {
    std::vector<captured_frame> frames;
    std::vector<captured_segment> segments;
    std::error_code error;
    std::size_t error_offset = 0;
    std::optional<std::size_t> segments_start;
    std::optional<protocol_version> version;
    compression_algorithm layout = compression_algorithm::none;
};

// Decodes `data` fed in pieces whose sizes cycle through `chunks` (empty: all at once).
capture decode_all(bytes_view data, stream_side side,
                   compression_choice c = compression_choice::automatic,
                   std::vector<std::size_t> chunks = {}) {
    capture out;
    stream_decoder d(side, c);
    auto on_frame = [&](const stream_frame& f) {
        captured_frame cf;
        cf.offset = f.offset;
        cf.payload_offset = f.payload_offset;
        cf.in_segments = f.in_segments;
        cf.spread = f.spread;
        cf.compressed = f.compressed;
        cf.header = f.frame.header;
        cf.body.assign(f.frame.body.begin(), f.frame.body.end());
        cf.envelope.assign(f.envelope.begin(), f.envelope.end());
        out.frames.push_back(std::move(cf));
    };
    auto on_segment = [&](const stream_segment& g) {
        captured_segment cs;
        cs.offset = g.offset;
        cs.layout = g.layout;
        cs.header = g.header;
        cs.wire.assign(g.wire.begin(), g.wire.end());
        cs.payload.assign(g.payload.begin(), g.payload.end());
        out.segments.push_back(std::move(cs));
    };
    std::error_code ec;
    if (chunks.empty()) {
        ec = d.feed(data, on_frame, on_segment);
    } else {
        std::size_t pos = 0;
        for (std::size_t i = 0; pos < data.size() && !ec; ++i) {
            auto n = std::min(chunks[i % chunks.size()], data.size() - pos);
            ec = d.feed(data.subspan(pos, n), on_frame, on_segment);
            pos += n;
        }
    }
    if (!ec) ec = d.finish();
    out.error = ec;
    out.error_offset = d.error_offset();
    out.segments_start = d.segments_start();
    out.version = d.version();
    out.layout = d.segment_layout();
    return out;
}

// An independent walk: plain frames with split_frame up to the v5 handshake frame, then
// segments with split_segment and lz4_decompress, frames in each payload with split_frame.
struct walk_counts {
    std::size_t frames = 0;
    std::size_t segments = 0;
};
walk_counts independent_walk(bytes_view data, const fixture& fx, stream_side side) {
    walk_counts n;
    std::size_t pos = 0;
    bool handshake_done = false;
    while (pos < data.size() && !handshake_done) {
        auto s = split_frame(data.subspan(pos));
        REQUIRE(!s.error);
        REQUIRE(s.consumed > 0);
        pos += s.consumed;
        ++n.frames;
        auto op = s.frame.header.op;
        if (fx.version == protocol_version::v5)
            handshake_done = side == stream_side::client
                                 ? op == opcode::startup
                                 : (op == opcode::ready || op == opcode::authenticate);
    }
    auto layout = fx.lz4 ? compression_algorithm::lz4 : compression_algorithm::none;
    while (pos < data.size()) {
        auto s = split_segment(data.subspan(pos), layout);
        REQUIRE(!s.error);
        REQUIRE(s.consumed > 0);
        ++n.segments;
        byte_buffer inflated;
        auto payload = s.payload;
        if (s.header.uncompressed_length != 0) {
            REQUIRE(!lz4_decompress(s.payload, s.header.uncompressed_length, inflated));
            payload = view(inflated);
        }
        // No frame of the fixtures is spread over segments.
        REQUIRE(s.header.self_contained);
        while (!payload.empty()) {
            auto f = split_frame(payload);
            REQUIRE(!f.error);
            REQUIRE(f.consumed > 0);
            ++n.frames;
            payload = payload.subspan(f.consumed);
        }
        pos += s.consumed;
    }
    return n;
}

// Re-encodes a decoded request and compares with the frame as sent.
void check_request_reencodes(const captured_frame& f) {
    decoded_request req;
    REQUIRE(decode_request(f.frame(), req) == std::error_code{});
    byte_buffer out;
    const body_prefix* prefix = req.prefix.custom_payload.empty() ? nullptr : &req.prefix;
    REQUIRE(encode_request_frame(out, f.header.version, req.stream, req.message, prefix,
                                 req.tracing) == std::error_code{});
    if (f.compressed && !f.in_segments) {
        // v4 compressed body: the decompressed body must match.
        REQUIRE(out.size() >= frame_header_size);
        CHECK(byte_buffer(out.begin() + frame_header_size, out.end()) == f.body);
    } else {
        CHECK(out == f.envelope);
    }
}

void check_response_reencodes(const captured_frame& f) {
    response resp;
    body_prefix prefix;
    REQUIRE(decode_response(f.frame(), resp, prefix) == std::error_code{});
    byte_buffer out;
    encode_response_frame(out, f.header.version, f.header.stream, resp, &prefix);
    if (f.compressed && !f.in_segments) {
        REQUIRE(out.size() >= frame_header_size);
        CHECK(byte_buffer(out.begin() + frame_header_size, out.end()) == f.body);
    } else {
        CHECK(out == f.envelope);
    }
}

// What the cell check of all rows found.
struct cell_stats {
    std::size_t results = 0;
    std::size_t results_without_metadata = 0;
    std::size_t cells = 0;
    std::size_t nulls = 0;
    std::set<type_id> types;  // every type met in a non-null cell, nested ones included
};

void note_types(const data_type& t, std::set<type_id>& out) {
    out.insert(t.id);
    for (const auto& p : t.params)
        note_types(p, out);
}

void check_cells(const rows_result& r, cell_stats& st) {
    ++st.results;
    const auto& md = r.metadata;
    if (md.no_metadata) {
        ++st.results_without_metadata;
        return;
    }
    REQUIRE(md.columns.size() == static_cast<std::size_t>(md.column_count));
    for (auto row : r.rows()) {
        std::size_t i = 0;
        for (auto cell : row) {
            const auto& t = md.columns[i++].type;
            ++st.cells;
            if (cell.is_null()) {
                ++st.nulls;
                continue;
            }
            value v;
            INFO("column " << md.columns[i - 1].name);
            REQUIRE(decode_value(t, cell.data, v) == std::error_code{});
            REQUIRE(validate_value(t, cell.data) == std::error_code{});
            byte_buffer again;
            REQUIRE(encode_value(t, v, again) == std::error_code{});
            CHECK(again == byte_buffer(cell.data.begin(), cell.data.end()));
            CHECK_FALSE(to_cql_literal(t, v).empty());
            note_types(t, st.types);
        }
    }
}

}  // namespace

TEST_CASE("every frame and segment of every fixture decodes and re-encodes") {
    cell_stats stats;
    for (const auto& fx : fixtures) {
        for (auto side : {stream_side::client, stream_side::server}) {
            auto name = file_name(fx.conn, side);
            INFO(name);
            auto data = load(name);
            auto cap = decode_all(view(data), side);
            REQUIRE(cap.error == std::error_code{});
            REQUIRE(cap.version == fx.version);

            // Frame and segment counts, checked against an independent walk.
            const bool client = side == stream_side::client;
            CHECK(cap.frames.size() == (client ? fx.client_frames : fx.server_frames));
            CHECK(cap.segments.size() == (client ? fx.client_segments : fx.server_segments));
            auto walk = independent_walk(view(data), fx, side);
            CHECK(walk.frames == cap.frames.size());
            CHECK(walk.segments == cap.segments.size());

            // Every byte belongs to a frame or a segment, in order.
            std::size_t covered = 0;
            for (const auto& f : cap.frames)
                if (!f.in_segments) {
                    CHECK(f.offset == covered);
                    covered += f.envelope.size();
                }
            if (fx.version == protocol_version::v5) {
                REQUIRE(cap.segments_start);
                CHECK(*cap.segments_start == covered);
                CHECK(cap.layout ==
                      (fx.lz4 ? compression_algorithm::lz4 : compression_algorithm::none));
            } else {
                CHECK_FALSE(cap.segments_start);
            }
            for (const auto& g : cap.segments) {
                CHECK(g.offset == covered);
                covered += g.wire.size();
            }
            CHECK(covered == data.size());

            // Segments: CRCs were checked by decoding; re-encoding an uncompressed one gives
            // the same bytes, compressed payloads decompress to exactly their declared
            // length and round-trip through our own LZ4.
            std::size_t compressed_segments = 0;
            for (const auto& g : cap.segments) {
                REQUIRE(g.layout == cap.layout);
                if (g.layout == compression_algorithm::none) {
                    byte_buffer again;
                    REQUIRE(encode_segment(view(g.payload), g.header.self_contained, g.layout,
                                           again) == std::error_code{});
                    CHECK(again == g.wire);
                    continue;
                }
                if (g.header.uncompressed_length == 0) {
                    // Sent as is: the payload is the wire payload.
                    CHECK(g.payload.size() == g.header.payload_length);
                    CHECK(std::equal(g.payload.begin(), g.payload.end(),
                                     g.wire.begin() + compressed_segment_header_size));
                } else {
                    ++compressed_segments;
                    CHECK(g.payload.size() == g.header.uncompressed_length);
                }
                byte_buffer packed, unpacked;
                REQUIRE(lz4_compress(view(g.payload), packed) == std::error_code{});
                REQUIRE(lz4_decompress(view(packed), g.payload.size(), unpacked) ==
                        std::error_code{});
                CHECK(unpacked == g.payload);
                byte_buffer seg;
                REQUIRE(encode_segment(view(g.payload), g.header.self_contained, g.layout, seg) ==
                        std::error_code{});
                segment_decoder dec(g.layout);
                auto s = dec.next(view(seg));
                REQUIRE(!s.error);
                REQUIRE(s.consumed == seg.size());
                CHECK(byte_buffer(s.payload.begin(), s.payload.end()) == g.payload);
            }
            if (fx.lz4) CHECK(compressed_segments > 0);

            // Every message decodes and re-encodes identically; every cell decodes.
            for (const auto& f : cap.frames) {
                INFO("frame at " << f.offset << "+" << f.payload_offset);
                CHECK(f.header.is_response == !client);
                CHECK(f.header.version == fx.version);
                CHECK(f.in_segments == (fx.version == protocol_version::v5 && cap.segments_start &&
                                        f.offset >= *cap.segments_start));
                if (client) {
                    check_request_reencodes(f);
                } else {
                    check_response_reencodes(f);
                    response resp;
                    body_prefix prefix;
                    REQUIRE(decode_response(f.frame(), resp, prefix) == std::error_code{});
                    if (auto* rows = std::get_if<rows_result>(&resp)) check_cells(*rows, stats);
                }
            }
        }
    }
    // The Python driver asks for metadata with every query here (no skip_metadata), so every
    // rows result carries its column types.
    CHECK(stats.results_without_metadata == 0);
    CHECK(stats.results > 500);
    CHECK(stats.cells > 10000);
    // Every CQL type of the all_types table appears with a value, except the UDT: the
    // scenario inserted its column (ad frozen<addr>) as null (see the next test case).
    for (auto t : {type_id::ascii,   type_id::bigint,    type_id::blob,    type_id::boolean,
                   type_id::counter, type_id::decimal,   type_id::double_, type_id::float_,
                   type_id::int_,    type_id::timestamp, type_id::uuid,    type_id::varchar,
                   type_id::varint,  type_id::timeuuid,  type_id::inet,    type_id::date,
                   type_id::time,    type_id::smallint,  type_id::tinyint, type_id::duration,
                   type_id::list,    type_id::map,       type_id::set,     type_id::tuple}) {
        INFO("type id " << static_cast<int>(t));
        CHECK(stats.types.count(t) == 1);
    }
}

TEST_CASE("pieces of any size decode to the same frames") {
    for (const auto& fx : fixtures) {
        for (auto side : {stream_side::client, stream_side::server}) {
            auto name = file_name(fx.conn, side);
            INFO(name);
            auto data = load(name);
            auto whole = decode_all(view(data), side);
            REQUIRE(whole.error == std::error_code{});
            std::vector<std::vector<std::size_t>> patterns = {{1, 7, 64, 1000, 4096, 3},
                                                              {65536, 5, 131072}};
            // Byte at a time for the small files.
            if (data.size() < 10000) patterns.push_back({1});
            for (const auto& p : patterns) {
                auto cut = decode_all(view(data), side, compression_choice::automatic, p);
                REQUIRE(cut.error == std::error_code{});
                REQUIRE(cut.frames.size() == whole.frames.size());
                REQUIRE(cut.segments.size() == whole.segments.size());
                for (std::size_t i = 0; i < cut.frames.size(); ++i) {
                    CHECK(cut.frames[i].offset == whole.frames[i].offset);
                    CHECK(cut.frames[i].payload_offset == whole.frames[i].payload_offset);
                    CHECK(cut.frames[i].envelope == whole.frames[i].envelope);
                }
            }
        }
    }
}

TEST_CASE("the compression choice: forced layouts, and the wrong one fails at the first segment") {
    for (const auto& fx : fixtures) {
        if (fx.version != protocol_version::v5) continue;
        for (auto side : {stream_side::client, stream_side::server}) {
            auto name = file_name(fx.conn, side);
            INFO(name);
            auto data = load(name);
            auto right = decode_all(view(data), side,
                                    fx.lz4 ? compression_choice::lz4 : compression_choice::none);
            CHECK(right.error == std::error_code{});
            auto wrong = decode_all(view(data), side,
                                    fx.lz4 ? compression_choice::none : compression_choice::lz4);
            auto automatic = decode_all(view(data), side);
            REQUIRE(automatic.segments_start);
            if (side == stream_side::client) {
                // The client side probes for a segment header after STARTUP: in the wrong
                // layout the CRC24 fails, so it reads a plain frame there, which is not one.
                CHECK(wrong.error);
                CHECK(wrong.error_offset == *automatic.segments_start);
            } else {
                CHECK(wrong.error == make_error_code(codec_errc::header_crc_mismatch));
                CHECK(wrong.error_offset == *automatic.segments_start);
            }
        }
    }
}

namespace {

// Responses of one connection matched to the client's requests: the k-th request on a
// stream id is answered by the k-th response on that stream id (a stream id is not
// reused before its answer arrives). EVENTs (stream -1) are set aside.
struct exchange {
    std::string query;  // QUERY text, or PREPARE text; empty for other requests
    std::optional<std::int32_t> page_size;
    const captured_frame* response = nullptr;
};

std::vector<exchange> match_exchanges(const capture& client, const capture& server) {
    std::vector<exchange> out;
    std::map<std::int16_t, std::deque<std::size_t>> waiting;
    for (const auto& f : client.frames) {
        decoded_request req;
        REQUIRE(decode_request(f.frame(), req) == std::error_code{});
        exchange e;
        if (auto* q = std::get_if<query_request>(&req.message)) {
            e.query = std::string(q->query);
            e.page_size = q->params.page_size;
        } else if (auto* p = std::get_if<prepare_request>(&req.message)) {
            e.query = std::string(p->query);
        }
        waiting[f.header.stream].push_back(out.size());
        out.push_back(std::move(e));
    }
    for (const auto& f : server.frames) {
        if (f.header.stream < 0) continue;
        auto& q = waiting[f.header.stream];
        REQUIRE_FALSE(q.empty());
        out[q.front()].response = &f;
        q.pop_front();
    }
    for (const auto& e : out)
        CHECK(e.response != nullptr);
    return out;
}

response decode_resp(const captured_frame& f) {
    response r;
    body_prefix p;
    REQUIRE(decode_response(f.frame(), r, p) == std::error_code{});
    return r;
}

std::vector<std::string> literal_row(const rows_result& r, std::size_t row_index) {
    std::vector<std::string> out;
    std::size_t k = 0;
    for (auto row : r.rows()) {
        if (k++ != row_index) continue;
        std::size_t i = 0;
        for (auto cell : row) {
            const auto& t = r.metadata.columns[i++].type;
            value v;
            if (!cell.is_null()) REQUIRE(decode_value(t, cell.data, v) == std::error_code{});
            out.push_back(cell.is_null() ? "null" : to_cql_literal(t, v));
        }
    }
    return out;
}

}  // namespace

TEST_CASE("what Cassandra answered in the request connections") {
    for (int conn : {1, 3, 5}) {
        const auto& fx = fixtures[conn];
        INFO("conn0" << conn);
        auto cdata = load(file_name(conn, stream_side::client));
        auto sdata = load(file_name(conn, stream_side::server));
        auto client = decode_all(view(cdata), stream_side::client);
        auto server = decode_all(view(sdata), stream_side::server);
        REQUIRE(!client.error);
        REQUIRE(!server.error);
        auto exchanges = match_exchanges(client, server);
        const std::string ks = fx.keyspace;

        // The three errors.
        std::vector<std::pair<std::string, error_response>> errors;
        for (const auto& e : exchanges) {
            auto r = decode_resp(*e.response);
            if (auto* err = std::get_if<error_response>(&r)) errors.emplace_back(e.query, *err);
        }
        REQUIRE(errors.size() == 3);
        CHECK(errors[0].first == "SELEC nonsense");
        CHECK(errors[0].second.code == error_code::syntax_error);
        CHECK(errors[0].second.message ==
              "line 1:0 no viable alternative at input 'SELEC' ([SELEC]...)");
        CHECK(errors[1].first == "SELECT * FROM " + ks + ".no_such_table");
        CHECK(errors[1].second.code == error_code::invalid);
        CHECK(errors[1].second.message == "table no_such_table does not exist");
        CHECK(errors[2].first == "INSERT INTO " + ks + ".all_types (k, si) VALUES (2, 'text')");
        CHECK(errors[2].second.code == error_code::invalid);
        CHECK(errors[2].second.message ==
              "Invalid STRING constant (text) for \"si\" of type smallint");

        // Paged SELECTs: 10,000 rows in pages of 333; partition 1 (2,500 rows) in pages of
        // 100, the last page empty.
        auto pages = [&](const std::string& q, std::int32_t page_size) {
            std::vector<std::pair<std::int32_t, bool>> out;  // rows, has_more_pages
            for (const auto& e : exchanges) {
                if (e.query != q) continue;
                CHECK(e.page_size == page_size);
                auto r = decode_resp(*e.response);
                auto* rows = std::get_if<rows_result>(&r);
                REQUIRE(rows != nullptr);
                out.emplace_back(rows->row_count, rows->metadata.paging_state.has_value());
            }
            return out;
        };
        auto wide = pages("SELECT p, c, v FROM " + ks + ".wide", 333);
        REQUIRE(wide.size() == 31);
        std::int32_t total = 0;
        for (std::size_t i = 0; i < wide.size(); ++i) {
            total += wide[i].first;
            CHECK(wide[i].second == (i + 1 < wide.size()));
            if (i + 1 < wide.size()) CHECK(wide[i].first == 333);
        }
        CHECK(total == 10000);
        auto p1 = pages("SELECT c FROM " + ks + ".wide WHERE p = 1", 100);
        REQUIRE(p1.size() == 26);
        total = 0;
        for (const auto& [n, more] : p1)
            total += n;
        CHECK(total == 2500);
        CHECK(p1.back() == std::pair<std::int32_t, bool>{0, false});

        // Single-row answers, as CQL literals.
        auto answer = [&](const std::string& q) {
            for (const auto& e : exchanges)
                if (e.query == q) {
                    auto r = decode_resp(*e.response);
                    auto* rows = std::get_if<rows_result>(&r);
                    REQUIRE(rows != nullptr);
                    REQUIRE(rows->row_count == 1);
                    return literal_row(*rows, 0);
                }
            FAIL("no query " << q);
            return std::vector<std::string>{};
        };
        using row = std::vector<std::string>;
        CHECK(answer("SELECT COUNT(*) FROM " + ks + ".wide WHERE p = 3") == row{"2500"});
        CHECK(answer("INSERT INTO " + ks +
                     ".wide (p, c, v) VALUES (9, 1, 'first') IF NOT EXISTS") == row{"true"});
        CHECK(
            answer("INSERT INTO " + ks + ".wide (p, c, v) VALUES (9, 1, 'second') IF NOT EXISTS") ==
            (row{"false", "9", "1", "'first'"}));
        CHECK(answer("SELECT n FROM " + ks + ".cnt WHERE k = 1") == row{"6"});
        CHECK(answer("SELECT ttl(v) FROM " + ks + ".wide WHERE p = 8 AND c = 1") == row{"1000"});

        // The row with every CQL type, by column name.
        for (const auto& e : exchanges) {
            if (e.query != "SELECT * FROM " + ks + ".all_types WHERE k = 1") continue;
            auto r = decode_resp(*e.response);
            auto& rows = std::get<rows_result>(r);
            REQUIRE(rows.row_count == 1);
            REQUIRE(rows.metadata.column_count == 24);
            auto cells = literal_row(rows, 0);
            std::map<std::string, std::string> by_name;
            for (std::size_t i = 0; i < cells.size(); ++i)
                by_name[std::string(rows.metadata.columns[i].name)] = cells[i];
            CHECK(by_name["k"] == "1");
            CHECK(by_name["a"] == "'asc'");
            CHECK(by_name["t"] == "'ünïcødé ✓'");
            CHECK(by_name["si"] == "-32768");
            CHECK(by_name["ti"] == "-128");
            CHECK(by_name["du"] == "1mo2d3s4ns");
            CHECK(by_name["ts"] == "'2024-02-29 12:34:56.789Z'");
            CHECK(by_name["d"] == "'1969-07-20'");
            CHECK(by_name["vi"] == "1267650600228229401496703205383");
            CHECK(by_name["l"] == "[3, 1, 2]");
            CHECK(by_name["m"] == "{'a': 1, 'b': 2}");
            CHECK(by_name["tp"] == "(7, 'seven')");
            CHECK(by_name["ad"] == "null");
            for (const auto& c : rows.metadata.columns) {
                if (c.name != "ad") continue;
                CHECK(c.type.id == type_id::udt);
                CHECK(c.type.keyspace == ks);
                CHECK(c.type.name == "addr");
                CHECK(c.type.field_names == std::vector<std::string>{"street", "zip"});
                CHECK(c.type.params == std::vector<data_type>{data_type(type_id::varchar),
                                                              data_type(type_id::int_)});
            }
        }
    }
}

TEST_CASE("what the control connections saw") {
    for (int conn : {0, 2, 4}) {
        const auto& fx = fixtures[conn];
        INFO("conn0" << conn);
        auto sdata = load(file_name(conn, stream_side::server));
        auto server = decode_all(view(sdata), stream_side::server);
        REQUIRE(!server.error);
        auto supported = decode_resp(server.frames.at(0));
        auto* s = std::get_if<supported_response>(&supported);
        REQUIRE(s != nullptr);
        REQUIRE(s->find("COMPRESSION") != nullptr);
        CHECK(*s->find("COMPRESSION") == std::vector<std::string_view>{"snappy", "lz4"});
        REQUIRE(s->find("PROTOCOL_VERSIONS") != nullptr);
        CHECK(*s->find("PROTOCOL_VERSIONS") ==
              std::vector<std::string_view>{"3/v3", "4/v4", "5/v5", "6/v6-beta"});

        // The ten schema events of the scenario's DDL.
        std::vector<std::string> events;
        for (const auto& f : server.frames) {
            if (f.header.op != opcode::event) continue;
            CHECK(f.header.stream == -1);
            auto r = decode_resp(f);
            auto& ev = std::get<schema_change_event>(r);
            events.push_back(std::string(to_string(ev.change.change)) + " " +
                             std::string(to_string(ev.change.target)) + " " +
                             std::string(ev.change.keyspace) +
                             (ev.change.name.empty() ? "" : "." + std::string(ev.change.name)));
        }
        const std::string ks = fx.keyspace;
        CHECK(events == std::vector<std::string>{
                            "DROPPED TABLE " + ks + ".all_types", "DROPPED TABLE " + ks + ".wide",
                            "DROPPED TABLE " + ks + ".cnt", "DROPPED TYPE " + ks + ".addr",
                            "DROPPED KEYSPACE " + ks, "CREATED KEYSPACE " + ks,
                            "CREATED TYPE " + ks + ".addr", "CREATED TABLE " + ks + ".all_types",
                            "CREATED TABLE " + ks + ".wide", "CREATED TABLE " + ks + ".cnt"});
    }
}

// ---- the stream decoder's own rules, on bytes built from the fixtures ----

TEST_CASE("frames spread over segments, in both layouts") {
    for (int conn : {3, 5}) {
        const auto& fx = fixtures[conn];
        INFO("conn0" << conn);
        auto data = load(file_name(conn, stream_side::server));
        auto whole = decode_all(view(data), stream_side::server);
        REQUIRE(!whole.error);
        REQUIRE(whole.segments_start);
        // Same plain prefix, then the same frames in segments of at most 1000 bytes.
        byte_buffer frames;
        for (const auto& f : whole.frames)
            if (f.in_segments) frames.insert(frames.end(), f.envelope.begin(), f.envelope.end());
        for (auto layout : {compression_algorithm::none, compression_algorithm::lz4}) {
            byte_buffer stream(data.begin(),
                               data.begin() + static_cast<std::ptrdiff_t>(*whole.segments_start));
            REQUIRE(encode_segments(view(frames), layout, stream, 1000) == std::error_code{});
            auto again = decode_all(view(stream), stream_side::server,
                                    compression_choice::automatic, {777, 1, 4096});
            REQUIRE(again.error == std::error_code{});
            CHECK(again.layout == layout);
            REQUIRE(again.frames.size() == whole.frames.size());
            std::size_t spread = 0;
            for (std::size_t i = 0; i < again.frames.size(); ++i) {
                CHECK(again.frames[i].envelope == whole.frames[i].envelope);
                if (again.frames[i].spread) {
                    ++spread;
                    CHECK(again.frames[i].payload_offset == 0);
                }
            }
            CHECK(spread > 0);
            (void)fx;
        }
    }
}

namespace {
byte_buffer plain_frame(protocol_version v, bool response, std::int16_t stream, opcode op,
                        bytes_view body, std::uint8_t flags = 0) {
    byte_buffer out;
    byte_writer w(out);
    frame_header h;
    h.version = v;
    h.is_response = response;
    h.flags = flags;
    h.stream = stream;
    h.op = op;
    h.body_length = static_cast<std::uint32_t>(body.size());
    encode_frame_header(w, h);
    w.raw(body);
    return out;
}
byte_buffer startup_body(bool lz4) {
    byte_buffer out;
    byte_writer w(out);
    std::vector<std::pair<std::string_view, std::string_view>> opts = {{"CQL_VERSION", "3.0.0"}};
    if (lz4) opts.emplace_back("COMPRESSION", "lz4");
    w.string_map(opts);
    return out;
}
}  // namespace

TEST_CASE("v5 handshake rules") {
    auto startup =
        plain_frame(protocol_version::v5, false, 0, opcode::startup, view(startup_body(false)));
    auto options = plain_frame(protocol_version::v5, false, 1, opcode::options, {});

    SECTION("client: a plain frame after STARTUP stays a plain frame") {
        byte_buffer s = startup;
        s.insert(s.end(), startup.begin(), startup.end());
        auto cap = decode_all(view(s), stream_side::client);
        CHECK(cap.error == std::error_code{});
        CHECK(cap.frames.size() == 2);
        CHECK_FALSE(cap.segments_start);
    }
    SECTION("client: a segment after STARTUP switches") {
        byte_buffer s = startup;
        REQUIRE(encode_segments(view(options), compression_algorithm::none, s) ==
                std::error_code{});
        auto cap = decode_all(view(s), stream_side::client);
        CHECK(cap.error == std::error_code{});
        REQUIRE(cap.frames.size() == 2);
        CHECK(cap.frames[1].in_segments);
        CHECK(cap.segments_start == startup.size());
    }
    SECTION("client: STARTUP with COMPRESSION=lz4 selects the LZ4 layout") {
        auto lz4_startup =
            plain_frame(protocol_version::v5, false, 0, opcode::startup, view(startup_body(true)));
        byte_buffer s = lz4_startup;
        REQUIRE(encode_segments(view(options), compression_algorithm::lz4, s) == std::error_code{});
        auto cap = decode_all(view(s), stream_side::client);
        CHECK(cap.error == std::error_code{});
        CHECK(cap.layout == compression_algorithm::lz4);
        CHECK(cap.frames.size() == 2);
    }
    SECTION("server: segments start right after AUTHENTICATE") {
        byte_buffer body;
        byte_writer w(body);
        w.string("org.apache.cassandra.auth.PasswordAuthenticator");
        auto s = plain_frame(protocol_version::v5, true, 0, opcode::authenticate, view(body));
        auto plain_len = s.size();
        byte_buffer token;
        byte_writer tw(token);
        tw.bytes(as_bytes("x"));
        auto success =
            plain_frame(protocol_version::v5, true, 0, opcode::auth_success, view(token));
        REQUIRE(encode_segments(view(success), compression_algorithm::none, s) ==
                std::error_code{});
        auto cap = decode_all(view(s), stream_side::server);
        CHECK(cap.error == std::error_code{});
        CHECK(cap.segments_start == plain_len);
        REQUIRE(cap.frames.size() == 2);
        CHECK(cap.frames[1].header.op == opcode::auth_success);
    }
    SECTION("v4 compressed bodies; refused when none is forced") {
        byte_buffer body;
        byte_writer w(body);
        w.long_string("SELECT * FROM system.local WHERE key = 'local' AND key = 'local'");
        w.u16(1);
        w.u8(0);
        byte_buffer packed;
        REQUIRE(compress_frame_body_lz4(view(body), packed) == std::error_code{});
        auto f = plain_frame(protocol_version::v4, false, 3, opcode::query, view(packed),
                             frame_flags::compression);
        auto cap = decode_all(view(f), stream_side::client, compression_choice::lz4);
        REQUIRE(cap.error == std::error_code{});
        REQUIRE(cap.frames.size() == 1);
        CHECK(cap.frames[0].compressed);
        CHECK(cap.frames[0].body == body);
        // Automatic on the client side: its STARTUP did not ask for lz4.
        auto refused = decode_all(view(f), stream_side::client);
        CHECK(refused.error == make_error_code(codec_errc::unexpected_compression));
        auto forced_none = decode_all(view(f), stream_side::client, compression_choice::none);
        CHECK(forced_none.error == make_error_code(codec_errc::unexpected_compression));
    }
    SECTION("wrong direction, changed version, truncation") {
        auto cap = decode_all(view(startup), stream_side::server);
        CHECK(cap.error == make_error_code(codec_errc::unexpected_direction));
        auto v4opt = plain_frame(protocol_version::v4, false, 1, opcode::options, {});
        byte_buffer s = v4opt;
        s.insert(s.end(), options.begin(), options.end());
        cap = decode_all(view(s), stream_side::client);
        CHECK(cap.error == make_error_code(codec_errc::version_mismatch));
        CHECK(cap.error_offset == v4opt.size());
        s.pop_back();
        s.pop_back();  // options has no body: cut into its header
        cap = decode_all(view(s), stream_side::client);
        CHECK(cap.error == make_error_code(codec_errc::truncated));
        CHECK(cap.error_offset == v4opt.size());
    }
}
