// An HTTP JSON service with Boost.Beast, sharing one io_context (one thread) with the
// driver: every request handler is a coroutine that awaits the database without blocking
// the other connections.
//
//   http_service [HOST[:PORT][,...]] [HTTP_PORT]
//
// Contact points: the first argument (if not empty), else $CQL_CONTACT_POINTS, else
// 127.0.0.1:9042. The service listens on 127.0.0.1:HTTP_PORT (default 8080; 0 picks a free
// port) and prints "listening on http://127.0.0.1:PORT" once it is ready.
//
//   GET  /animal/{genus}            every animal of a genus, as a JSON array
//   GET  /animal/{genus}/{species}  one animal (404 if there is none)
//   POST /animal                    {"genus": .., "species": .., "image_url": .., "size_cm": ..,
//                                    "sightings": .., "taxonomy": [..]} -> 201
//   GET  /plant/{genus}             every plant of a genus, as a JSON array sent in chunks,
//                                   one per page of rows: the service never holds the whole
//                                   genus in memory, however large it is.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include "cql/cluster.hpp"
#include "json.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::use_awaitable;
using asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

constexpr auto no_throw = asio::as_tuple(use_awaitable);  // errors as values, not exceptions
constexpr std::int32_t plant_page_size = 25;

std::vector<std::string> contact_points(std::string list) {
    if (const char* env = std::getenv("CQL_CONTACT_POINTS"); list.empty() && env) list = env;
    if (list.empty()) list = "127.0.0.1:9042";
    std::vector<std::string> out;
    std::stringstream ss(list);
    for (std::string cp; std::getline(ss, cp, ',');)
        if (!cp.empty()) out.push_back(cp);
    return out;
}

// ---- list<text> cells ----
// The driver binds and reads scalar types; a list<text> cell is encoded here by hand
// (protocol v3+: [int] element count, then each element as [int] length + UTF-8 bytes).

cql::protocol::byte_buffer encode_text_list(const std::vector<std::string>& items) {
    cql::protocol::byte_buffer out;
    auto put_int = [&](std::size_t n) {
        for (int shift = 24; shift >= 0; shift -= 8)
            out.push_back(static_cast<std::uint8_t>(n >> shift));
    };
    put_int(items.size());
    for (const auto& s : items) {
        put_int(s.size());
        out.insert(out.end(), s.begin(), s.end());
    }
    return out;
}

// Appends the cell as a JSON array of strings ([] for null; [] if malformed, too).
void append_text_list(std::string& out, cql::protocol::value_view cell) {
    std::vector<std::string_view> items;
    if (cell.state == cql::protocol::value_view::kind::bytes) {
        auto b = cell.data;
        std::size_t pos = 0;
        auto get_int = [&](std::int64_t& n) {
            if (b.size() - pos < 4) return false;
            n = (std::int64_t{b[pos]} << 24) | (b[pos + 1] << 16) | (b[pos + 2] << 8) | b[pos + 3];
            pos += 4;
            return true;
        };
        std::int64_t count = 0;
        bool ok = get_int(count);
        for (std::int64_t i = 0; ok && i < count; ++i) {
            std::int64_t len = 0;
            ok = get_int(len) && len >= 0 && static_cast<std::size_t>(len) <= b.size() - pos;
            if (ok)
                items.emplace_back(reinterpret_cast<const char*>(b.data() + pos),
                                   static_cast<std::size_t>(len));
            pos += ok ? static_cast<std::size_t>(len) : 0;
        }
        if (!ok) items.clear();
    }
    out += '[';
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i) out += ',';
        json::append_string(out, items[i]);
    }
    out += ']';
}

// ---- rows to JSON ----

constexpr const char* animal_columns = "genus, species, image_url, size_cm, sightings, taxonomy";

