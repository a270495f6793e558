// Replays the request connection of the real Cassandra 4.0 capture (conn01, protocol v4)
// against the engine and compares every answer with what Cassandra answered: error codes,
// result kinds, column names, row counts, paging, and the cell bytes of user tables.
#include <fstream>
#include <iterator>
#include <map>

#include "sim_fixture.hpp"

using namespace simtest;
using cql::protocol::byte_reader;

namespace {

struct frame {
    std::uint8_t flags = 0;
    std::int16_t stream = 0;
    std::uint8_t opcode = 0;
    byte_buffer body;
};

std::vector<frame> read_frames(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    byte_buffer data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<frame> out;
    byte_reader r(data);
    while (r.remaining() >= 9) {
        frame f;
        r.u8();
        f.flags = r.u8();
        f.stream = r.i16();
        f.opcode = r.u8();
        auto len = r.i32();
        auto body = r.raw(static_cast<std::size_t>(len));
        f.body.assign(body.begin(), body.end());
        out.push_back(std::move(f));
    }
    REQUIRE(r.ok());
    return out;
}

struct params {
    std::vector<byte_buffer> storage;
    query_options o;
    bool has_paging_state = false;
};

// v4 <query_parameters>
void read_params(byte_reader& r, params& p) {
    p.o.consistency = static_cast<cql::protocol::consistency>(r.u16());
    auto flags = r.u8();
    if (flags & 0x01) {
        auto n = r.u16();
        p.storage.reserve(n);
        for (int i = 0; i < n; ++i) {
            auto v = r.value();
            if (v.state == value_view::kind::bytes) {
                p.storage.emplace_back(v.data.begin(), v.data.end());
                p.o.values.push_back(value_view::of(p.storage.back()));
            } else {
                p.o.values.push_back(v);
            }
        }
    }
    if (flags & 0x04) p.o.page_size = r.i32();
    if (flags & 0x08) {
        r.bytes();
        p.has_paging_state = true;
    }
    if (flags & 0x10) r.u16();
    if (flags & 0x20) p.o.timestamp = r.i64();
}

void skip_type(byte_reader& r) {
    auto id = r.u16();
    switch (id) {
        case 0x0000:
            r.string();
            break;
        case 0x0020:
        case 0x0022:
            skip_type(r);
            break;
        case 0x0021:
            skip_type(r);
            skip_type(r);
            break;
        case 0x0030: {
            r.string();
            r.string();
            auto n = r.u16();
            for (int i = 0; i < n && r.ok(); ++i) {
                r.string();
                skip_type(r);
            }
            break;
        }
        case 0x0031: {
            auto n = r.u16();
            for (int i = 0; i < n && r.ok(); ++i)
                skip_type(r);
            break;
        }
        default:
            break;
    }
}

struct server_rows {
    std::vector<std::string> names;
    bool more = false;
    std::vector<std::vector<std::optional<byte_buffer>>> rows;
};

server_rows read_rows(byte_reader& r) {
    server_rows out;
    auto flags = r.i32();
    auto count = r.i32();
    if (flags & 0x02) {
        r.bytes();
        out.more = true;
    }
    bool global = flags & 0x01;
    if (global) {
        r.string();
        r.string();
    }
    for (int i = 0; i < count && r.ok(); ++i) {
        if (!global) {
            r.string();
            r.string();
        }
        out.names.emplace_back(r.string());
        skip_type(r);
    }
    auto n = r.i32();
    for (int i = 0; i < n && r.ok(); ++i) {
        std::vector<std::optional<byte_buffer>> row;
        for (int c = 0; c < count; ++c) {
            auto b = r.bytes();
            if (b)
                row.emplace_back(byte_buffer(b->begin(), b->end()));
            else
                row.emplace_back(std::nullopt);
        }
        out.rows.push_back(std::move(row));
    }
    return out;
}

}  // namespace

