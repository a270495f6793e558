#include "cql/error.hpp"

#include <string>

#include "cql/cluster_errc.hpp"

namespace cql {
namespace {

// boost::system::error_category has a protected non-virtual destructor (categories are never
// deleted through it); Boost silences this warning in its own headers the same way.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
// Fixed ids: codes compare equal even across several copies of the library in a process.
class client_category_impl final : public boost::system::error_category {
  public:
    constexpr client_category_impl() noexcept : error_category(0xc9a5e1f0c11e0001ULL) {}
    const char* name() const noexcept override { return "cql.client"; }
    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
            case errc::ok:
                return "success";
            case errc::connection_closed:
                return "connection closed by the peer";
            case errc::timed_out:
                return "operation timed out";
            case errc::no_stream_available:
                return "no stream id available on the connection (too many requests in flight)";
            case errc::protocol_negotiation_failed:
                return "protocol version negotiation failed";
            case errc::authentication_failed:
                return "authentication failed";
            case errc::resolution_failed:
                return "host name resolution failed";
            case errc::host_unreachable:
                return "host unreachable (TCP connect failed)";
            case errc::tls_handshake_failed:
                return "TLS handshake failed";
            case errc::connection_defunct:
                return "connection is defunct";
            case errc::not_connected:
                return "connection is not ready";
            case errc::unexpected_response:
                return "unexpected response from the server";
            case errc::bad_bind_value:
                return "value cannot be bound";
            case errc::request_too_large:
                return "request too large";
            case errc::heartbeat_failed:
                return "heartbeat got no answer in time";
            case errc::compression_not_available:
                return "the requested compression is not offered by the server";
            case errc::internal_error:
                return "internal driver error";
            case errc::no_such_column:
                return "no such column in the row";
            case errc::connect_timed_out:
                return "connect or handshake did not finish within connect_timeout";
            case errc::connection_stalled:
                return "the connection stopped delivering answers and was closed";
        }
        return "unknown cql.client error " + std::to_string(ev);
    }
};

class server_category_impl final : public boost::system::error_category {
  public:
    constexpr server_category_impl() noexcept : error_category(0xc9a5e1f05e7e0001ULL) {}
    const char* name() const noexcept override { return "cql.server"; }
    std::string message(int ev) const override {
        switch (static_cast<server_errc>(ev)) {
            case server_errc::server_error:
                return "server error";
            case server_errc::protocol_error:
                return "protocol error";
            case server_errc::bad_credentials:
                return "bad credentials";
            case server_errc::unavailable:
                return "unavailable";
            case server_errc::overloaded:
                return "overloaded";
            case server_errc::is_bootstrapping:
                return "is bootstrapping";
            case server_errc::truncate_error:
                return "truncate error";
            case server_errc::write_timeout:
                return "write timeout";
            case server_errc::read_timeout:
                return "read timeout";
            case server_errc::read_failure:
                return "read failure";
            case server_errc::function_failure:
                return "function failure";
            case server_errc::write_failure:
                return "write failure";
            case server_errc::cdc_write_failure:
                return "CDC write failure";
            case server_errc::cas_write_unknown:
                return "CAS write unknown";
            case server_errc::syntax_error:
                return "syntax error";
            case server_errc::unauthorized:
                return "unauthorized";
            case server_errc::invalid:
                return "invalid query";
            case server_errc::config_error:
                return "configuration error";
            case server_errc::already_exists:
                return "already exists";
            case server_errc::unprepared:
                return "unprepared";
        }
        return "unknown server error code " + std::to_string(ev);
    }
};

class session_category_impl final : public boost::system::error_category {
  public:
    constexpr session_category_impl() noexcept : error_category(0xc9a5e1f05e550001ULL) {}
    const char* name() const noexcept override { return "cql.session"; }
    std::string message(int ev) const override {
        switch (static_cast<session_errc>(ev)) {
            case session_errc::ok:
                return "success";
            case session_errc::no_contact_points:
                return "no contact points configured";
            case session_errc::no_host_available:
                return "no host was available for the request";
            case session_errc::busy:
                return "every connection is busy and the wait queue is full";
            case session_errc::closed:
                return "the cluster is closed";
            case session_errc::not_connected:
                return "the cluster is not connected";
            case session_errc::bad_statement:
                return "the statement cannot be sent";
        }
        return "unknown session error " + std::to_string(ev);
    }
};

#pragma GCC diagnostic pop

}  // namespace

const boost::system::error_category& client_category() noexcept {
    static const client_category_impl c;
    return c;
}

const boost::system::error_category& server_category() noexcept {
    static const server_category_impl c;
    return c;
}

const boost::system::error_category& session_category() noexcept {
    static const session_category_impl c;
    return c;
}

error_code to_error_code(const std::error_code& ec) noexcept {
    // Boost keeps a std::error_code of these two categories wrapped ("std:unknown", a hashed
    // value); Asio's own errors are Boost's system category.
    if (ec.category() == std::system_category())
        return {ec.value(), boost::system::system_category()};
    if (ec.category() == std::generic_category())
        return {ec.value(), boost::system::generic_category()};
    return ec;
}

std::error_code server_error_code(std::int32_t cql_code) noexcept {
    if (cql_code == 0) return server_errc::server_error;
    return error_code(cql_code, server_category());
}

