#pragma once
// Settings of one connection to one host. The cluster builds one per connection from
// cluster_config (which has the same fields for every host).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>

#include "cql/auth.hpp"
#include "cql/config.hpp"
#include "cql/protocol/frame.hpp"
#include "cql/protocol/version.hpp"

namespace cql {
class response;
}

namespace cql::detail {

struct connection_config {
    std::string host = "127.0.0.1";  // name or address
    std::uint16_t port = 9042;       // the native transport port

    // Pinned protocol version; unset: try v5, fall back to v4 when the server refuses v5.
    std::optional<protocol::protocol_version> version;
    cql::compression compression = cql::compression::none;  // lz4 when the server offers it
    std::shared_ptr<auth_provider> auth;  // none: a server that asks fails the handshake
    tls_options tls;                      // TLS (tls.enabled) or plain TCP

    // Zero disables a timeout.
    std::chrono::milliseconds connect_timeout{5000};  // resolve + connect + TLS + handshake
    // async_request's timeout, the time a heartbeat may wait for its answer, and the time a
    // frame may stay incomplete while requests wait.
    std::chrono::milliseconds request_timeout{12000};
    // An OPTIONS probe is sent after this long without any byte received.
    std::chrono::milliseconds heartbeat_interval{30000};

    // Frames with a larger body are refused (decoding error; the connection is closed).
    std::uint32_t max_body_size = protocol::default_max_body_size;
    std::uint32_t max_streams = 32768;  // stream ids 0 .. max_streams-1
    // More requests that gave up while their answers never came close the connection
    // (zero: a quarter of max_streams).
    std::uint32_t max_orphans = 0;

    // Server pushed EVENT frames (stream -1), on the connection's executor.
    std::function<void(response&&)> on_event;
    // Once, on the connection's executor, when a connection that was ready fails or closes
    // (after its requests got the error). The pointer names the connection (its
    // pool_connection base, compared by address).
    std::function<void(const void*, std::error_code)> on_down;
};

}  // namespace cql::detail
