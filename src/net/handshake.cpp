#include "detail/handshake.hpp"

#include <variant>

#include "cql/protocol/requests.hpp"
#include "cql/protocol/responses.hpp"
#include "cql/response.hpp"

namespace cql::detail {

namespace p = protocol;

namespace {
// The handshake's messages travel on stream 0; any other stream is not an answer.
constexpr std::int16_t handshake_stream = 0;
// A SASL exchange longer than this is a misbehaving server.
constexpr int max_auth_rounds = 64;

// An owned copy of a handshake frame, with its prefix and ERROR details decoded.
std::error_code to_response(const p::frame_view& f, response& out) {
    return out.assign(f.header, p::byte_buffer(f.body.begin(), f.body.end()));
}
}  // namespace

client_handshake::client_handshake(settings s) : s_(std::move(s)) {}

client_handshake::step client_handshake::fail(std::error_code ec, std::string message) {
    phase_ = phase::finished;
    error_ = ec;
    if (diag_.message.empty()) diag_.message = std::move(message);
    return step::failed;
}

client_handshake::step client_handshake::start(p::byte_buffer& out) {
    if (auto ec = p::encode_request_frame(out, s_.version, handshake_stream, p::options_request{}))
        return fail(ec, "cannot encode OPTIONS: " + ec.message());
    return step::write;
}

bool client_handshake::is_version_refusal(const p::frame_view& f) const {
    // Servers answer a version they do not speak with a PROTOCOL_ERROR, in a frame of the
    // highest version they speak or with a message naming the version.
    if (f.header.op != p::opcode::error) return false;
    if (f.header.version < s_.version) return true;
    response r;
    if (to_response(f, r) != server_errc::protocol_error) return false;
    const auto& m = r.diag().message;
    return m.find("version") != std::string::npos || m.find("Version") != std::string::npos;
}

client_handshake::step client_handshake::server_error(std::error_code ec, const p::frame_view& f) {
    response r;
    to_response(f, r);
    diag_ = r.diag();
    if (ec == server_errc::bad_credentials)
        return fail(errc::authentication_failed, "the server refused the credentials");
    return fail(ec, ec.message());
}

client_handshake::step client_handshake::on_frame(const p::frame_view& f, p::byte_buffer& out) {
    if (phase_ == phase::finished) return fail(errc::unexpected_response, "frame after handshake");
    if (f.header.stream != handshake_stream) return step::wait;  // an early event
    if (!f.header.is_response) return fail(p::codec_errc::unexpected_direction, "a request frame");
    if (is_version_refusal(f)) {
        if (!s_.last_version) return step::retry_lower;
        response r;
        to_response(f, r);
        diag_ = r.diag();
        return fail(
            errc::protocol_negotiation_failed,
            "the server does not speak protocol v" + std::to_string(static_cast<int>(s_.version)));
    }
    switch (phase_) {
        case phase::options:
            return on_supported(f, out);
        case phase::startup:
            return on_startup_answer(f, out);
        case phase::auth:
            return on_auth_answer(f, out);
        case phase::finished:
            break;
    }
    return step::failed;
}

client_handshake::step client_handshake::on_supported(const p::frame_view& f, p::byte_buffer& out) {
    if (f.header.op == p::opcode::error) {
        response r;
        return server_error(to_response(f, r), f);
    }
    if (f.header.op != p::opcode::supported)
        return fail(errc::unexpected_response,
                    "OPTIONS answered by " + std::string(p::to_string(f.header.op)));
    response r;
    p::response decoded;
    if (auto ec = to_response(f, r)) return fail(ec, "malformed SUPPORTED: " + ec.message());
    if (auto ec = r.decode(decoded)) return fail(ec, "malformed SUPPORTED: " + ec.message());
    bool lz4_offered = false;
    supported_.clear();
    for (const auto& [key, values] : std::get<p::supported_response>(decoded).options) {
        auto& entry = supported_.emplace_back(std::string(key), std::vector<std::string>{});
        for (auto v : values) {
            entry.second.emplace_back(v);
            if (key == "COMPRESSION" && v == "lz4") lz4_offered = true;
        }
    }
    lz4_ = s_.compression == cql::compression::lz4 && lz4_offered;
    std::vector<p::string_pair> options{{"CQL_VERSION", "3.0.0"}};
    if (lz4_) options.emplace_back("COMPRESSION", "lz4");
    if (auto ec =
            p::encode_request_frame(out, s_.version, handshake_stream, p::startup_request{options}))
        return fail(ec, "cannot encode STARTUP: " + ec.message());
    phase_ = phase::startup;
    return step::write;
}

client_handshake::step client_handshake::on_startup_answer(const p::frame_view& f,
                                                           p::byte_buffer& out) {
    response r;
    auto ec = to_response(f, r);
    if (f.header.op == p::opcode::error) return server_error(ec, f);
    if (ec) return fail(ec, "malformed answer to STARTUP: " + ec.message());
    if (f.header.op == p::opcode::ready) {
        segments_ = s_.version >= p::protocol_version::v5;
        phase_ = phase::finished;
        return step::done;
    }
    if (f.header.op != p::opcode::authenticate)
        return fail(errc::unexpected_response,
                    "STARTUP answered by " + std::string(p::to_string(f.header.op)));
    // v5 framing starts right after READY *or* AUTHENTICATE (v5.spec 2.3.1): the SASL
    // exchange already travels in segments.
    segments_ = s_.version >= p::protocol_version::v5;
    p::response decoded;
    if (auto dec = r.decode(decoded)) return fail(dec, "malformed AUTHENTICATE: " + dec.message());
    const auto cls = std::string(std::get<p::authenticate_response>(decoded).authenticator);
    if (!s_.auth)
        return fail(errc::authentication_failed, "the server requires authentication (" + cls +
                                                     ") but no auth provider is configured");
    auth_ = s_.auth->new_authenticator(s_.host, cls);
    if (!auth_) return fail(errc::authentication_failed, "no authenticator for " + cls);
    token_.clear();
    if (auto aec = auth_->initial_response(token_))
        return fail(aec, "the authenticator failed: " + aec.message());
    phase_ = phase::auth;
    return send_token(out);
}

client_handshake::step client_handshake::send_token(p::byte_buffer& out) {
    if (++rounds_ > max_auth_rounds)
        return fail(errc::authentication_failed, "too many authentication challenges");
    if (auto ec = p::encode_request_frame(out, s_.version, handshake_stream,
                                          p::auth_response_request{p::bytes_view(token_)}))
        return fail(ec, "cannot encode AUTH_RESPONSE: " + ec.message());
    return step::write;
}

client_handshake::step client_handshake::on_auth_answer(const p::frame_view& f,
                                                        p::byte_buffer& out) {
    response r;
    auto ec = to_response(f, r);
    if (f.header.op == p::opcode::error) return server_error(ec, f);
    p::response decoded;
    if (!ec) ec = r.decode(decoded);
    if (ec) return fail(ec, "malformed authentication answer: " + ec.message());
    if (auto* ok = std::get_if<p::auth_success_response>(&decoded)) {
        if (auto aec = auth_->on_success(ok->token.value_or(p::bytes_view{})))
            return fail(aec, "the authenticator refused the server: " + aec.message());
        phase_ = phase::finished;
        return step::done;
    }
    if (auto* ch = std::get_if<p::auth_challenge_response>(&decoded)) {
        token_.clear();
        if (auto aec = auth_->evaluate_challenge(ch->token.value_or(p::bytes_view{}), token_))
            return fail(aec, "the authenticator failed: " + aec.message());
        return send_token(out);
    }
    return fail(errc::unexpected_response,
                "AUTH_RESPONSE answered by " + std::string(p::to_string(f.header.op)));
}

}  // namespace cql::detail
