// The differential test: the scenario of scenario.cpp (protocol v4 and v5) against cqlsim and
// against Apache Cassandra 4.0.13, compared field by field. The real server is the one of
// CQL_CONTACT_POINTS/CQL_PORT when set (scripts/real-cassandra.sh runs it so); otherwise its
// answers as recorded in tests/fixtures/differential/cassandra-4.0.13.txt (recorded again
// with CQL_DIFFERENTIAL_RECORD=FILE while a real node is given). The differences that remain
// are listed below, each with its reason, as in sim/README.md.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include "cqlsim/cluster.hpp"
#include "scenario.hpp"
#include "transcript.hpp"

namespace p = cql::protocol;
using differential::transcript;

namespace {

const char* const recorded_file = CQL_FIXTURES_DIR "/differential/cassandra-4.0.13.txt";

// Where the answers may differ, and why (also in sim/README.md, "Compared with Apache
// Cassandra").
const differential::allowed_differences allowed = {
    {"create_", "warning",
     "Cassandra warns at CREATE when the cluster holds more than 40 keyspaces or 150 tables "
     "(keyspace_count_warn_threshold, table_count_warn_threshold): a real node's count depends on "
     "what ran on it before; cqlsim never warns so"},
};

transcript run_both_versions(const std::string& host, std::uint16_t port) {
    transcript all;
    for (auto v : {p::protocol_version::v4, p::protocol_version::v5}) {
        auto t = differential::run_scenario(host, port, v);
        all.lines.insert(all.lines.end(), t.lines.begin(), t.lines.end());
        all.skipped.insert(all.skipped.end(), t.skipped.begin(), t.skipped.end());
    }
    return all;
}

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "";
}

}  // namespace

TEST_CASE("differential: cqlsim answers the scenario as Apache Cassandra 4.0.13 does") {
    // cqlsim as cassandra-cluster runs Cassandra: one node of datacenter1.
    cqlsim::cluster_config sc;
    sc.datacenters = cqlsim::parse_datacenters("datacenter1:1");
    sc.port = 0;
    cqlsim::cluster sim(sc);
    sim.start();
    // cqlsim keeps no tombstones: the read that fails on them in Cassandra is primed.
    for (auto v : {p::protocol_version::v4, p::protocol_version::v5}) {
        cqlsim::primed_error e;
        e.code = cqlsim::error_code::read_failure;
        e.failure_code = 1;  // READ_TOO_MANY_TOMBSTONES
        sim.prime(0, {differential::tombstone_read_query(v), e, -1});
    }
    const auto ep = sim.endpoint(0);
    const transcript from_sim = run_both_versions(ep.address, ep.port);

    transcript reference;
    if (!env("CQL_CONTACT_POINTS").empty()) {
        auto host = env("CQL_CONTACT_POINTS");
        host = host.substr(0, host.find(','));
        const auto port = static_cast<std::uint16_t>(
            std::stoi(env("CQL_PORT").empty() ? std::string("9042") : env("CQL_PORT")));
        reference = run_both_versions(host, port);
        if (const auto out = env("CQL_DIFFERENTIAL_RECORD"); !out.empty()) {
            std::ofstream(out) << "# Apache Cassandra's answers to tests/differential/scenario.cpp"
                                  " (written by test_differential with CQL_DIFFERENTIAL_RECORD)\n"
                               << differential::write(reference);
            std::ofstream(out + ".cqlsim") << differential::write(from_sim);  // to compare
        }
    } else {
        std::ifstream in(recorded_file);
        REQUIRE(in);
        reference = differential::read(
            std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()));
    }
    for (const auto& s : reference.skipped)
        WARN("the real server skipped " << s);
    for (const auto& s : from_sim.skipped)
        WARN("cqlsim skipped " << s);
    REQUIRE(reference.lines.size() > 500);

    const auto diffs = differential::compare(reference, from_sim, allowed);
    std::ostringstream shown;
    for (const auto& d : diffs)
        shown << d << "\n";
    INFO("'-' Cassandra, '+' cqlsim:\n" << shown.str());
    CHECK(diffs.empty());
}
