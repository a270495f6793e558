// RESULT messages whose frame is sound but whose body lies: counts and lengths past the end,
// negative where they cannot be, unknown kinds, types and flags, types nested without end.
// Each fails the request with a codec error (never a crash, a hang
// or a huge allocation), and the next request works.
#include <catch2/catch.hpp>

#include <atomic>

#include <boost/asio/awaitable.hpp>

#include "hostile_test.hpp"

using namespace cql::hostile;
namespace p = cql::protocol;
using p::codec_errc;

namespace {

constexpr const char* trigger = "SELECT * FROM hostile.result";

// Writes a RESULT body.
using body_writer = std::function<void(p::byte_writer&)>;

// Rows metadata with the global table spec and one column of type `type_id`.
void one_column_metadata(p::byte_writer& w, std::int32_t flags = 0x0001, std::int32_t columns = 1,
                         std::uint16_t type_id = 0x000D) {
    w.i32(flags);
    w.i32(columns);
    w.string("hostile");
    w.string("t");
    w.string("v");
    w.u16(type_id);
}

struct malformed {
    const char* what;
    body_writer body;
    codec_errc expected;
};

const malformed cases[] = {
    {"an unknown result kind", [](p::byte_writer& w) { w.i32(0x77); }, codec_errc::invalid_value},
    {"a body that ends inside the kind", [](p::byte_writer& w) { w.u16(0); },
     codec_errc::truncated},
    {"a negative column count",
     [](p::byte_writer& w) {
         w.i32(2);
         one_column_metadata(w, 0x0001, -1);
         w.i32(0);
     },
     codec_errc::invalid_length},
    {"a column count far beyond the body",
     [](p::byte_writer& w) {
         w.i32(2);
         one_column_metadata(w, 0x0001, 1000000);
         w.i32(0);
     },
     codec_errc::truncated},
    {"unknown metadata flags",
     [](p::byte_writer& w) {
         w.i32(2);
         one_column_metadata(w, 0x0001 | 0x4000);
         w.i32(0);
     },
     codec_errc::invalid_value},
    {"an unknown type id",
     [](p::byte_writer& w) {
         w.i32(2);
         one_column_metadata(w, 0x0001, 1, 0x7777);
         w.i32(0);
     },
     codec_errc::unknown_type},
    {"a table name longer than the body",
     [](p::byte_writer& w) {
         w.i32(2);
         w.i32(0x0001);
         w.i32(1);
         w.u16(5000);
         w.raw(std::string_view("hostile"));
     },
     codec_errc::truncated},
    {"types nested without end",
     [](p::byte_writer& w) {
         w.i32(2);
         w.i32(0x0001);
         w.i32(1);
         w.string("hostile");
         w.string("t");
         w.string("v");
         for (int i = 0; i < 2000; ++i)
             w.u16(0x0020);  // list<list<list<...
         w.u16(0x0009);
         w.i32(0);
     },
     codec_errc::type_nesting_too_deep},
    {"a negative row count",
     [](p::byte_writer& w) {
         w.i32(2);
         one_column_metadata(w);
         w.i32(-1);
     },
     codec_errc::invalid_length},
    {"more rows announced than sent",
     [](p::byte_writer& w) {
         w.i32(2);
         one_column_metadata(w);
         w.i32(3);
         w.bytes(p::as_bytes(std::string_view("only one")));
     },
     codec_errc::truncated},
    {"a cell longer than the body",
     [](p::byte_writer& w) {
         w.i32(2);
         one_column_metadata(w);
         w.i32(1);
         w.i32(1 << 30);
         w.raw(std::string_view("short"));
     },
     codec_errc::truncated},
    {"a paging state longer than the body",
     [](p::byte_writer& w) {
         w.i32(2);
         w.i32(0x0001 | 0x0002);
         w.i32(1);
         w.i32(1 << 20);
         w.raw(std::string_view("state"));
     },
     codec_errc::truncated},
    {"a set_keyspace name longer than the body",
     [](p::byte_writer& w) {
         w.i32(3);
         w.u16(60000);
         w.raw(std::string_view("ks"));
     },
     codec_errc::truncated},
    {"a prepared id longer than the body",
     [](p::byte_writer& w) {
         w.i32(4);
         w.u16(40000);
         w.raw(std::string_view("id"));
     },
     codec_errc::truncated},
};

}  // namespace

TEST_CASE("malformed RESULT bodies") {
    auto version = GENERATE(p::protocol_version::v4, p::protocol_version::v5);
    server srv;
    std::atomic<const malformed*> current{nullptr};
    srv.on_request([&](connection& c, const request& r) {
        if (r.query != trigger) return false;
        p::byte_buffer f;
        auto at = p::begin_response_frame(f, c.version(), r.stream, p::opcode::result);
        p::byte_writer w(f);
        current.load()->body(w);
        p::end_response_frame(f, at);
        c.send_frame(f);
        return true;
    });
    auto cfg = config_for(srv);
    cfg.version = version;
    cfg.request_timeout = 5s;  // the error must come from the body, not from a timeout
    run(cfg, [&](cql::cluster& cluster) -> boost::asio::awaitable<void> {
        for (const auto& m : cases) {
            current = &m;
            INFO(m.what << ", protocol v" << static_cast<int>(version));
            auto out = co_await execute(cluster.session(), cql::statement(trigger));
            INFO(out.ec.message() << ": " << out.diag.message);
            CHECK(std::error_code(out.ec).category() == p::codec_category());
            CHECK(out.ec == m.expected);
            auto next = co_await probe_until_success(cluster.session());
            INFO("next request: " << next.ec.message() << ": " << next.diag.message);
            CHECK_FALSE(next.ec);
        }
    });
}
