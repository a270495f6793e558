#pragma once
/// \file
/// Authentication (native_protocol_v5.spec 4.1.2, 4.2.3, 4.2.7, 4.2.8): the server names
/// its authenticator class in AUTHENTICATE; the client answers with AUTH_RESPONSE tokens
/// until AUTH_SUCCESS (or an ERROR). An auth_provider makes one authenticator per
/// connection; plain_text_auth() is SASL PLAIN, what PasswordAuthenticator expects.

#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "cql/protocol/bytes.hpp"

namespace cql {

/// One SASL exchange on one connection, made by auth_provider::new_authenticator when the
/// server answers STARTUP with AUTHENTICATE. It is used by that connection only, from its
/// executor, and destroyed when the handshake ends, so it needs no locking.
///
/// Any error code a member returns aborts the handshake: the connection attempt (and
/// cluster::async_connect, if no other host succeeds) fails with that code. Return
/// cql::errc::authentication_failed unless a more precise code exists.
class authenticator {
  public:
    virtual ~authenticator() = default;
    /// Writes the token of the first AUTH_RESPONSE into `token` (empty on entry).
    virtual std::error_code initial_response(protocol::byte_buffer& token) = 0;
    /// Writes the answer to an AUTH_CHALLENGE token into `response` (empty on entry).
    /// `challenge` is only valid during the call. The driver gives up after 64 rounds.
    virtual std::error_code evaluate_challenge(protocol::bytes_view challenge,
                                               protocol::byte_buffer& response) = 0;
    /// Called with the final token of AUTH_SUCCESS (may be empty); an error here still
    /// fails the connection, e.g. when a mutual-authentication check of the server fails.
    virtual std::error_code on_success(protocol::bytes_view /*token*/) { return {}; }
};

/// Makes an authenticator for each connection that must authenticate; set it in
/// cluster_config::auth (plain_text_auth() covers PasswordAuthenticator). One provider is
/// shared by every connection of the cluster and kept alive by them (shared_ptr), so
/// new_authenticator may be called concurrently from several threads when the cluster runs
/// on several io_contexts: keep it free of unsynchronised mutable state.
class auth_provider {
  public:
    virtual ~auth_provider() = default;
    /// `host` is the configured host of the connection; `authenticator_class` is what the
    /// server sent in AUTHENTICATE (e.g. org.apache.cassandra.auth.PasswordAuthenticator).
    /// Returning nullptr refuses the class: the connection fails with
    /// cql::errc::authentication_failed and a message in its diagnostics.
    virtual std::unique_ptr<authenticator> new_authenticator(
        std::string_view host, std::string_view authenticator_class) = 0;
};

/// SASL PLAIN, what Cassandra's PasswordAuthenticator (and ScyllaDB's) expects: the token is
/// "\0" user "\0" password, sent in clear text, so use it over TLS on untrusted networks.
/// Wrong credentials make the connection fail with cql::errc::authentication_failed (the
/// server's bad_credentials message is kept in the diagnostics).
std::shared_ptr<auth_provider> plain_text_auth(std::string username, std::string password);

}  // namespace cql
