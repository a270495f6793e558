#include "cql/policies/retry.hpp"

namespace cql {

write_type parse_write_type(std::string_view s) noexcept {
    if (s == "SIMPLE") return write_type::simple;
    if (s == "BATCH") return write_type::batch;
    if (s == "UNLOGGED_BATCH") return write_type::unlogged_batch;
    if (s == "COUNTER") return write_type::counter;
    if (s == "BATCH_LOG") return write_type::batch_log;
    if (s == "CAS") return write_type::cas;
    if (s == "VIEW") return write_type::view;
    if (s == "CDC") return write_type::cdc;
    return write_type::unknown;
}

retry_decision default_retry_policy::on_read_timeout(const retry_request& req,
                                                     protocol::consistency, int received,
                                                     int required, bool data_present) const {
    if (req.retry_count == 0 && received >= required && !data_present)
        return retry_decision::retry_same_host();
    return retry_decision::rethrow();
}

retry_decision default_retry_policy::on_write_timeout(const retry_request& req,
                                                      protocol::consistency, write_type type, int,
                                                      int) const {
    if (req.idempotent && req.retry_count == 0 && type == write_type::batch_log)
        return retry_decision::retry_same_host();
    return retry_decision::rethrow();
}

retry_decision default_retry_policy::on_unavailable(const retry_request& req, protocol::consistency,
                                                    int, int) const {
    if (req.retry_count == 0) return retry_decision::retry_next_host();
    return retry_decision::rethrow();
}

retry_decision default_retry_policy::on_request_error(const retry_request& req,
                                                      request_error e) const {
    switch (e) {
        case request_error::is_bootstrapping:
        case request_error::not_sent:
            return retry_decision::retry_next_host();
        case request_error::overloaded:
        case request_error::server_error:
        case request_error::truncate_error:
        case request_error::connection_broken:
        case request_error::client_timeout:
            return req.idempotent ? retry_decision::retry_next_host() : retry_decision::rethrow();
        case request_error::read_failure:
        case request_error::write_failure:
            return retry_decision::rethrow();
    }
    return retry_decision::rethrow();
}

retry_error_class classify_retry_error(std::error_code ec) noexcept {
    if (!ec) return retry_error_class::final;
    if (ec == std::errc::operation_canceled) return retry_error_class::final;
    if (ec.category() == server_category()) {
        switch (static_cast<server_errc>(ec.value())) {
            case server_errc::read_timeout:
                return retry_error_class::read_timeout;
            case server_errc::write_timeout:
                return retry_error_class::write_timeout;
            case server_errc::unavailable:
                return retry_error_class::unavailable;
            case server_errc::overloaded:
            case server_errc::server_error:
            case server_errc::truncate_error:
            case server_errc::read_failure:
            case server_errc::write_failure:
            case server_errc::is_bootstrapping:
                return retry_error_class::request_error;
            default:
                return retry_error_class::final;
        }
    }
    if (ec.category() == client_category()) {
        switch (static_cast<errc>(ec.value())) {
            case errc::timed_out:
            case errc::connection_closed:
            case errc::heartbeat_failed:
            case errc::connection_defunct:
            case errc::not_connected:
            case errc::no_stream_available:
            case errc::host_unreachable:
            case errc::resolution_failed:
            case errc::tls_handshake_failed:
                return retry_error_class::request_error;
            default:
                return retry_error_class::final;
        }
    }
    if (is_connection_error(ec)) return retry_error_class::request_error;
    return retry_error_class::final;
}

request_error classify_request_error(std::error_code ec) noexcept {
    if (ec.category() == server_category()) {
        switch (static_cast<server_errc>(ec.value())) {
            case server_errc::overloaded:
                return request_error::overloaded;
            case server_errc::truncate_error:
                return request_error::truncate_error;
            case server_errc::read_failure:
                return request_error::read_failure;
            case server_errc::write_failure:
                return request_error::write_failure;
            case server_errc::is_bootstrapping:
                return request_error::is_bootstrapping;
            default:
                return request_error::server_error;
        }
    }
    if (ec.category() == client_category()) {
        switch (static_cast<errc>(ec.value())) {
            case errc::timed_out:
                return request_error::client_timeout;
            case errc::connection_defunct:
            case errc::not_connected:
            case errc::no_stream_available:
            case errc::host_unreachable:
            case errc::resolution_failed:
            case errc::tls_handshake_failed:
                return request_error::not_sent;
            default:
                return request_error::connection_broken;
        }
    }
    return request_error::connection_broken;
}

retry_decision decide_retry(const retry_policy& policy, const retry_request& req,
                            std::error_code ec, const diagnostics& diag) {
    const protocol::consistency cl = diag.consistency_level.value_or(req.consistency);
    switch (classify_retry_error(ec)) {
        case retry_error_class::read_timeout:
            return policy.on_read_timeout(req, cl, diag.received, diag.required, diag.data_present);
        case retry_error_class::write_timeout:
            if (!req.idempotent) return retry_decision::rethrow();
            return policy.on_write_timeout(req, cl, parse_write_type(diag.write_type),
                                           diag.received, diag.required);
        case retry_error_class::unavailable:
            return policy.on_unavailable(req, cl, diag.required, diag.alive);
        case retry_error_class::request_error: {
            const request_error e = classify_request_error(ec);
            if (!req.idempotent && e != request_error::is_bootstrapping &&
                e != request_error::not_sent)
                return retry_decision::rethrow();
            return policy.on_request_error(req, e);
        }
        case retry_error_class::final:
            break;
    }
    return retry_decision::rethrow();
}

}  // namespace cql
