#include <catch2/catch.hpp>

#include <system_error>

#include "cql/error.hpp"
#include "cql/policies/retry.hpp"

using namespace cql;
using protocol::consistency;
using D = retry_decision;

namespace {

diagnostics read_timeout_diag(int received, int required, bool data_present) {
    diagnostics d;
    d.from_server = true;
    d.code = 0x1200;
    d.consistency_level = consistency::quorum;
    d.received = received;
    d.required = required;
    d.data_present = data_present;
    return d;
}

diagnostics write_timeout_diag(const char* type) {
    diagnostics d;
    d.from_server = true;
    d.code = 0x1100;
    d.consistency_level = consistency::quorum;
    d.received = 1;
    d.required = 2;
    d.write_type = type;
    return d;
}

diagnostics unavailable_diag() {
    diagnostics d;
    d.from_server = true;
    d.code = 0x1000;
    d.consistency_level = consistency::local_quorum;
    d.required = 2;
    d.alive = 1;
    return d;
}

retry_request req(bool idempotent, int retries = 0) {
    return {idempotent, consistency::quorum, retries};
}

const default_retry_policy def;
const fallthrough_retry_policy never;

D decide(const retry_policy& p, bool idem, std::error_code ec, const diagnostics& d = {},
         int retries = 0) {
    return decide_retry(p, req(idem, retries), ec, d);
}

}  // namespace

TEST_CASE("idempotence of a statement", "[retry]") {
    CHECK_FALSE(is_idempotent(std::nullopt, false, false, false));
    CHECK(is_idempotent(std::nullopt, true, false, false));
    CHECK(is_idempotent(true, false, false, false));
    CHECK_FALSE(is_idempotent(false, true, false, false));
    CHECK_FALSE(is_idempotent(true, true, true, false));  // LWT
    CHECK_FALSE(is_idempotent(true, true, false, true));  // counter
}

TEST_CASE("write types", "[retry]") {
    CHECK(parse_write_type("SIMPLE") == write_type::simple);
    CHECK(parse_write_type("BATCH") == write_type::batch);
    CHECK(parse_write_type("UNLOGGED_BATCH") == write_type::unlogged_batch);
    CHECK(parse_write_type("COUNTER") == write_type::counter);
    CHECK(parse_write_type("BATCH_LOG") == write_type::batch_log);
    CHECK(parse_write_type("CAS") == write_type::cas);
    CHECK(parse_write_type("VIEW") == write_type::view);
    CHECK(parse_write_type("CDC") == write_type::cdc);
    CHECK(parse_write_type("batch_log") == write_type::unknown);
    CHECK(parse_write_type("") == write_type::unknown);
}

