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
//
// Rows are structs (animal, plant) mapped with Boost.Describe (cql/mapping.hpp): the tables
// are made from them (sync_table), the queries built and read as them.
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
#include <boost/describe/class.hpp>

#include "cql/cluster.hpp"
#include "cql/mapping.hpp"
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

// ---- the rows ----

struct animal {
    std::string genus, species;
    std::optional<std::string> image_url;
    std::optional<float> size_cm;
    std::optional<std::int32_t> sightings;
    std::optional<std::vector<std::string>> taxonomy;
};
BOOST_DESCRIBE_STRUCT(animal, (), (genus, species, image_url, size_cm, sightings, taxonomy))
// Found by argument-dependent lookup: the table the struct is a row of.
void cql_model(cql::model<animal>& m) {
    m.table("naturalist", "animals").partition_key(&animal::genus).clustering_key(&animal::species);
}

struct plant {
    std::string genus, species;
    std::optional<std::int32_t> sightings;
};
BOOST_DESCRIBE_STRUCT(plant, (), (genus, species, sightings))
void cql_model(cql::model<plant>& m) {
    m.table("naturalist", "plants").partition_key(&plant::genus).clustering_key(&plant::species);
}

// ---- rows to JSON ----

template <class T>
void append_optional(std::string& out, const std::optional<T>& v) {
    if (v)
        json::append_number(out, *v);
    else
        out += "null";
}

void append_animal(std::string& out, const animal& a) {
    out += "{\"genus\":";
    json::append_string(out, a.genus);
    out += ",\"species\":";
    json::append_string(out, a.species);
    out += ",\"image_url\":";
    if (a.image_url)
        json::append_string(out, *a.image_url);
    else
        out += "null";
    out += ",\"size_cm\":";
    append_optional(out, a.size_cm);
    out += ",\"sightings\":";
    append_optional(out, a.sightings);
    out += ",\"taxonomy\":[";  // null (no list) is []
    for (std::size_t i = 0; a.taxonomy && i < a.taxonomy->size(); ++i) {
        if (i) out += ',';
        json::append_string(out, (*a.taxonomy)[i]);
    }
    out += "]}";
}

