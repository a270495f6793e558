// cqlsim: an in-memory Cassandra-compatible cluster on loopback, for tests and demos.
//
//   cqlsim --nodes 3 --dcs dc1:2,dc2:1 --port 9042 --base-address 127.0.0.1
//          [--single-address] [--vnodes 16] [--random-tokens SEED] [--admin-port 9142]
//          [--auth user:pass]... [--tls-cert cert.pem --tls-key key.pem]
//
// Prints one line per node once every node listens, then runs until SIGINT/SIGTERM.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>

#include "cqlsim/admin.hpp"
#include "cqlsim/cluster.hpp"

namespace {

void usage() {
    std::cerr << "usage: cqlsim [--nodes N] [--dcs dc1:2,dc2:1] [--port P] [--base-address A]\n"
                 "              [--single-address] [--vnodes K] [--random-tokens SEED]\n"
                 "              [--admin-port P] [--auth user:pass]... [--tls-cert F --tls-key F]\n"
                 "              [--cluster-name NAME]\n"
                 "  --nodes N          N nodes in one datacenter dc1 (ignored with --dcs)\n"
                 "  --dcs LIST         datacenters and their node counts (dc:nodes[:racks],...)\n"
                 "  --port P           native port (default 9042; 0: a free port per node)\n"
                 "  --base-address A   address of node 1; node k listens on A + k - 1\n"
                 "  --single-address   every node on the base address, node k on port P + k - 1\n"
                 "  --admin-port P     admin endpoint on 127.0.0.1:P (see sim/README.md)\n";
}

long to_number(const char* s, const char* what) {
    char* end = nullptr;
    long v = std::strtol(s, &end, 10);
    if (!*s || *end || v < 0) {
        std::cerr << "cqlsim: bad " << what << ": " << s << "\n";
        std::exit(2);
    }
    return v;
}

}  // namespace

int main(int argc, char** argv) {
    cqlsim::cluster_config cfg;
    std::size_t nodes = 1;
    std::string dcs;
    std::optional<std::uint16_t> admin_port;
    std::string tls_cert, tls_key;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&]() -> const char* {
            if (i + 1 >= argc) {
                std::cerr << "cqlsim: " << a << " needs a value\n";
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--nodes")
            nodes = static_cast<std::size_t>(to_number(next(), "node count"));
        else if (a == "--dcs")
            dcs = next();
        else if (a == "--port")
            cfg.port = static_cast<std::uint16_t>(to_number(next(), "port"));
        else if (a == "--base-address")
            cfg.base_address = next();
        else if (a == "--single-address")
            cfg.single_address = true;
        else if (a == "--vnodes")
            cfg.vnodes = static_cast<std::size_t>(to_number(next(), "vnode count"));
        else if (a == "--random-tokens") {
            cfg.random_tokens = true;
            cfg.token_seed = static_cast<std::uint64_t>(to_number(next(), "seed"));
        } else if (a == "--admin-port")
            admin_port = static_cast<std::uint16_t>(to_number(next(), "admin port"));
        else if (a == "--auth") {
            std::string up = next();
            auto colon = up.find(':');
            if (colon == std::string::npos) {
                std::cerr << "cqlsim: --auth wants user:password\n";
                return 2;
            }
            cfg.users.push_back({up.substr(0, colon), up.substr(colon + 1)});
        } else if (a == "--tls-cert")
            tls_cert = next();
        else if (a == "--tls-key")
            tls_key = next();
        else if (a == "--cluster-name")
            cfg.cluster_name = next();
        else if (a == "-h" || a == "--help") {
            usage();
            return 0;
        } else {
            std::cerr << "cqlsim: unknown option " << a << "\n";
            usage();
            return 2;
        }
    }
    if (!dcs.empty()) {
        cfg.datacenters = cqlsim::parse_datacenters(dcs);
        if (cfg.datacenters.empty()) {
            std::cerr << "cqlsim: bad --dcs " << dcs << "\n";
            return 2;
        }
    } else {
        cfg.datacenters = {{"dc1", nodes, 1}};
    }
    if (tls_cert.empty() != tls_key.empty()) {
        std::cerr << "cqlsim: --tls-cert and --tls-key go together\n";
        return 2;
    }
    if (!tls_cert.empty()) {
        cqlsim::tls_config t;
        t.certificate_file = tls_cert;
        t.private_key_file = tls_key;
        cfg.tls = t;
    }

    // Block the signals before any thread starts, then wait for them here.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);

    try {
        cqlsim::cluster c(cfg);
        c.start();
        std::optional<cqlsim::admin_server> admin;
        if (admin_port) admin.emplace(c, "127.0.0.1", *admin_port);
        for (std::size_t i = 0; i < c.size(); ++i) {
            auto e = c.endpoint(i);
            std::printf("node %zu %s:%u %s %s up\n", i + 1, e.address.c_str(),
                        static_cast<unsigned>(e.port), e.datacenter.c_str(), e.rack.c_str());
        }
        if (admin) std::printf("admin 127.0.0.1:%u\n", static_cast<unsigned>(admin->port()));
        std::printf("ready\n");
        std::fflush(stdout);
        int sig = 0;
        sigwait(&set, &sig);
        if (admin) admin->stop();
        c.stop();
    } catch (const std::exception& e) {
        std::cerr << "cqlsim: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