void append_animal(std::string& out, const cql::row_view& row) {
    out += "{\"genus\":";
    json::append_string(out, row.get<std::string_view>(0));
    out += ",\"species\":";
    json::append_string(out, row.get<std::string_view>(1));
    out += ",\"image_url\":";
    if (auto url = row.get<std::optional<std::string_view>>(2))
        json::append_string(out, *url);
    else
        out += "null";
    out += ",\"size_cm\":";
    if (auto size = row.get<std::optional<float>>(3))
        json::append_number(out, *size);
    else
        out += "null";
    out += ",\"sightings\":";
    if (auto sightings = row.get<std::optional<std::int32_t>>(4))
        json::append_number(out, *sightings);
    else
        out += "null";
    out += ",\"taxonomy\":";
    append_text_list(out, row[5]);
    out += '}';
}

void append_plant(std::string& out, const cql::row_view& row) {
    out += "{\"genus\":";
    json::append_string(out, row.get<std::string_view>(0));
    out += ",\"species\":";
    json::append_string(out, row.get<std::string_view>(1));
    out += ",\"sightings\":";
    json::append_number(out, row.get<std::optional<std::int32_t>>(2).value_or(0));
    out += '}';
}

std::string error_json(std::string_view message) {
    std::string out = "{\"error\":";
    json::append_string(out, message);
    out += '}';
    return out;
}

// ---- the service ----

using request = http::request<http::string_body>;

// The path's segments, percent-decoded ("/animal/Panthera/leo?x=1" -> animal, Panthera, leo).
std::vector<std::string> path_segments(std::string_view target) {
    target = target.substr(0, target.find('?'));
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= target.size()) {
        auto end = target.find('/', start);
        if (end == std::string_view::npos) end = target.size();
        std::string seg;
        for (std::size_t i = start; i < end; ++i) {
            unsigned v = 0;
            if (target[i] == '%' && i + 2 < end &&
                std::from_chars(target.data() + i + 1, target.data() + i + 3, v, 16).ec ==
                    std::errc()) {
                seg += static_cast<char>(v);
                i += 2;
            } else {
                seg += target[i];
            }
        }
        if (!seg.empty()) out.push_back(std::move(seg));
        start = end + 1;
    }
    return out;
}

class service {
  public:
    service(asio::io_context& io, cql::cluster_config cfg)
        : cluster_(io.get_executor(), std::move(cfg)) {}

    cql::cluster& cluster() { return cluster_; }

    // Connects, creates and seeds the schema, prepares the queries the handlers use.
    asio::awaitable<void> start() {
        co_await cluster_.async_connect(use_awaitable);
        cql::session& s = cluster_.session();
        for (const char* ddl : {
                 "CREATE KEYSPACE IF NOT EXISTS naturalist WITH replication = "
                 "{'class': 'SimpleStrategy', 'replication_factor': 1}",
                 "CREATE TABLE IF NOT EXISTS naturalist.animals (genus text, species text, "
                 "image_url text, size_cm float, sightings int, taxonomy list<text>, "
                 "PRIMARY KEY ((genus), species))",
                 "CREATE TABLE IF NOT EXISTS naturalist.plants (genus text, species text, "
                 "sightings int, PRIMARY KEY ((genus), species))",
             })
            co_await s.async_execute(cql::statement(ddl), use_awaitable);

        insert_animal_ = co_await s.async_prepare(
            "INSERT INTO naturalist.animals (genus, species, image_url, size_cm, sightings, "
            "taxonomy) VALUES (?, ?, ?, ?, ?, ?)",
            use_awaitable);
        animals_by_genus_ = co_await s.async_prepare(
            std::string("SELECT ") + animal_columns + " FROM naturalist.animals WHERE genus = ?",
            use_awaitable);
        animal_ = co_await s.async_prepare(std::string("SELECT ") + animal_columns +
                                               " FROM naturalist.animals WHERE genus = ? AND "
                                               "species = ?",
                                           use_awaitable);
        plants_by_genus_ = co_await s.async_prepare(
            "SELECT genus, species, sightings FROM naturalist.plants WHERE genus = ?",
            use_awaitable);
        co_await seed();
    }

