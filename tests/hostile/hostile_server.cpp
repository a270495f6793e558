#include "hostile_server.hpp"

#include <future>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "cql/protocol/compression.hpp"
#include "cql/protocol/requests.hpp"
#include "cqlsim/result_frame.hpp"

namespace cql::hostile {

namespace {

constexpr std::size_t read_chunk = 64 * 1024;

clock::rep now_rep() {
    return clock::now().time_since_epoch().count();
}

p::compression_algorithm algorithm(bool lz4) {
    return lz4 ? p::compression_algorithm::lz4 : p::compression_algorithm::none;
}

void fill_options(const p::query_parameters& in, cqlsim::query_options& out) {
    out.values.assign(in.values.begin(), in.values.end());
    out.names.clear();
    for (auto n : in.names)
        out.names.emplace_back(n);
    out.page_size = in.page_size.value_or(-1);
    out.paging_state.reset();
    if (in.paging_state) out.paging_state.emplace(in.paging_state->begin(), in.paging_state->end());
    out.consistency = in.consistency_level;
    out.serial_consistency = in.serial_consistency.value_or(p::consistency::serial);
    out.timestamp = in.default_timestamp;
    out.keyspace = in.keyspace ? std::string(*in.keyspace) : std::string();
    out.now_in_seconds = in.now_in_seconds;
}

std::string plain_token(const std::pair<std::string, std::string>& c) {
    return std::string(1, '\0') + c.first + std::string(1, '\0') + c.second;
}

}  // namespace

// ---- connection --------------------------------------------------------------------

connection::connection(server& s, asio::ip::tcp::socket socket, std::size_t index)
    : server_(s), socket_(std::move(socket)), index_(index), last_write_(now_rep()) {
    session_.node = 0;
}

clock::time_point connection::last_write() const {
    return clock::time_point(clock::duration(last_write_.load()));
}

clock::time_point connection::client_closed_at() const {
    return clock::time_point(clock::duration(client_closed_at_.load()));
}

template <class F>
void connection::on_thread(F&& f) {
    asio::dispatch(server_.io_, [self = shared_from_this(), f = std::forward<F>(f)]() mutable {
        if (!self->closed_) f();
    });
}

void connection::start() {
    boost::system::error_code ignored;
    socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
    if (server_.tls_ctx_) {
        tls_ =
            std::make_unique<asio::ssl::stream<asio::ip::tcp::socket&>>(socket_, *server_.tls_ctx_);
        tls_->async_handshake(asio::ssl::stream_base::server,
                              [self = shared_from_this()](boost::system::error_code ec) {
                                  if (ec) return self->shut(false);
                                  self->read();
                              });
        return;
    }
    read();
}

void connection::read() {
    if (closed_) return;
    auto at = in_.size();
    in_.resize(at + read_chunk);
    auto on_read = [self = shared_from_this(), at](boost::system::error_code ec, std::size_t n) {
        self->in_.resize(at + n);
        if (self->closed_) return;
        if (ec) {
            self->client_closed_at_ = now_rep();
            self->client_closed_ = true;
            return self->shut(false);
        }
        self->process();
        self->read();
    };
    auto buf = asio::buffer(in_.data() + at, read_chunk);
    if (tls_)
        tls_->async_read_some(buf, std::move(on_read));
    else
        socket_.async_read_some(buf, std::move(on_read));
}

void connection::process() {
    std::size_t used = 0;
    while (!closed_ && used < in_.size()) {
        auto data = p::bytes_view(in_).subspan(used);
        if (framed_) {
            std::size_t n = 0;
            bool keep = true;
            auto ec = segments_->decode(data, n, [&](const p::frame_view& f) {
                if (keep) keep = handle(f);
            });
            used += n;
            if (ec || !keep) shut(false);
            break;
        }
        auto s = p::split_frame(data);
        if (s.error) {
            shut(false);
            break;
        }
        if (s.consumed == 0) break;
        used += s.consumed;
        if (!handle(s.frame)) {
            shut(false);
            break;
        }
    }
    in_.erase(in_.begin(), in_.begin() + static_cast<std::ptrdiff_t>(used));
}

bool connection::handle(const p::frame_view& f) {
    request r;
    r.connection = index_;
    r.stream = f.header.stream;
    r.op = f.header.op;
    r.version = f.header.version;
    r.handshake = !ready_;
    p::byte_buffer body;
    if (f.header.has(p::frame_flags::compression)) {
        if (p::decompress_frame_body_lz4(f.body, body)) return false;
    } else {
        body.assign(f.body.begin(), f.body.end());
    }
    p::frame_header h = f.header;
    h.flags = static_cast<std::uint8_t>(h.flags & ~p::frame_flags::compression);
    h.body_length = static_cast<std::uint32_t>(body.size());
    {
        p::byte_writer w(r.frame);
        p::encode_frame_header(w, h);
    }
    r.frame.insert(r.frame.end(), body.begin(), body.end());
    p::frame_view plain{h, p::bytes_view(r.frame).subspan(p::frame_header_size)};
    p::decoded_request decoded;
    if (p::decode_request(plain, decoded)) return false;
    if (auto* q = std::get_if<p::query_request>(&decoded.message))
        r.query = std::string(q->query);
    else if (auto* pr = std::get_if<p::prepare_request>(&decoded.message))
        r.query = std::string(pr->query);
    else if (auto* e = std::get_if<p::execute_request>(&decoded.message)) {
        auto it = server_.prepared_.find(
            std::string_view(reinterpret_cast<const char*>(e->id.data()), e->id.size()));
        if (it != server_.prepared_.end()) r.query = it->second;
    }
    ++received_;

    if (!version_known_) {
        version_known_ = true;
        if (!server_.opts_.versions.count(r.version)) {
            // As Cassandra: answer in a version we speak, then close.
            version_ = *server_.opts_.versions.rbegin();
            reply_error(r.stream, p::error_code::protocol_error,
                        "Invalid or unsupported protocol version (" +
                            std::to_string(static_cast<int>(r.version)) + ")");
            close();
            return true;
        }
        version_ = r.version;
    }
    if (server_.dispatch(*this, r)) return true;
    if (r.handshake)
        handshake(r, plain);
    else
        send_frame(healthy_answer(r));
    return true;
}

void connection::handshake(const request& r, const p::frame_view& f) {
    const auto v = version();
    const auto& opts = server_.opts_;
    switch (r.op) {
        case p::opcode::options:
            return send_frame(healthy_answer(r));
        case p::opcode::startup: {
            p::decoded_request req;
            (void)p::decode_request(f, req);
            auto& st = std::get<p::startup_request>(req.message);
            lz4_ = opts.offer_lz4 &&
                   st.option("COMPRESSION") == std::optional<std::string_view>("lz4");
            p::byte_buffer out;
            if (opts.credentials)
                p::encode_response_frame(
                    out, v, r.stream,
                    p::authenticate_response{"org.apache.cassandra.auth.PasswordAuthenticator"});
            else
                p::encode_response_frame(out, v, r.stream, p::ready_response{});
            write(out);
            ready_ = !opts.credentials;
            // Like Cassandra 4: v5 segments start after READY or AUTHENTICATE.
            if (v >= p::protocol_version::v5) {
                framed_ = true;
                segments_.emplace(algorithm(lz4_));
            }
            return;
        }
        case p::opcode::auth_response: {
            p::decoded_request req;
            (void)p::decode_request(f, req);
            auto token = std::get<p::auth_response_request>(req.message).token;
            if (!opts.credentials || !token ||
                p::as_string_view(*token) != plain_token(*opts.credentials)) {
                std::string user = opts.credentials ? opts.credentials->first : std::string();
                return reply_error(r.stream, p::error_code::bad_credentials,
                                   "Provided username " + user + " and/or password are incorrect");
            }
            p::byte_buffer out;
            p::encode_response_frame(out, v, r.stream, p::auth_success_response{});
            send_frame(std::move(out));
            ready_ = true;
            return;
        }
        default:
            return reply_error(r.stream, p::error_code::protocol_error,
                               "Unexpected message " + std::string(p::to_string(r.op)) +
                                   ", expecting STARTUP or OPTIONS");
    }
}

p::byte_buffer connection::healthy_answer(const request& r) {
    const auto v = version();
    auto split = p::split_frame(r.frame);
    p::decoded_request req;
    p::byte_buffer out;
    if (split.error || p::decode_request(split.frame, req)) return out;
    cqlsim::query_options o;
    auto& engine = server_.engine_;
    switch (r.op) {
        case p::opcode::options: {
            p::supported_response s;
            std::vector<std::string_view> comp;
            if (server_.opts_.offer_lz4) comp.push_back("lz4");
            std::vector<std::string> names;
            for (auto sv : server_.opts_.versions)
                names.push_back(std::to_string(static_cast<int>(sv)) + "/v" +
                                std::to_string(static_cast<int>(sv)));
            std::vector<std::string_view> versions(names.begin(), names.end());
            s.options = {
                {"CQL_VERSION", {"3.4.5"}}, {"COMPRESSION", comp}, {"PROTOCOL_VERSIONS", versions}};
            p::encode_response_frame(out, v, r.stream, s);
            break;
        }
        case p::opcode::register_:
            p::encode_response_frame(out, v, r.stream, p::ready_response{});
            break;
        case p::opcode::query: {
            auto& m = std::get<p::query_request>(req.message);
            fill_options(m.params, o);
            cqlsim::encode_result_frame(out, v, r.stream, engine.query(session_, m.query, o),
                                        m.params.skip_metadata);
            break;
        }
        case p::opcode::prepare: {
            auto& m = std::get<p::prepare_request>(req.message);
            auto res = engine.prepare(session_, m.query, m.keyspace.value_or(std::string_view{}));
            if (auto* pr = std::get_if<cqlsim::prepared_result>(&res))
                server_.prepared_[std::string(p::as_string_view(pr->id))] = std::string(m.query);
            cqlsim::encode_result_frame(out, v, r.stream, res);
            break;
        }
        case p::opcode::execute: {
            auto& m = std::get<p::execute_request>(req.message);
            fill_options(m.params, o);
            std::optional<p::bytes_view> client_id;
            if (v >= p::protocol_version::v5) client_id = m.result_metadata_id;
            cqlsim::encode_result_frame(out, v, r.stream, engine.execute(session_, m.id, o),
                                        m.params.skip_metadata, client_id);
            break;
        }
        default: {
            std::string why =
                "the hostile server does not answer " + std::string(p::to_string(r.op));
            p::encode_response_frame(out, v, r.stream,
                                     p::error_response{p::error_code::protocol_error, why, {}});
        }
    }
    return out;
}

void connection::answer(const request& r) {
    on_thread([this, r] {
        if (r.handshake) {
            auto s = p::split_frame(r.frame);
            if (!s.error) handshake(r, s.frame);
        } else {
            send_frame(healthy_answer(r));
        }
    });
}

p::byte_buffer connection::rows_answer(std::int16_t stream,
                                       const std::vector<std::string>& values) {
    p::result_metadata md;
    md.global_tables_spec = true;
    md.global_spec = {"hostile", "t"};
    md.columns = {{"hostile", "t", "v", p::data_type{p::type_id::varchar}}};
    md.column_count = 1;
    p::byte_buffer out;
    auto at = p::begin_response_frame(out, version(), stream, p::opcode::result);
    p::rows_result_writer rw(out, version(), md);
    for (const auto& s : values)
        rw.add_cell(p::bytes_view(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
    (void)rw.finish();
    p::end_response_frame(out, at);
    return out;
}

void connection::reply_rows(std::int16_t stream, std::vector<std::string> values) {
    on_thread(
        [this, stream, values = std::move(values)] { send_frame(rows_answer(stream, values)); });
}

void connection::reply_error(std::int16_t stream, p::error_code code, std::string message) {
    on_thread([this, stream, code, message = std::move(message)] {
        p::byte_buffer out;
        p::encode_response_frame(out, version(), stream, p::error_response{code, message, {}});
        send_frame(std::move(out));
    });
}

p::byte_buffer connection::framed(const p::byte_buffer& frame) const {
    p::byte_buffer out;
    if (framed_) {
        if (p::encode_segments(frame, algorithm(lz4_), out)) out.clear();
        return out;
    }
    if (ready_ && lz4_ && frame.size() > p::frame_header_size) {
        out.assign(frame.begin(), frame.begin() + p::frame_header_size);
        out[1] |= p::frame_flags::compression;
        if (!p::compress_frame_body_lz4(p::bytes_view(frame).subspan(p::frame_header_size), out)) {
            p::patch_frame_body_length(out, 0);
            return out;
        }
    }
    return frame;
}

void connection::send_frame(p::byte_buffer frame) {
    on_thread([this, frame = std::move(frame)] { write(framed(frame)); });
}

void connection::send_segment(p::byte_buffer payload, bool self_contained) {
    on_thread([this, payload = std::move(payload), self_contained] {
        p::byte_buffer out;
        if (!p::encode_segment(payload, self_contained, algorithm(lz4_), out)) write(out);
    });
}

void connection::send_raw(p::byte_buffer bytes) {
    on_thread([this, bytes = std::move(bytes)] { write(bytes); });
}

void connection::close() {
    on_thread([this] {
        closing_ = true;
        flush();
    });
}

void connection::reset() {
    on_thread([this] { shut(true); });
}

void connection::write(p::bytes_view bytes) {
    if (closed_ || closing_) return;
    out_.insert(out_.end(), bytes.begin(), bytes.end());
    flush();
}

void connection::flush() {
    if (closed_ || writing_now_) return;
    if (out_.empty()) {
        if (closing_) shut(false);
        return;
    }
    std::swap(out_, writing_);
    out_.clear();
    writing_now_ = true;
    auto done = [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
        self->writing_now_ = false;
        self->writing_.clear();
        if (ec) return self->shut(false);
        self->last_write_ = now_rep();
        self->flush();
    };
    if (tls_)
        asio::async_write(*tls_, asio::buffer(writing_), std::move(done));
    else
        asio::async_write(socket_, asio::buffer(writing_), std::move(done));
}

void connection::shut(bool rst) {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ignored;
    if (rst)
        socket_.set_option(asio::socket_base::linger(true, 0), ignored);
    else
        socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
}

// ---- server ------------------------------------------------------------------------

server::server(server_options opts)
    : opts_(std::move(opts)),
      acceptor_(io_, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
      port_(acceptor_.local_endpoint().port()) {
    if (!opts_.tls_cert_pem.empty() && !opts_.tls_key_pem.empty()) {
        tls_ctx_ = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
        tls_ctx_->use_certificate_chain(asio::buffer(opts_.tls_cert_pem));
        tls_ctx_->use_private_key(asio::buffer(opts_.tls_key_pem), asio::ssl::context::pem);
    }
    cqlsim::topology topo;
    cqlsim::node_info node;
    node.address = "127.0.0.1";
    node.port = port_;
    node.datacenter = opts_.datacenter;
    node.tokens = {"0"};
    node.host_id[0] = 0x42;
    topo.nodes.push_back(node);
    engine_.set_topology(topo);
    accept();
    thread_ = std::thread([this] { io_.run(); });
}

server::~server() {
    std::promise<void> stopped;
    asio::post(io_, [this, &stopped] {
        boost::system::error_code ignored;
        acceptor_.close(ignored);
        for (auto& c : connections())
            c->shut(false);
        stopped.set_value();
    });
    stopped.get_future().wait();
    io_.stop();
    thread_.join();
}

std::string server::contact_point() const {
    return "127.0.0.1:" + std::to_string(port_);
}

void server::on_request(request_hook h) {
    std::lock_guard lock(mutex_);
    hook_ = std::move(h);
}

void server::after(std::chrono::milliseconds delay, std::function<void()> f) {
    auto t = std::make_shared<asio::steady_timer>(io_, delay);
    t->async_wait([t, f = std::move(f)](boost::system::error_code ec) {
        if (!ec) f();
    });
}

std::vector<std::shared_ptr<connection>> server::connections() {
    std::lock_guard lock(mutex_);
    return connections_;
}

std::size_t server::received(std::string_view query) {
    std::lock_guard lock(mutex_);
    auto it = received_.find(query);
    return it == received_.end() ? 0 : it->second;
}

void server::accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, asio::ip::tcp::socket s) {
        if (ec) return;
        auto c = std::make_shared<connection>(*this, std::move(s), accepted_.load());
        {
            std::lock_guard lock(mutex_);
            connections_.push_back(c);
        }
        ++accepted_;
        c->start();
        accept();
    });
}

bool server::dispatch(connection& c, const request& r) {
    request_hook h;
    {
        std::lock_guard lock(mutex_);
        if (r.op == p::opcode::query || r.op == p::opcode::execute) ++received_[r.query];
        h = hook_;
    }
    return h && h(c, r);
}

std::uint16_t unused_port() {
    asio::io_context io;
    asio::ip::tcp::acceptor a(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    return a.local_endpoint().port();
}

}  // namespace cql::hostile
