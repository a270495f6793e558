#pragma once
/// \file
/// Settings of one connection to one host. (cluster_config, for many hosts, builds on it.)

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "cql/auth.hpp"
#include "cql/protocol/frame.hpp"
#include "cql/protocol/version.hpp"

namespace cql {

class response;

/// Frame compression: lz4 is used when the server offers it (negotiated in STARTUP; for v5
/// the segments are compressed), none otherwise. Worth it for large rows over slow links.
enum class compression { none, lz4 };

/// TLS settings (cluster_config::tls). Certificates and keys can be files or PEM text; a
/// bad file or PEM fails the connection with errc::tls_handshake_failed, like a refused
/// certificate.
struct tls_options {
    bool enabled = false;          ///< false: plain TCP (every other field ignored)
    bool verify_peer = true;       ///< check the server's certificate chain
    bool verify_host_name = true;  ///< check the certificate names the host (or server_name)
    std::string server_name;       ///< SNI and name to verify; default: the configured host
    /// Trusted CAs: a PEM file and/or PEM text; neither: the system's default paths.
    std::string ca_file;
    std::string ca_pem;  ///< \copydoc ca_file
    /// Client certificate (chain) and private key, as files or PEM text (optional).
    std::string cert_file;
    std::string cert_pem;  ///< \copydoc cert_file
    std::string key_file;  ///< \copydoc cert_file
    std::string key_pem;   ///< \copydoc cert_file
};

/// Settings of one connection to one host. The cluster builds one per connection from
/// cluster_config (which has the same fields for every host); you only meet it if you use
/// the driver's connection layer directly.
struct connection_config {
    std::string host = "127.0.0.1";  ///< name or address
    std::uint16_t port = 9042;       ///< the native transport port

    /// Pinned protocol version; unset: try v5, fall back to v4 when the server refuses v5.
    std::optional<protocol::protocol_version> version;
    /// lz4 is used when the server offers it (see connection::compression()).
    cql::compression compression = cql::compression::none;
    std::shared_ptr<auth_provider> auth;  ///< none: a server that asks fails the handshake
    tls_options tls;                      ///< TLS (tls.enabled) or plain TCP

    // Zero disables a timeout.
    std::chrono::milliseconds connect_timeout{5000};   ///< resolve + connect + TLS + handshake
    std::chrono::milliseconds request_timeout{12000};  ///< per request on this connection
    /// An OPTIONS probe is sent after this long without any byte received; no answer
    /// within request_timeout makes the connection defunct.
    std::chrono::milliseconds heartbeat_interval{30000};

    /// Frames with a larger body are refused (decoding error; the connection is closed).
    std::uint32_t max_body_size = protocol::default_max_body_size;
    std::uint32_t max_streams = 32768;  ///< stream ids 0 .. max_streams-1

    /// Server pushed EVENT frames (stream -1), on the connection's strand.
    std::function<void(response&&)> on_event;
};

}  // namespace cql
