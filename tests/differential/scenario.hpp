#pragma once
// The scripted scenario of the differential test, run over one connection of the driver
// against any server (cqlsim or a real node): DDL, every CQL type (collections, UDT, tuple,
// duration), paging with states, LWT results, batches, counters, TTL and writetime, server
// warnings, and the common errors (syntax, invalid, unauthorized, already exists,
// unprepared, read failure). Each answer is recorded field by field in a transcript.

#include <cstdint>
#include <string>

#include "cql/protocol/version.hpp"
#include "transcript.hpp"

namespace differential {

// The keyspace of the scenario for a protocol version (dropped and created again).
std::string keyspace_for(cql::protocol::protocol_version v);

// The query whose read fails with too many tombstones (on a real server that runs with
// tombstone_failure_threshold 100, as scripts/real-cassandra.sh starts it).
std::string tombstone_read_query(cql::protocol::protocol_version v);

transcript run_scenario(const std::string& host, std::uint16_t port,
                        cql::protocol::protocol_version v);

}  // namespace differential