bool is_connection_error(std::error_code ec) noexcept {
    if (!ec) return false;
    if (ec.category() == protocol::codec_category()) return true;
    if (ec.category() == client_category()) {
        switch (static_cast<errc>(ec.value())) {
            case errc::connection_closed:
            case errc::connection_defunct:
            case errc::heartbeat_failed:
            case errc::connection_stalled:
            case errc::connect_timed_out:
            case errc::not_connected:
            case errc::host_unreachable:
            case errc::resolution_failed:
            case errc::tls_handshake_failed:
                return true;
            default:
                return false;
        }
    }
    return ec.category() == std::system_category() || ec.category() == std::generic_category();
}

std::string to_string(const diagnostics& d) {
    std::string fields;
    auto add = [&](const std::string& f) {
        if (!fields.empty()) fields += ", ";
        fields += f;
    };
    if (d.from_server) {
        if (d.consistency_level)
            add("consistency " + std::string(protocol::to_string(*d.consistency_level)));
        switch (d.code) {
            case 0x1000:  // unavailable
                add(std::to_string(d.required) + " replicas required, " + std::to_string(d.alive) +
                    " alive");
                break;
            case 0x1100:  // write timeout
            case 0x1200:  // read timeout
            case 0x1300:  // read failure
            case 0x1500:  // write failure
            case 0x1700:  // cas write unknown
                add(std::to_string(d.received) + " of " + std::to_string(d.required) +
                    " replicas answered");
                break;
            default:
                break;
        }
        if (d.num_failures > 0) add(std::to_string(d.num_failures) + " failed");
        if (!d.write_type.empty()) add("write type " + d.write_type);
        if (d.code == 0x1200 || d.code == 0x1300) add(d.data_present ? "data present" : "no data");
        if (d.contentions > 0) add(std::to_string(d.contentions) + " contentions");
        if (!d.function.empty()) {
            std::string args;
            for (const auto& a : d.arg_types)
                args += (args.empty() ? "" : ", ") + a;
            add("function " + d.keyspace + "." + d.function + "(" + args + ")");
        } else if (!d.keyspace.empty()) {
            add("keyspace " + d.keyspace + (d.table.empty() ? "" : ", table " + d.table));
        }
    }
    if (fields.empty()) return d.message;
    if (d.message.empty()) return fields;
    return d.message + " (" + fields + ")";
}

std::string describe(const error_code& ec, const diagnostics& d) {
    std::string out = ec.message() + " [" + ec.to_string() + "]";
    auto details = to_string(d);
    if (!details.empty()) out += ": " + details;
    return out;
}

std::error_code decode_error_body(protocol::bytes_view body, protocol_version version,
                                  diagnostics& diag) {
    diag.clear();
    protocol::byte_reader r(body);
    diag.from_server = true;
    diag.code = r.i32();
    diag.message = std::string(r.string());
    if (!r.ok()) return r.error();

    auto read_cl = [&] {
        auto cl = r.u16();
        if (r.ok() && !protocol::is_valid_consistency(cl))
            r.fail(protocol::codec_errc::invalid_value);
        if (r.ok()) diag.consistency_level = static_cast<consistency>(cl);
    };
    auto read_failures = [&] {
        if (version >= protocol_version::v5) {
            auto n = r.i32();
            if (n < 0) {
                r.fail(protocol::codec_errc::invalid_length);
                return;
            }
            // every entry needs at least 1 + 4 + 2 bytes
            if (!r.plausible_count(static_cast<std::size_t>(n), 7)) return;
            diag.num_failures = n;
            for (std::int32_t i = 0; i < n && r.ok(); ++i) {
                auto addr = r.inetaddr();
                auto reason = r.u16();
                diag.reasons.emplace_back(addr, reason);
            }
        } else {
            diag.num_failures = r.i32();
        }
    };

    switch (diag.code) {
        case 0x1000:  // unavailable
            read_cl();
            diag.required = r.i32();
            diag.alive = r.i32();
            break;
        case 0x1100:  // write timeout
            read_cl();
            diag.received = r.i32();
            diag.required = r.i32();
            diag.write_type = std::string(r.string());
            if (version >= protocol_version::v5 && diag.write_type == "CAS" && r.remaining() >= 2)
                diag.contentions = r.i16();
            break;
        case 0x1200:  // read timeout
            read_cl();
            diag.received = r.i32();
            diag.required = r.i32();
            diag.data_present = r.u8() != 0;
            break;
        case 0x1300:  // read failure
            read_cl();
            diag.received = r.i32();
            diag.required = r.i32();
            read_failures();
            diag.data_present = r.u8() != 0;
            break;
        case 0x1400:  // function failure
            diag.keyspace = std::string(r.string());
            diag.function = std::string(r.string());
            for (auto t : r.string_list())
                diag.arg_types.emplace_back(t);
            break;
        case 0x1500:  // write failure
            read_cl();
            diag.received = r.i32();
            diag.required = r.i32();
            read_failures();
            diag.write_type = std::string(r.string());
            break;
        case 0x1700:  // cas write unknown
            read_cl();
            diag.received = r.i32();
            diag.required = r.i32();
            break;
        case 0x2400:  // already exists
            diag.keyspace = std::string(r.string());
            diag.table = std::string(r.string());
            break;
        case 0x2500: {  // unprepared
            auto id = r.short_bytes();
            diag.unprepared_id.assign(id.begin(), id.end());
            break;
        }
        default:
            break;
    }
    // A body may carry more than this version describes; the rest is ignored (spec 1).
    if (!r.ok()) return r.error();
    return server_error_code(diag.code);
}

}  // namespace cql
