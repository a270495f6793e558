#pragma once
/// \file
/// Settings shared by every connection: compression and TLS (see cluster_config).

#include <string>

namespace cql {

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

}  // namespace cql
