#pragma once
// Authentication (native_protocol_v5.spec 4.1.2, 4.2.3, 4.2.7, 4.2.8): the server names
// its authenticator class in AUTHENTICATE; the client answers with AUTH_RESPONSE tokens
// until AUTH_SUCCESS (or an ERROR). An auth_provider makes one authenticator per
// connection; plain_text_auth() is SASL PLAIN, what PasswordAuthenticator expects.

#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "cql/protocol/bytes.hpp"

namespace cql {

class authenticator {
  public:
    virtual ~authenticator() = default;
    // The token of the first AUTH_RESPONSE.
    virtual std::error_code initial_response(protocol::byte_buffer& token) = 0;
    // The answer to an AUTH_CHALLENGE token.
    virtual std::error_code evaluate_challenge(protocol::bytes_view challenge,
                                               protocol::byte_buffer& response) = 0;
    // The final token of AUTH_SUCCESS (may be empty).
    virtual std::error_code on_success(protocol::bytes_view /*token*/) { return {}; }
};

class auth_provider {
  public:
    virtual ~auth_provider() = default;
    // `host` is the configured host of the connection; `authenticator_class` is what the
    // server sent in AUTHENTICATE (e.g. org.apache.cassandra.auth.PasswordAuthenticator).
    virtual std::unique_ptr<authenticator> new_authenticator(
        std::string_view host, std::string_view authenticator_class) = 0;
};

// SASL PLAIN: the token is "\0" user "\0" password.
std::shared_ptr<auth_provider> plain_text_auth(std::string username, std::string password);

}  // namespace cql
