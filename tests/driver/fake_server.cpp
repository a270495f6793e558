#include "fake_server.hpp"

#include <sys/socket.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "cql/protocol/compression.hpp"
#include "cql/protocol/requests.hpp"
#include "cql/protocol/responses.hpp"
#include "cql/protocol/segment.hpp"

namespace cql::test {

namespace p = protocol;

// ---- session ---------------------------------------------------------------------

fake_session::fake_session(asio::ip::tcp::socket socket, fake_server& server)
    : socket_(std::move(socket)), server_(server) {}

void fake_session::write(const p::byte_buffer& bytes) {
    boost::system::error_code ec;
    if (tls_)
        asio::write(*tls_, asio::buffer(bytes), ec);
    else
        asio::write(socket_, asio::buffer(bytes), ec);
}

void fake_session::send_frame(const p::byte_buffer& frame) {
    std::lock_guard lock(server_.mutex_);
    if (closed_) return;
    if (framed_) {
        p::byte_buffer out;
        auto c = lz4_ ? p::compression_algorithm::lz4 : p::compression_algorithm::none;
        if (p::encode_segments(frame, c, out)) return;
        if (corrupt_next_) {
            corrupt_next_ = false;
            out[p::segment_header_size(c)] ^= 0x5A;
        }
        write(out);
        return;
    }
    if (ready_ && lz4_ && frame.size() > p::frame_header_size) {
        p::byte_buffer out(frame.begin(), frame.begin() + p::frame_header_size);
        out[1] |= p::frame_flags::compression;
        if (!p::compress_frame_body_lz4(p::bytes_view(frame).subspan(p::frame_header_size), out)) {
            p::patch_frame_body_length(out, 0);
            write(out);
            return;
        }
    }
    write(frame);
}

void fake_session::reply_text(std::int16_t stream, std::string text) {
    p::byte_buffer f;
    p::encode_response_frame(f, version_, stream, p::set_keyspace_result{text});
    send_frame(f);
}

void fake_session::reply_void(std::int16_t stream) {
    p::byte_buffer f;
    p::encode_response_frame(f, version_, stream, p::void_result{});
    send_frame(f);
}

void fake_session::reply_error(std::int16_t stream, std::int32_t code, std::string message) {
    p::byte_buffer f;
    p::error_response e;
    e.code = static_cast<p::error_code>(code);
    e.message = message;
    p::encode_response_frame(f, version_, stream, e);
    send_frame(f);
}

void fake_session::send_status_event(bool up) {
    p::status_change_event ev;
    ev.change = up ? p::status_change_type::up : p::status_change_type::down;
    ev.address.size = 4;
    ev.address.bytes = {127, 0, 0, 9};
    ev.address.port = 9042;
    p::byte_buffer f;
    p::encode_response_frame(f, version_, -1, ev);
    send_frame(f);
}

void fake_session::send_raw(p::byte_buffer bytes) {
    std::lock_guard lock(server_.mutex_);
    if (!closed_) write(bytes);
}

void fake_session::corrupt_next_segment() {
    std::lock_guard lock(server_.mutex_);
    corrupt_next_ = true;
}

void fake_session::close() {
    std::lock_guard lock(server_.mutex_);
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ec;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
}

// Like Cassandra, v5 segment framing starts once READY or AUTHENTICATE has been sent.
void fake_session::start_framing_if_v5() {
    std::lock_guard lock(server_.mutex_);
    if (version_ >= p::protocol_version::v5) framed_ = true;
}

// Returns false to end the session.
bool fake_session::handle(const p::frame_view& f) {
    const auto& opts = server_.options();
    const auto v = f.header.version;
    if (!ready_) {
        if (!opts.versions.count(v)) {
            // Like Cassandra: answer with the highest version we speak, then close.
            version_ = *opts.versions.rbegin();
            reply_error(f.header.stream, 0x000A,
                        "Invalid or unsupported protocol version (" +
                            std::to_string(static_cast<int>(v)) + ")");
            return false;
        }
        version_ = v;
        switch (f.header.op) {
            case p::opcode::options: {
                p::supported_response s;
                std::vector<std::string_view> comp;
                if (opts.offer_lz4) comp.push_back("lz4");
                s.options = {{"CQL_VERSION", {"3.0.0"}}, {"COMPRESSION", comp}};
                p::byte_buffer out;
                p::encode_response_frame(out, v, f.header.stream, s);
                send_frame(out);
                return true;
            }
            case p::opcode::startup: {
                p::decoded_request req;
                if (p::decode_request(f, req)) return false;
                auto& st = std::get<p::startup_request>(req.message);
                lz4_ = st.option("COMPRESSION") == std::optional<std::string_view>("lz4");
                p::byte_buffer out;
                if (opts.credentials) {
                    p::encode_response_frame(
                        out, v, f.header.stream,
                        p::authenticate_response{
                            "org.apache.cassandra.auth.PasswordAuthenticator"});
                    send_frame(out);
                    start_framing_if_v5();
                    return true;
                }
                p::encode_response_frame(out, v, f.header.stream, p::ready_response{});
                send_frame(out);
                {
                    std::lock_guard lock(server_.mutex_);
                    ready_ = true;
                }
                start_framing_if_v5();
                return true;
            }
            case p::opcode::auth_response: {
                p::decoded_request req;
                if (p::decode_request(f, req)) return false;
                auto token = std::get<p::auth_response_request>(req.message).token;
                std::string expected = std::string(1, '\0') + opts.credentials->first +
                                       std::string(1, '\0') + opts.credentials->second;
                if (!token || p::as_string_view(*token) != expected) {
                    reply_error(f.header.stream, 0x0100,
                                "Provided username " + opts.credentials->first +
                                    " and/or password are incorrect");
                    return true;
                }
                p::byte_buffer out;
                p::encode_response_frame(out, v, f.header.stream, p::auth_success_response{});
                send_frame(out);
                std::lock_guard lock(server_.mutex_);
                ready_ = true;
                return true;
            }
            default:
                reply_error(f.header.stream, 0x000A, "expected STARTUP");
                return true;
        }
    }
    request_info info;
    info.stream = f.header.stream;
    info.op = f.header.op;
    p::byte_buffer inflated;
    p::frame_view plain = f;
    if (f.header.has(p::frame_flags::compression)) {
        if (p::decompress_frame_body_lz4(f.body, inflated)) return false;
        plain.body = inflated;
        plain.header.flags = static_cast<std::uint8_t>(plain.header.flags & ~0x01);
    }
    if (f.header.op == p::opcode::query) {
        p::decoded_request req;
        if (p::decode_request(plain, req)) return false;
        info.query = std::string(std::get<p::query_request>(req.message).query);
    }
    server_.dispatch_request(shared_from_this(), info);
    return true;
}

void fake_session::run() {
    p::byte_buffer in;
    std::optional<p::segment_stream> segments;
    std::uint8_t chunk[16384];
    if (server_.tls_ctx_) {
        tls_.emplace(socket_, *server_.tls_ctx_);
        boost::system::error_code ec;
        tls_->handshake(asio::ssl::stream_base::server, ec);
        if (ec) return close();
    }
    for (;;) {
        // Consume everything complete.
        for (;;) {
            bool framed;
            {
                std::lock_guard lock(server_.mutex_);
                framed = framed_;
            }
            if (framed) {
                if (!segments)
                    segments.emplace(lz4_ ? p::compression_algorithm::lz4
                                          : p::compression_algorithm::none);
                std::size_t used = 0;
                bool keep = true;
                auto ec = segments->decode(in, used, [&](const p::frame_view& f) {
                    if (keep) keep = handle(f);
                });
                in.erase(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(used));
                if (ec || !keep) return close();
                break;
            }
            auto s = p::split_frame(in);
            if (s.error) return close();
            if (s.consumed == 0) break;
            bool keep = handle(s.frame);
            in.erase(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(s.consumed));
            if (!keep) return close();
        }
        boost::system::error_code ec;
        auto n = tls_ ? tls_->read_some(asio::buffer(chunk), ec)
                      : socket_.read_some(asio::buffer(chunk), ec);
        if (ec) return close();
        in.insert(in.end(), chunk, chunk + n);
    }
}

// ---- server ----------------------------------------------------------------------

fake_server::fake_server(fake_server_options opts)
    : opts_(std::move(opts)),
      acceptor_(io_, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    port_ = acceptor_.local_endpoint().port();
    if (!opts_.tls_cert_pem.empty() && !opts_.tls_key_pem.empty()) {
        tls_ctx_ = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
        tls_ctx_->use_certificate_chain(asio::buffer(opts_.tls_cert_pem));
        tls_ctx_->use_private_key(asio::buffer(opts_.tls_key_pem), asio::ssl::context::pem);
    }
    handler_ = [](const std::shared_ptr<fake_session>& s, const request_info& r) {
        if (r.op == p::opcode::options) {
            p::supported_response sup;
            sup.options = {{"CQL_VERSION", {"3.0.0"}}};
            p::byte_buffer out;
            p::encode_response_frame(out, s->version(), r.stream, sup);
            s->send_frame(out);
        } else if (r.op == p::opcode::query) {
            s->reply_text(r.stream, r.query);
        } else {
            s->reply_void(r.stream);
        }
    };
    thread_ = std::thread([this] { accept(); });
}

fake_server::~fake_server() {
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    thread_.join();
    std::vector<std::shared_ptr<fake_session>> all;
    {
        std::lock_guard lock(mutex_);
        all = sessions_;
    }
    for (auto& s : all)
        s->close();
}

void fake_server::on_request(handler h) {
    std::lock_guard lock(mutex_);
    handler_ = std::move(h);
}

std::vector<std::shared_ptr<fake_session>> fake_server::sessions() {
    std::lock_guard lock(mutex_);
    std::vector<std::shared_ptr<fake_session>> out;
    for (auto& s : sessions_)
        if (s->ready_) out.push_back(s);
    return out;
}

std::vector<request_info> fake_server::requests() {
    std::lock_guard lock(mutex_);
    return requests_;
}

void fake_server::dispatch_request(const std::shared_ptr<fake_session>& s, const request_info& r) {
    handler h;
    {
        std::lock_guard lock(mutex_);
        requests_.push_back(r);
        h = handler_;
    }
    h(s, r);
}

void fake_server::accept() {
    std::vector<std::thread> threads;
    for (;;) {
        boost::system::error_code ec;
        asio::ip::tcp::socket sock(io_);
        acceptor_.accept(sock, ec);
        if (ec) break;
        ++accepted_;
        auto s = std::make_shared<fake_session>(std::move(sock), *this);
        {
            std::lock_guard lock(mutex_);
            sessions_.push_back(s);
        }
        threads.emplace_back([s] { s->run(); });
    }
    {
        std::lock_guard lock(mutex_);
        for (auto& s : sessions_) {
            if (!s->closed_) {
                s->closed_ = true;
                boost::system::error_code ec;
                s->socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
            }
        }
    }
    for (auto& t : threads)
        t.join();
}

}  // namespace cql::test