    // Serves one connection: requests one after another (HTTP/1.1 keep-alive).
    asio::awaitable<void> serve(tcp::socket socket) {
        beast::tcp_stream stream(std::move(socket));
        beast::flat_buffer buffer;
        for (;;) {
            http::request_parser<http::string_body> parser;
            parser.body_limit(64 * 1024);
            stream.expires_after(60s);  // idle connections are closed
            auto [ec, n] = co_await http::async_read(stream, buffer, parser, no_throw);
            if (ec == http::error::body_limit) {
                request too_big = parser.release();  // the headers, for the answer's version
                too_big.keep_alive(false);           // the rest of the body is not read
                co_await reply(stream, too_big, http::status::payload_too_large,
                               error_json("the body is larger than 64 KiB"));
                break;
            }
            if (ec) break;  // closed by the client, timed out, or not HTTP
            request req = parser.release();
            stream.expires_never();  // a streamed response may take as long as the pages do
            bool keep_alive = co_await route(stream, req);
            if (!keep_alive) break;
        }
        beast::error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }

  private:
    // Answers `req`; false when the connection must close afterwards.
    asio::awaitable<bool> route(beast::tcp_stream& stream, const request& req) {
        auto path = path_segments(req.target());
        const bool get = req.method() == http::verb::get;
        const bool post = req.method() == http::verb::post;
        if (get && path.size() == 2 && path[0] == "animal")
            co_return co_await get_animals(stream, req, path[1]);
        if (get && path.size() == 3 && path[0] == "animal")
            co_return co_await get_animal(stream, req, path[1], path[2]);
        if (post && path.size() == 1 && path[0] == "animal")
            co_return co_await post_animal(stream, req);
        if (get && path.size() == 2 && path[0] == "plant")
            co_return co_await get_plants(stream, req, path[1]);
        co_return co_await reply(stream, req, http::status::not_found,
                                 error_json("no such resource"));
    }

    asio::awaitable<bool> reply(beast::tcp_stream& stream, const request& req, http::status status,
                                std::string body, std::string_view location = {}) {
        http::response<http::string_body> res{status, req.version()};
        res.set(http::field::content_type, "application/json");
        if (!location.empty()) res.set(http::field::location, location);
        res.keep_alive(req.keep_alive());
        res.body() = std::move(body);
        res.prepare_payload();
        auto [ec, n] = co_await http::async_write(stream, res, no_throw);
        co_return !ec && res.keep_alive();
    }

    // A failed query: the database is unavailable rather than the request wrong.
    asio::awaitable<bool> reply_db_error(beast::tcp_stream& stream, const request& req,
                                         cql::error_code ec, const cql::diagnostics& diag) {
        std::string message = ec.message();
        if (!diag.message.empty()) {
            message += ": ";
            message += diag.message;
        }
        std::fprintf(stderr, "query failed: %s\n", message.c_str());
        co_return co_await reply(stream, req, http::status::service_unavailable,
                                 error_json(message));
    }

    asio::awaitable<bool> get_animals(beast::tcp_stream& stream, const request& req,
                                      const std::string& genus) {
        cql::diagnostics diag;
        auto [ec, r] = co_await cluster_.session().async_execute(animals_by_genus_.bind(genus),
                                                                 diag, no_throw);
        if (ec) co_return co_await reply_db_error(stream, req, ec, diag);
        std::string body = "[";
        for (cql::row_view row : r) {
            if (body.size() > 1) body += ',';
            append_animal(body, row);
        }
        body += ']';
        co_return co_await reply(stream, req, http::status::ok, std::move(body));
    }