TEST_CASE("replaying Cassandra 4.0 traffic gives Cassandra's answers", "[engine][conformance]") {
    auto requests =
        read_frames(std::string(CQL_FIXTURES_DIR) + "/cassandra-4.0-traffic/conn01.client.bin");
    auto responses =
        read_frames(std::string(CQL_FIXTURES_DIR) + "/cassandra-4.0-traffic/conn01.server.bin");
    // Pair each response with the oldest unanswered request on its stream.
    std::map<std::int16_t, std::vector<std::size_t>> pending;
    for (std::size_t i = 0; i < requests.size(); ++i)
        pending[requests[i].stream].push_back(i);
    std::vector<const frame*> answer(requests.size(), nullptr);
    for (const auto& resp : responses) {
        auto& q = pending[resp.stream];
        REQUIRE(!q.empty());
        answer[q.front()] = &resp;
        q.erase(q.begin());
    }

    fixture f;
    std::map<byte_buffer, byte_buffer> ids;            // Cassandra's prepared id -> ours
    std::map<std::string, byte_buffer> paging_states;  // our last paging state per query
    std::size_t compared_rows = 0;
    std::size_t checked = 0;

    for (std::size_t i = 0; i < requests.size(); ++i) {
        const auto& req = requests[i];
        REQUIRE(answer[i]);
        const auto& resp = *answer[i];
        byte_reader rr(resp.body);
        if (resp.flags & 0x08) rr.string_list();  // warnings
        byte_reader qr(req.body);
        std::string text;
        result ours;
        params p;
        switch (req.opcode) {
            case 0x07: {  // QUERY
                text = std::string(qr.long_string());
                read_params(qr, p);
                if (p.has_paging_state) p.o.paging_state = paging_states.at(text);
                ours = f.e.query(f.s, text, p.o);
                break;
            }
            case 0x09: {  // PREPARE
                text = std::string(qr.long_string());
                ours = f.e.prepare(f.s, text);
                break;
            }
            case 0x0A: {  // EXECUTE
                auto id = qr.short_bytes();
                text = "EXECUTE";
                read_params(qr, p);
                auto key = ids.at(byte_buffer(id.begin(), id.end()));
                if (p.has_paging_state) p.o.paging_state = paging_states.at(text);
                ours = f.e.execute(f.s, key, p.o);
                break;
            }
            case 0x0D: {  // BATCH
                auto type = qr.u8();
                auto n = qr.u16();
                std::vector<batch_entry> entries(n);
                std::vector<byte_buffer> store;
                store.reserve(static_cast<std::size_t>(n) * 32);
                for (auto& e : entries) {
                    if (qr.u8() == 0) {
                        e.query_or_id = std::string(qr.long_string());
                    } else {
                        auto id = qr.short_bytes();
                        e.query_or_id = ids.at(byte_buffer(id.begin(), id.end()));
                    }
                    auto nv = qr.u16();
                    for (int v = 0; v < nv; ++v) {
                        auto val = qr.value();
                        REQUIRE(store.size() < store.capacity());
                        store.emplace_back(val.data.begin(), val.data.end());
                        e.values.push_back(val.state == value_view::kind::bytes
                                               ? value_view::of(store.back())
                                               : val);
                    }
                }
                query_options o;
                o.consistency = static_cast<cql::protocol::consistency>(qr.u16());
                auto flags = qr.u8();
                if (flags & 0x10) qr.u16();
                if (flags & 0x20) o.timestamp = qr.i64();
                text = "BATCH";
                ours = f.e.batch(f.s, static_cast<batch_kind>(type), entries, o);
                break;
            }
            default:
                continue;  // OPTIONS, STARTUP
        }
        REQUIRE(qr.ok());
        INFO("request " << i << ": " << text);
        ++checked;
        if (resp.opcode == 0x00) {
            auto code = rr.i32();
            auto msg = rr.string();
            INFO("Cassandra said: " << msg);
            REQUIRE(std::holds_alternative<error>(ours));
            CHECK(static_cast<std::int32_t>(std::get<error>(ours).code) == code);
            CHECK(std::get<error>(ours).message == msg);
            continue;
        }
        REQUIRE(resp.opcode == 0x08);
        if (auto* e = std::get_if<error>(&ours)) FAIL("engine error: " << e->message);
        auto kind = rr.i32();
        switch (kind) {
            case 1:
                CHECK(std::holds_alternative<void_result>(ours));
                break;
            case 3:
                CHECK(std::holds_alternative<set_keyspace_result>(ours));
                break;
            case 5:
                // DROP ... IF EXISTS of something that existed on the real server
                CHECK((std::holds_alternative<schema_change_result>(ours) ||
                       text.find("IF EXISTS") != std::string::npos));
                break;
            case 4: {
                REQUIRE(std::holds_alternative<prepared_result>(ours));
                auto id = rr.short_bytes();
                ids[byte_buffer(id.begin(), id.end())] = std::get<prepared_result>(ours).id;
                break;
            }
            case 2: {
                REQUIRE(std::holds_alternative<rows_result>(ours));
                auto& mine = std::get<rows_result>(ours);
                auto theirs = read_rows(rr);
                REQUIRE(rr.ok());
                CHECK(fixture::names(mine) == theirs.names);
                CHECK(mine.paging_state.has_value() == theirs.more);
                if (mine.paging_state) paging_states[text] = *mine.paging_state;
                bool system = text.find("system") != std::string::npos;
                if (system) break;
                REQUIRE(mine.rows.size() == theirs.rows.size());
                for (std::size_t r = 0; r < mine.rows.size(); ++r)
                    for (std::size_t c = 0; c < theirs.names.size(); ++c) {
                        if (theirs.names[c].rfind("ttl(", 0) == 0)
                            continue;  // time passed on the server
                        CHECK(mine.rows[r][c] == theirs.rows[r][c]);
                    }
                compared_rows += mine.rows.size();
                break;
            }
            default:
                FAIL("unexpected result kind " << kind);
        }
    }
    CHECK(checked > 100);
    CHECK(compared_rows > 10000);
}