TEST_CASE("error classification", "[retry]") {
    CHECK(classify_retry_error(server_errc::read_timeout) == retry_error_class::read_timeout);
    CHECK(classify_retry_error(server_errc::write_timeout) == retry_error_class::write_timeout);
    CHECK(classify_retry_error(server_errc::unavailable) == retry_error_class::unavailable);
    for (auto e :
         {server_errc::overloaded, server_errc::server_error, server_errc::truncate_error,
          server_errc::read_failure, server_errc::write_failure, server_errc::is_bootstrapping})
        CHECK(classify_retry_error(e) == retry_error_class::request_error);
    for (auto e :
         {server_errc::syntax_error, server_errc::invalid, server_errc::unauthorized,
          server_errc::unprepared, server_errc::cas_write_unknown, server_errc::function_failure,
          server_errc::already_exists, server_errc::protocol_error, server_errc::config_error})
        CHECK(classify_retry_error(e) == retry_error_class::final);
    CHECK(classify_request_error(server_errc::overloaded) == request_error::overloaded);
    CHECK(classify_request_error(server_errc::server_error) == request_error::server_error);
    CHECK(classify_request_error(server_errc::truncate_error) == request_error::truncate_error);
    CHECK(classify_request_error(server_errc::read_failure) == request_error::read_failure);
    CHECK(classify_request_error(server_errc::write_failure) == request_error::write_failure);
    CHECK(classify_request_error(server_errc::is_bootstrapping) == request_error::is_bootstrapping);
    CHECK(classify_request_error(errc::timed_out) == request_error::client_timeout);
    CHECK(classify_request_error(errc::connection_closed) == request_error::connection_broken);
    CHECK(classify_request_error(errc::heartbeat_failed) == request_error::connection_broken);
    CHECK(classify_request_error(protocol::codec_errc{1}) == request_error::connection_broken);
    CHECK(classify_request_error(std::make_error_code(std::errc::connection_reset)) ==
          request_error::connection_broken);
    CHECK(classify_request_error(errc::connection_defunct) == request_error::not_sent);
    CHECK(classify_request_error(errc::no_stream_available) == request_error::not_sent);
    CHECK(classify_request_error(errc::not_connected) == request_error::not_sent);
    CHECK(classify_retry_error(errc::bad_bind_value) == retry_error_class::final);
    CHECK(classify_retry_error(errc::request_too_large) == retry_error_class::final);
    CHECK(classify_retry_error(std::make_error_code(std::errc::operation_canceled)) ==
          retry_error_class::final);
    CHECK(classify_retry_error(std::error_code{}) == retry_error_class::final);
}

TEST_CASE("default policy: read timeout", "[retry]") {
    for (bool idem : {false, true}) {
        INFO("idempotent " << idem);
        // Enough replicas answered, but not the data one: retry once on the same host.
        CHECK(decide(def, idem, server_errc::read_timeout, read_timeout_diag(2, 2, false)) ==
              D::retry_same_host());
        CHECK(decide(def, idem, server_errc::read_timeout, read_timeout_diag(3, 2, false)) ==
              D::retry_same_host());
        CHECK(decide(def, idem, server_errc::read_timeout, read_timeout_diag(2, 2, false), 1) ==
              D::rethrow());
        CHECK(decide(def, idem, server_errc::read_timeout, read_timeout_diag(2, 2, true)) ==
              D::rethrow());
        CHECK(decide(def, idem, server_errc::read_timeout, read_timeout_diag(1, 2, false)) ==
              D::rethrow());
        CHECK(decide(never, idem, server_errc::read_timeout, read_timeout_diag(2, 2, false)) ==
              D::rethrow());
    }
}

TEST_CASE("default policy: write timeout", "[retry]") {
    // Idempotent BATCH_LOG: once, same host.
    CHECK(decide(def, true, server_errc::write_timeout, write_timeout_diag("BATCH_LOG")) ==
          D::retry_same_host());
    CHECK(decide(def, true, server_errc::write_timeout, write_timeout_diag("BATCH_LOG"), 1) ==
          D::rethrow());
    for (const char* t : {"SIMPLE", "BATCH", "UNLOGGED_BATCH", "COUNTER", "CAS", "VIEW", "CDC"}) {
        INFO(t);
        CHECK(decide(def, true, server_errc::write_timeout, write_timeout_diag(t)) == D::rethrow());
    }
    // Not idempotent: never, whatever the write type.
    for (const char* t : {"SIMPLE", "BATCH", "BATCH_LOG", "CAS"}) {
        INFO(t);
        CHECK(decide(def, false, server_errc::write_timeout, write_timeout_diag(t)) ==
              D::rethrow());
    }
    CHECK(decide(never, true, server_errc::write_timeout, write_timeout_diag("BATCH_LOG")) ==
          D::rethrow());
}

TEST_CASE("default policy: unavailable", "[retry]") {
    for (bool idem : {false, true}) {
        INFO("idempotent " << idem);
        CHECK(decide(def, idem, server_errc::unavailable, unavailable_diag()) ==
              D::retry_next_host());
        CHECK(decide(def, idem, server_errc::unavailable, unavailable_diag(), 1) == D::rethrow());
        CHECK(decide(never, idem, server_errc::unavailable, unavailable_diag()) == D::rethrow());
    }
}