    asio::awaitable<bool> get_animal(beast::tcp_stream& stream, const request& req,
                                     const std::string& genus, const std::string& species) {
        cql::diagnostics diag;
        auto [ec, r] =
            co_await cluster_.session().async_execute(animal_.bind(genus, species), diag, no_throw);
        if (ec) co_return co_await reply_db_error(stream, req, ec, diag);
        if (r.empty())
            co_return co_await reply(stream, req, http::status::not_found,
                                     error_json("no animal " + genus + " " + species));
        std::string body;
        append_animal(body, r.front());
        co_return co_await reply(stream, req, http::status::ok, std::move(body));
    }

    // The request body, checked field by field: a client gets told what is wrong.
    struct animal {
        std::string genus, species;
        std::optional<std::string> image_url;
        std::optional<float> size_cm;
        std::optional<std::int32_t> sightings;
        std::optional<std::vector<std::string>> taxonomy;
    };
    static std::optional<animal> parse_animal(std::string_view body, std::string& error) {
        auto fail = [&](std::string message) {
            error = std::move(message);
            return std::optional<animal>{};
        };
        auto doc = json::parse(body);
        if (!doc) return fail("the body is not valid JSON");
        if (!doc->as_object()) return fail("the body must be a JSON object");
        animal a;
        for (auto [name, field] :
             {std::pair{"genus", &a.genus}, std::pair{"species", &a.species}}) {
            auto* v = doc->find(name);
            if (!v || !v->as_string() || v->as_string()->empty())
                return fail(std::string("\"") + name + "\" must be a non-empty string");
            *field = *v->as_string();
        }
        if (auto* v = doc->find("image_url"); v && !v->is_null()) {
            if (!v->as_string()) return fail("\"image_url\" must be a string");
            a.image_url = *v->as_string();
        }
        if (auto* v = doc->find("size_cm"); v && !v->is_null()) {
            if (!v->as_number() || *v->as_number() < 0)
                return fail("\"size_cm\" must be a non-negative number");
            a.size_cm = static_cast<float>(*v->as_number());
        }
        if (auto* v = doc->find("sightings"); v && !v->is_null()) {
            const double* d = v->as_number();
            if (!d || *d < 0 || *d > 2147483647.0 || *d != static_cast<std::int32_t>(*d))
                return fail("\"sightings\" must be a non-negative integer");
            a.sightings = static_cast<std::int32_t>(*d);
        }
        if (auto* v = doc->find("taxonomy"); v && !v->is_null()) {
            if (!v->as_array()) return fail("\"taxonomy\" must be an array of strings");
            a.taxonomy.emplace();
            for (const auto& item : *v->as_array()) {
                if (!item.as_string()) return fail("\"taxonomy\" must be an array of strings");
                a.taxonomy->push_back(*item.as_string());
            }
        }
        return a;
    }

    asio::awaitable<bool> post_animal(beast::tcp_stream& stream, const request& req) {
        std::string error;
        auto a = parse_animal(req.body(), error);
        if (!a) co_return co_await reply(stream, req, http::status::bad_request, error_json(error));

        // Fields the client left out are bound as "unset": the row simply has no value there,
        // and no tombstone is written as a null would.
        cql::bound_statement insert = insert_animal_.bind(a->genus, a->species);
        if (a->image_url)
            insert.bind(*a->image_url);
        else
            insert.bind(cql::unset);
        if (a->size_cm)
            insert.bind(*a->size_cm);
        else
            insert.bind(cql::unset);
        if (a->sightings)
            insert.bind(*a->sightings);
        else
            insert.bind(cql::unset);
        if (a->taxonomy)
            insert.bind(encode_text_list(*a->taxonomy));
        else
            insert.bind(cql::unset);
        cql::diagnostics diag;
        auto [ec, r] = co_await cluster_.session().async_execute(insert, diag, no_throw);
        if (ec) co_return co_await reply_db_error(stream, req, ec, diag);

        // Answer with the animal as stored (read back, so the client sees what others will).
        auto [ec2, row] = co_await cluster_.session().async_execute(
            animal_.bind(a->genus, a->species), diag, no_throw);
        if (ec2 || row.empty()) co_return co_await reply_db_error(stream, req, ec2, diag);
        std::string body;
        append_animal(body, row.front());
        co_return co_await reply(stream, req, http::status::created, std::move(body),
                                 "/animal/" + a->genus + "/" + a->species);
    }

