// Quickstart with plain callbacks (no coroutines): the same steps as quickstart_coroutines,
// each one started from the completion handler of the one before.
//
//   quickstart_callbacks [HOST[:PORT][,HOST[:PORT]...]]
//
// Contact points: the argument, else $CQL_CONTACT_POINTS, else 127.0.0.1:9042.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "cql/cluster.hpp"

namespace asio = boost::asio;

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
const user users[] = {{1, "Ada Lovelace", "ada@example.com"},
                      {2, "Alan Turing", "alan@example.com"},
                      {3, "Grace Hopper", "grace@example.com"}};

// Lives on main's stack while io.run() runs every handler, so handlers may capture `this`.
class quickstart {
  public:
    quickstart(asio::io_context& io, cql::cluster_config cfg)
        : cluster_(io.get_executor(), std::move(cfg)) {}

    int status() const { return status_; }

    void start() {
        cluster_.async_connect([this](cql::error_code ec) {
            if (ec) {
                // The cluster says why each contact point failed.
                return fail("connect", ec, cluster_.last_error().message);
            }
            std::printf("connected: %zu host(s), protocol v%d\n", cluster_.hosts().size(),
                        static_cast<int>(cluster_.version()));
            create_schema();
        });
    }

  private:
    cql::session& session() { return cluster_.session(); }

    void create_schema() {
        execute(cql::statement("CREATE KEYSPACE IF NOT EXISTS quickstart WITH replication = "
                               "{'class': 'SimpleStrategy', 'replication_factor': 1}"),
                [this](cql::result) {
                    execute(cql::statement("CREATE TABLE IF NOT EXISTS quickstart.users "
                                           "(id int PRIMARY KEY, name text, email text)"),
                            [this](cql::result) { prepare_insert(); });
                });
    }

    void prepare_insert() {
        session().async_prepare("INSERT INTO quickstart.users (id, name, email) VALUES (?, ?, ?)",
                                [this](cql::error_code ec, cql::prepared_statement p) {
                                    if (ec) return fail("prepare", ec, "");
                                    insert_ = std::move(p);
                                    insert_next(0);
                                });
    }

    // One insert at a time; a loop of callbacks is a function that starts the next step.
    void insert_next(std::size_t i) {
        if (i == std::size(users)) {
            std::printf("inserted %zu users\n", std::size(users));
            return prepare_select();
        }
        const user& u = users[i];
        execute(insert_.bind(u.id, u.name, u.email),
                [this, i](cql::result) { insert_next(i + 1); });
    }

    void prepare_select() {
        session().async_prepare("SELECT id, name, email FROM quickstart.users WHERE id = ?",
                                [this](cql::error_code ec, cql::prepared_statement p) {
                                    if (ec) return fail("prepare", ec, "");
                                    select_ = std::move(p);
                                    select_next(0);
                                });
    }

    void select_next(std::size_t i) {
        if (i == std::size(users)) return close();
        execute(select_.bind(users[i].id), [this, i](cql::result r) {
            for (cql::row_view row : r) {
                auto [id, name, email] = row.as<std::int32_t, std::string_view, std::string_view>();
                std::printf("user %d: %.*s <%.*s>\n", id, static_cast<int>(name.size()),
                            name.data(), static_cast<int>(email.size()), email.data());
            }
            select_next(i + 1);
        });
    }

    void close() {
        cluster_.async_close([](cql::error_code) { std::printf("closed\n"); });
    }

    // Runs a statement; on success hands the result to `next`, on failure reports the server's
    // message (kept in diag_, which must outlive the operation: it is a member).
    template <class Statement>
    void execute(const Statement& st, std::function<void(cql::result)> next) {
        diag_.clear();
        session().async_execute(st, diag_,
                                [this, next = std::move(next)](cql::error_code ec, cql::result r) {
                                    if (ec) return fail("execute", ec, diag_.message);
                                    next(std::move(r));
                                });
    }

    void fail(const char* what, cql::error_code ec, const std::string& details) {
        std::fprintf(stderr, "error: %s: %s%s%s\n", what, ec.message().c_str(),
                     details.empty() ? "" : ": ", details.c_str());
        status_ = 1;
        cluster_.async_close([](cql::error_code) {});
    }

    cql::cluster cluster_;
    cql::diagnostics diag_;
    cql::prepared_statement insert_;
    cql::prepared_statement select_;
    int status_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
    cql::cluster_config cfg;
    cfg.contact_points = contact_points(argc, argv);

    asio::io_context io;
    quickstart app(io, std::move(cfg));
    app.start();
    io.run();  // returns once the cluster is closed and no handler is pending
    return app.status();
}