TEST_CASE("default policy: other errors by idempotence", "[retry]") {
    const std::error_code next_if_idempotent[] = {
        server_errc::overloaded,     server_errc::server_error,
        server_errc::truncate_error, errc::connection_closed,
        errc::heartbeat_failed,      errc::timed_out,
        protocol::codec_errc{1},     std::make_error_code(std::errc::connection_reset)};
    for (auto ec : next_if_idempotent) {
        INFO(ec.message());
        CHECK(decide(def, true, ec) == D::retry_next_host());
        CHECK(decide(def, true, ec, {}, 5) == D::retry_next_host());  // each host once
        CHECK(decide(def, false, ec) == D::rethrow());
        CHECK(decide(never, true, ec) == D::rethrow());
    }
    // Nothing was executed: next host, idempotent or not.
    const std::error_code never_executed[] = {server_errc::is_bootstrapping,
                                              errc::connection_defunct, errc::no_stream_available,
                                              errc::not_connected};
    for (auto ec : never_executed) {
        INFO(ec.message());
        CHECK(decide(def, true, ec) == D::retry_next_host());
        CHECK(decide(def, false, ec) == D::retry_next_host());
        CHECK(decide(never, false, ec) == D::rethrow());
    }
    // Final errors.
    const std::error_code final_errors[] = {
        server_errc::read_failure,      server_errc::write_failure,
        server_errc::syntax_error,      server_errc::invalid,
        server_errc::unauthorized,      server_errc::unprepared,
        server_errc::cas_write_unknown, server_errc::function_failure,
        errc::bad_bind_value,           std::make_error_code(std::errc::operation_canceled)};
    for (auto ec : final_errors) {
        INFO(ec.message());
        CHECK(decide(def, true, ec) == D::rethrow());
        CHECK(decide(def, false, ec) == D::rethrow());
    }
}

namespace {
// A policy that wants to retry everything: decide_retry still protects non-idempotent writes.
struct eager_policy final : retry_policy {
    D on_read_timeout(const retry_request&, consistency, int, int, bool) const override {
        return D::retry_same_host(consistency::one);
    }
    D on_write_timeout(const retry_request&, consistency, write_type, int, int) const override {
        return D::retry_same_host(consistency::one);
    }
    D on_unavailable(const retry_request&, consistency cl, int, int) const override {
        return D::retry_next_host(cl);
    }
    D on_request_error(const retry_request&, request_error) const override { return D::ignore(); }
};
}  // namespace

TEST_CASE("custom policies get the details; non-idempotent writes stay safe", "[retry]") {
    eager_policy eager;
    CHECK(decide(eager, true, server_errc::write_timeout, write_timeout_diag("SIMPLE")) ==
          D::retry_same_host(consistency::one));
    CHECK(decide(eager, false, server_errc::write_timeout, write_timeout_diag("SIMPLE")) ==
          D::rethrow());
    CHECK(decide(eager, false, errc::connection_closed) == D::rethrow());
    CHECK(decide(eager, false, errc::timed_out) == D::rethrow());
    CHECK(decide(eager, false, server_errc::overloaded) == D::rethrow());
    CHECK(decide(eager, false, server_errc::is_bootstrapping) == D::ignore());
    CHECK(decide(eager, true, server_errc::overloaded) == D::ignore());
    CHECK(decide(eager, false, server_errc::read_timeout, read_timeout_diag(0, 1, true)) ==
          D::retry_same_host(consistency::one));
    // The consistency of the error is passed on; without one, the request's.
    CHECK(decide(eager, false, server_errc::unavailable, unavailable_diag()) ==
          D::retry_next_host(consistency::local_quorum));
    CHECK(decide(eager, false, server_errc::unavailable, diagnostics{}) ==
          D::retry_next_host(consistency::quorum));
}