    // Chunked transfer encoding: the status line and headers go out first, then one chunk
    // per page of rows as it arrives, then the last (empty) chunk. HTTP/1.0 has no chunks:
    // there the body is simply sent as it comes and ends when the connection closes.
    asio::awaitable<bool> get_plants(beast::tcp_stream& stream, const request& req,
                                     const std::string& genus) {
        auto pages =
            cluster_.session().pages(plants_by_genus_.bind(genus).page_size(plant_page_size));
        auto [ec, page] = co_await pages.async_next(no_throw);
        cql::diagnostics none;
        if (ec) co_return co_await reply_db_error(stream, req, ec, none);

        const bool chunked = req.version() >= 11;
        http::response<http::empty_body> res{http::status::ok, req.version()};
        res.set(http::field::content_type, "application/json");
        res.keep_alive(chunked && req.keep_alive());
        res.chunked(chunked);
        http::response_serializer<http::empty_body> head{res};
        auto [wec, wn] = co_await http::async_write_header(stream, head, no_throw);
        if (wec) co_return false;

        std::string part = "[";
        bool first = true;
        for (;;) {
            for (cql::row_view row : *page) {
                if (!first) part += ',';
                first = false;
                append_plant(part, row);
            }
            if (pages.done()) break;  // this page was the last one: close the array with it
            const bool sent = co_await send_part(stream, chunked, part);
            if (!sent) co_return false;
            part.clear();
            // The next page is fetched only once this one is on its way to the client.
            auto [pec, next] = co_await pages.async_next(no_throw);
            if (pec || !next) {
                // Too late for an error status: end the connection without the last chunk,
                // so the client knows the array is incomplete.
                std::fprintf(stderr, "paging failed: %s\n", pec.message().c_str());
                co_return false;
            }
            page = std::move(next);
        }
        part += ']';
        const bool sent = co_await send_part(stream, chunked, part);
        if (!sent) co_return false;
        if (!chunked) co_return false;  // closing the connection ends the body
        auto [lec, ln] = co_await asio::async_write(stream, http::make_chunk_last(), no_throw);
        co_return !lec && res.keep_alive();
    }

    static asio::awaitable<bool> send_part(beast::tcp_stream& stream, bool chunked,
                                           const std::string& part) {
        if (part.empty()) co_return true;  // an empty chunk would mean "the end"
        if (chunked) {
            auto [ec, n] =
                co_await asio::async_write(stream, http::make_chunk(asio::buffer(part)), no_throw);
            co_return !ec;
        }
        auto [ec, n] = co_await asio::async_write(stream, asio::buffer(part), no_throw);
        co_return !ec;
    }

