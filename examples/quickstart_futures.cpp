// Quickstart with futures, from a plain thread: no coroutines and no io_context to run. The
// cluster owns its I/O thread; each call returns a std::future, and get() waits for it (and
// throws cql::error_with_diagnostics, a boost::system::system_error whose what() carries the
// server's message, on failure).
//
//   quickstart_futures [HOST[:PORT][,HOST[:PORT]...]]
//
// Contact points: the argument, else $CQL_CONTACT_POINTS, else 127.0.0.1:9042.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <boost/asio/system_executor.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/system/system_error.hpp>

#include "cql/cluster.hpp"

namespace asio = boost::asio;
using asio::use_future;

namespace {

std::vector<std::string> contact_points(int argc, char** argv) {
    std::string list = argc > 1 ? argv[1] : "";
    if (const char* env = std::getenv("CQL_CONTACT_POINTS"); list.empty() && env) list = env;
    if (list.empty()) list = "127.0.0.1:9042";
    std::vector<std::string> out;
    std::stringstream ss(list);
    for (std::string cp; std::getline(ss, cp, ',');)
        if (!cp.empty()) out.push_back(cp);
    return out;
}

struct user {
    std::int32_t id;
    const char* name;
    const char* email;
};

}  // namespace

int main(int argc, char** argv) {
    cql::cluster_config cfg;
    cfg.contact_points = contact_points(argc, argv);
    // The cluster runs its own io_context on one thread. The executor given to the
    // constructor only runs completion handlers that have no executor of their own; a
    // future's handler has one (it just fulfils the promise), so nothing needs to run it.
    cfg.io_threads = 1;
    cql::cluster cluster(asio::system_executor(), cfg);

    bool connected = false;
    try {
        cluster.async_connect(use_future).get();
        connected = true;
        std::printf("connected: %zu host(s), protocol v%d\n", cluster.hosts().size(),
                    static_cast<int>(cluster.version()));

        cql::session& s = cluster.session();
        s.async_execute(cql::statement("CREATE KEYSPACE IF NOT EXISTS quickstart WITH "
                                       "replication = {'class': 'SimpleStrategy', "
                                       "'replication_factor': 1}"),
                        use_future)
            .get();
        s.async_execute(cql::statement("CREATE TABLE IF NOT EXISTS quickstart.users "
                                       "(id int PRIMARY KEY, name text, email text)"),
                        use_future)
            .get();

        cql::prepared_statement insert =
            s.async_prepare("INSERT INTO quickstart.users (id, name, email) VALUES (?, ?, ?)",
                            use_future)
                .get();
        const user users[] = {{1, "Ada Lovelace", "ada@example.com"},
                              {2, "Alan Turing", "alan@example.com"},
                              {3, "Grace Hopper", "grace@example.com"}};
        // Start every insert first, then wait for all: the three requests are in flight
        // together instead of one after another.
        std::vector<std::future<cql::result>> pending;
        for (const user& u : users)
            pending.push_back(s.async_execute(insert.bind(u.id, u.name, u.email), use_future));
        for (auto& f : pending)
            f.get();
        std::printf("inserted %zu users\n", pending.size());

        cql::prepared_statement select =
            s.async_prepare("SELECT id, name, email FROM quickstart.users WHERE id = ?", use_future)
                .get();
        for (const user& u : users) {
            cql::result r = s.async_execute(select.bind(u.id), use_future).get();
            for (cql::row_view row : r) {
                auto [id, name, email] = row.as<std::int32_t, std::string_view, std::string_view>();
                std::printf("user %d: %.*s <%.*s>\n", id, static_cast<int>(name.size()),
                            name.data(), static_cast<int>(email.size()), email.data());
            }
        }

        cluster.async_close(use_future).get();
        std::printf("closed\n");
    } catch (const boost::system::system_error& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        if (!connected)  // why each contact point failed
            std::fprintf(stderr, "cannot connect: %s\n", cluster.last_error().message.c_str());
        return 1;
    }
    return 0;
}
