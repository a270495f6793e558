// TLS with your own certificate authority, and username/password authentication (SASL
// PLAIN, what Cassandra's PasswordAuthenticator expects).
//
//   tls_and_auth [HOST[:PORT][,...]] --ca CA.pem --user NAME --password SECRET
//                [--cert CLIENT.pem --key CLIENT.key]   (if the server wants client certs)
//
// Contact points: the argument, else $CQL_CONTACT_POINTS, else 127.0.0.1:9042.
// The server's certificate must be signed by CA.pem and name the host connected to (an IP
// address SAN for 127.0.0.1, a DNS name for a host name).
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "cql/cluster.hpp"

namespace asio = boost::asio;
using asio::use_awaitable;

namespace {

std::vector<std::string> split_contact_points(std::string list) {
    if (const char* env = std::getenv("CQL_CONTACT_POINTS"); list.empty() && env) list = env;
    if (list.empty()) list = "127.0.0.1:9042";
    std::vector<std::string> out;
    std::stringstream ss(list);
    for (std::string cp; std::getline(ss, cp, ',');)
        if (!cp.empty()) out.push_back(cp);
    return out;
}

asio::awaitable<int> secure(cql::cluster_config cfg, std::string user) {
    cql::cluster cluster(co_await asio::this_coro::executor, std::move(cfg));
    // as_tuple: the error comes back as a value instead of an exception, so we can print
    // the details the cluster keeps about the failed attempt.
    auto [ec] = co_await cluster.async_connect(asio::as_tuple(use_awaitable));
    if (ec) {
        // e.g. "authentication failed" and the server's own words for each contact point:
        // "Provided username ... and/or password are incorrect", or the TLS verification error.
        std::printf("connect failed: %s\n", ec.message().c_str());
        std::printf("details: %s\n", cluster.last_error().message.c_str());
        co_return 1;
    }
    std::printf("connected over TLS as %s to %zu host(s)\n", user.c_str(), cluster.hosts().size());

    cql::result r = co_await cluster.session().async_execute(
        cql::statement("SELECT cluster_name, release_version FROM system.local"), use_awaitable);
    auto [name, version] = r.front().as<std::string, std::string>();
    std::printf("cluster %s, release %s\n", name.c_str(), version.c_str());

    co_await cluster.async_close(use_awaitable);
    co_return 0;
}

int usage() {
    std::fprintf(stderr,
                 "usage: tls_and_auth [HOST[:PORT],...] --ca CA.pem --user NAME --password "
                 "SECRET [--cert CERT.pem --key KEY.pem]\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    std::string contacts, user, password;
    cql::cluster_config cfg;
    cfg.tls.enabled = true;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        const bool has_value = i + 1 < argc;
        if (a == "--ca" && has_value)
            cfg.tls.ca_file = argv[++i];  // without it: the system's trusted CAs
        else if (a == "--user" && has_value)
            user = argv[++i];
        else if (a == "--password" && has_value)
            password = argv[++i];
        else if (a == "--cert" && has_value)
            cfg.tls.cert_file = argv[++i];
        else if (a == "--key" && has_value)
            cfg.tls.key_file = argv[++i];
        else if (!a.starts_with("--") && contacts.empty())
            contacts = a;
        else
            return usage();
    }
    if (user.empty()) return usage();
    cfg.contact_points = split_contact_points(contacts);
    // Every connection (control and pools) authenticates with these credentials.
    cfg.auth = cql::plain_text_auth(user, password);
    // verify_peer and verify_host_name stay on (the defaults): a certificate that is not
    // signed by the CA, or names another host, fails the handshake.

    asio::io_context io;
    int status = 1;
    asio::co_spawn(io, secure(std::move(cfg), user), [&](std::exception_ptr e, int rc) {
        if (!e) {
            status = rc;
            return;
        }
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& ex) {
            std::fprintf(stderr, "error: %s\n", ex.what());
        }
    });
    io.run();
    return status;
}