void append_plant(std::string& out, const plant& p) {
    out += "{\"genus\":";
    json::append_string(out, p.genus);
    out += ",\"species\":";
    json::append_string(out, p.species);
    out += ",\"sightings\":";
    json::append_number(out, p.sightings.value_or(0));
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
        : cluster_(io.get_executor(), std::move(cfg)),
          animals_(cluster_.session()),
          plants_(cluster_.session()) {}

    cql::cluster& cluster() { return cluster_; }

    // Connects, makes the tables from the structs (or completes them) and seeds them.
    asio::awaitable<void> start() {
        co_await cluster_.async_connect(use_awaitable);
        co_await cluster_.session().async_execute(
            cql::statement("CREATE KEYSPACE IF NOT EXISTS naturalist WITH replication = "
                           "{'class': 'SimpleStrategy', 'replication_factor': 1}"),
            use_awaitable);
        std::vector<cql::sync_report> reports;
        reports.push_back(co_await animals_.async_sync_table(use_awaitable));
        reports.push_back(co_await plants_.async_sync_table(use_awaitable));
        for (const auto& r : reports)
            for (const auto& conflict : r.conflicts)  // an older table the structs do not fit
                std::printf("schema: %s\n", conflict.c_str());
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
        auto [ec, all] = co_await animals_.select()
                             .where(cql::col(&animal::genus) == genus)
                             .async_all(diag, no_throw);
        if (ec) co_return co_await reply_db_error(stream, req, ec, diag);
        std::string body = "[";
        for (const animal& a : all) {
            if (body.size() > 1) body += ',';
            append_animal(body, a);
        }
        body += ']';
        co_return co_await reply(stream, req, http::status::ok, std::move(body));
    }

    asio::awaitable<bool> get_animal(beast::tcp_stream& stream, const request& req,
                                     const std::string& genus, const std::string& species) {
        cql::diagnostics diag;
        animal key;  // get() reads the key members only
        key.genus = genus;
        key.species = species;
        auto [ec, a] = co_await animals_.get(key).async_one(diag, no_throw);
        if (ec) co_return co_await reply_db_error(stream, req, ec, diag);
        if (!a)
            co_return co_await reply(stream, req, http::status::not_found,
                                     error_json("no animal " + genus + " " + species));
        std::string body;
        append_animal(body, *a);
        co_return co_await reply(stream, req, http::status::ok, std::move(body));
    }

    // The request body, checked field by field: a client gets told what is wrong.
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
        cql::diagnostics diag;
        auto [ec, w] = co_await animals_.insert(*a).unset_nulls().async_execute(diag, no_throw);
        if (ec) co_return co_await reply_db_error(stream, req, ec, diag);

        // Answer with the animal as stored (read back, so the client sees what others will).
        auto [ec2, stored] = co_await animals_.get(*a).async_one(diag, no_throw);
        if (ec2 || !stored) co_return co_await reply_db_error(stream, req, ec2, diag);
        std::string body;
        append_animal(body, *stored);
        co_return co_await reply(stream, req, http::status::created, std::move(body),
                                 "/animal/" + a->genus + "/" + a->species);
    }

    // Chunked transfer encoding: the status line and headers go out first, then one chunk
    // per page of rows, then the last (empty) chunk. HTTP/1.0 has no chunks: there the body
    // is simply sent as it comes and ends when the connection closes. The mapped stream
    // fetches the next page while this one is written to the client, one page ahead at most.
    asio::awaitable<bool> get_plants(beast::tcp_stream& stream, const request& req,
                                     const std::string& genus) {
        auto rows = plants_.select()
                        .where(cql::col(&plant::genus) == genus)
                        .page_size(plant_page_size)
                        .stream();
        auto [ec, page] = co_await rows.async_next_page(no_throw);
        if (ec) {
            cql::diagnostics why;
            why.message = rows.error_message();
            co_return co_await reply_db_error(stream, req, ec, why);
        }

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
        while (page) {
            for (const plant& p : *page) {
                if (!first) part += ',';
                first = false;
                append_plant(part, p);
            }
            const bool sent = co_await send_part(stream, chunked, part);
            if (!sent) co_return false;
            part.clear();
            auto [pec, next] = co_await rows.async_next_page(no_throw);
            if (pec) {
                // Too late for an error status: end the connection without the last chunk,
                // so the client knows the array is incomplete.
                std::fprintf(stderr, "paging failed: %s %s\n", pec.message().c_str(),
                             rows.error_message().c_str());
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
        const std::vector<std::string> felidae = {"Animalia", "Chordata", "Mammalia", "Carnivora",
                                                  "Felidae"};
        const std::vector<std::string> canidae = {"Animalia", "Chordata", "Mammalia", "Carnivora",
                                                  "Canidae"};
        const animal animals[] = {
            {"Panthera", "leo", "https://example.org/img/lion.jpg", 210.5f, 12, felidae},
            {"Panthera", "tigris", "https://example.org/img/tiger.jpg", 250.0f, 4, felidae},
            {"Panthera", "onca", "https://example.org/img/jaguar.jpg", 170.25f, 2, felidae},
            {"Canis", "lupus", "https://example.org/img/wolf.jpg", 130.0f, 31, canidae},
        };
        for (const auto& a : animals)
            co_await animals_.insert(a).async_execute(use_awaitable);

        // One batch per genus: a genus is one partition, so the batch is applied atomically
        // by a single replica set and needs no batch log (UNLOGGED).
        const char* oaks[] = {"alba",  "robur",  "rubra",     "petraea",    "ilex",
                              "suber", "cerris", "palustris", "macrocarpa", "virginiana"};
        cql::mapped_batch quercus(cql::batch_type::unlogged);
        for (int i = 0; i < 120; ++i) {
            // Ten real oaks, then numbered cultivars so the genus spans several pages.
            std::string species =
                i < 10 ? oaks[i] : "cultivar-" + std::to_string(1000 + i).substr(1);
            quercus.add(plants_.insert(plant{"Quercus", species, i % 7}));
        }
        cql::mapped_batch rosa(cql::batch_type::unlogged);
        for (const char* species : {"canina", "gallica", "rugosa"})
            rosa.add(plants_.insert(plant{"Rosa", species, 1}));
        for (const cql::mapped_batch* b : {&quercus, &rosa}) {
            cql::batch_result r = co_await b->async_execute(use_awaitable);
            for (auto w : r.raw.warnings())  // e.g. Cassandra's "batch size exceeds ..." warning
                std::printf("server warning: %.*s\n", static_cast<int>(w.size()), w.data());
        }
        std::printf("seeded %zu animals and %zu plants\n", std::size(animals),
                    quercus.size() + rosa.size());
    }

    cql::cluster cluster_;
    cql::mapper<animal> animals_;
    cql::mapper<plant> plants_;
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