    asio::awaitable<void> seed() {
        struct seed_animal {
            const char* genus;
            const char* species;
            const char* image;
            float size_cm;
            std::int32_t sightings;
            std::vector<std::string> taxonomy;
        };
        const std::vector<std::string> felidae = {"Animalia", "Chordata", "Mammalia", "Carnivora",
                                                  "Felidae"};
        const std::vector<std::string> canidae = {"Animalia", "Chordata", "Mammalia", "Carnivora",
                                                  "Canidae"};
        const seed_animal animals[] = {
            {"Panthera", "leo", "https://example.org/img/lion.jpg", 210.5f, 12, felidae},
            {"Panthera", "tigris", "https://example.org/img/tiger.jpg", 250.0f, 4, felidae},
            {"Panthera", "onca", "https://example.org/img/jaguar.jpg", 170.25f, 2, felidae},
            {"Canis", "lupus", "https://example.org/img/wolf.jpg", 130.0f, 31, canidae},
        };
        cql::session& s = cluster_.session();
        for (const auto& a : animals)
            co_await s.async_execute(insert_animal_.bind(a.genus, a.species, a.image, a.size_cm,
                                                         a.sightings, encode_text_list(a.taxonomy)),
                                     use_awaitable);

        // One batch per genus: a genus is one partition, so the batch is applied atomically
        // by a single replica set and needs no batch log (UNLOGGED).
        auto insert_plant = co_await s.async_prepare(
            "INSERT INTO naturalist.plants (genus, species, sightings) VALUES (?, ?, ?)",
            use_awaitable);
        const char* oaks[] = {"alba",  "robur",  "rubra",     "petraea",    "ilex",
                              "suber", "cerris", "palustris", "macrocarpa", "virginiana"};
        cql::batch quercus(cql::batch_type::unlogged);
        for (int i = 0; i < 120; ++i) {
            // Ten real oaks, then numbered cultivars so the genus spans several pages.
            char species[32];
            if (i < 10)
                std::snprintf(species, sizeof species, "%s", oaks[i]);
            else
                std::snprintf(species, sizeof species, "cultivar-%03d", i);
            quercus.add(insert_plant.bind("Quercus", std::string(species), i % 7));
        }
        cql::batch rosa(cql::batch_type::unlogged);
        for (const char* species : {"canina", "gallica", "rugosa"})
            rosa.add(insert_plant.bind("Rosa", species, 1));
        for (const cql::batch* b : {&quercus, &rosa}) {
            cql::result r = co_await s.async_batch(*b, use_awaitable);
            for (auto w : r.warnings())  // e.g. Cassandra's "batch size exceeds ..." warning
                std::printf("server warning: %.*s\n", static_cast<int>(w.size()), w.data());
        }
        std::printf("seeded %zu animals and %zu plants\n", std::size(animals),
                    quercus.size() + rosa.size());
    }

    cql::cluster cluster_;
    cql::prepared_statement insert_animal_, animals_by_genus_, animal_, plants_by_genus_;
};

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, service& svc) {
    for (;;) {
        auto [ec, socket] = co_await acceptor.async_accept(no_throw);
        if (ec == asio::error::operation_aborted) co_return;  // closed: shutting down
        if (ec) continue;
        // Each connection is its own coroutine; a failure in one does not affect the others.
        asio::co_spawn(acceptor.get_executor(), svc.serve(std::move(socket)), asio::detached);
    }
}

}  // namespace

int main(int argc, char** argv) {
    cql::cluster_config cfg;
    cfg.contact_points = contact_points(argc > 1 ? argv[1] : "");
    const auto http_port = static_cast<std::uint16_t>(argc > 2 ? std::atoi(argv[2]) : 8080);

    asio::io_context io(1);  // one thread: the service and the driver share it
    service svc(io, std::move(cfg));
    tcp::acceptor acceptor(io);
    asio::signal_set signals(io, SIGINT, SIGTERM);
    int status = 0;

    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            co_await svc.start();
            tcp::endpoint at(asio::ip::make_address("127.0.0.1"), http_port);
            acceptor.open(at.protocol());
            acceptor.set_option(tcp::acceptor::reuse_address(true));
            acceptor.bind(at);
            acceptor.listen();
            std::printf("listening on http://127.0.0.1:%u\n",
                        static_cast<unsigned>(acceptor.local_endpoint().port()));
            std::fflush(stdout);  // whoever started us waits for this line
            co_await accept_loop(acceptor, svc);
        },
        [&](std::exception_ptr e) {
            if (!e) return;
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                std::fprintf(stderr, "error: %s\n", ex.what());
            }
            status = 1;
            signals.cancel();
            svc.cluster().async_close([&](cql::error_code) { io.stop(); });
        });

    signals.async_wait([&](beast::error_code ec, int) {
        if (ec) return;
        std::printf("shutting down\n");
        acceptor.close();
        // Open keep-alive connections would keep run() going: stop once the driver closed.
        svc.cluster().async_close([&](cql::error_code) { io.stop(); });
    });
    io.run();
    return status;
}
