// One client connection of a cqlsim node: handshake, frames and v5 segments, LZ4,
// authentication, requests to the engine, faults, events, pipelined coalesced writes.
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <cstring>

#include "cqlsim/result_frame.hpp"
#include "server_impl.hpp"

namespace cqlsim {

namespace {

constexpr std::size_t read_chunk = 64 * 1024;

std::string_view authenticator_class = "org.apache.cassandra.auth.PasswordAuthenticator";

std::string default_message(error_code code) {
    switch (code) {
        case error_code::unavailable:
            return "Cannot achieve consistency level";
        case error_code::read_timeout:
            return "Operation timed out - received only 0 responses.";
        case error_code::write_timeout:
            return "Operation timed out - received only 0 responses.";
        case error_code::overloaded:
            return "Server is in overloaded state. Cannot accept more requests at this point";
        case error_code::is_bootstrapping:
            return "Cannot read from a bootstrapping node";
        case error_code::truncate_error:
            return "Error during truncate";
        case error_code::unprepared:
            return "Prepared query with ID was not found";
        case error_code::server_error:
            return "Server error (primed by cqlsim)";
        default:
            return "Error primed by cqlsim";
    }
}

// Cassandra's RequestFailureReason names.
std::string_view failure_reason_name(std::uint16_t code) {
    switch (code) {
        case 1:
            return "READ_TOO_MANY_TOMBSTONES";
        case 2:
            return "TIMEOUT";
        case 3:
            return "INCOMPATIBLE_SCHEMA";
        default:
            return "UNKNOWN";
    }
}

// Cassandra's words for a read or write failure: each failing replica's reason and address.
std::string failure_message(const primed_error& e) {
    std::string msg = "Operation failed - received " + std::to_string(e.received) +
                      " responses and " + std::to_string(e.num_failures) + " failures";
    for (std::int32_t i = 0; i < e.num_failures; ++i)
        msg += std::string(i ? ", " : ": ") + std::string(failure_reason_name(e.failure_code)) +
               " from /127.0.0." + std::to_string(i + 1) + ":7000";
    return msg;
}

proto::inet_address local_inet() {
    proto::inet_address a;
    a.size = 4;
    a.bytes[0] = 127;
    a.bytes[3] = 1;
    return a;
}

}  // namespace

connection::connection(std::shared_ptr<cluster::impl> c, node_state& n, tcp::socket s,
                       std::uint64_t id)
    : cluster_(std::move(c)), node_(n), id_(id), sock_(std::move(s)) {
    session_.node = n.topology_index;
    if (cluster_->ssl)
        tls_ = std::make_unique<asio::ssl::stream<tcp::socket&>>(sock_, *cluster_->ssl);
    rbuf_.resize(read_chunk);
}

template <class F>
void connection::read_some(asio::mutable_buffer b, F&& f) {
    if (tls_)
        tls_->async_read_some(b, std::forward<F>(f));
    else
        sock_.async_read_some(b, std::forward<F>(f));
}

template <class F>
void connection::write_all(asio::const_buffer b, F&& f) {
    if (tls_)
        asio::async_write(*tls_, b, std::forward<F>(f));
    else
        asio::async_write(sock_, b, std::forward<F>(f));
}

void connection::start() {
    boost::system::error_code ignored;
    sock_.set_option(tcp::no_delay(true), ignored);
    if (tls_) {
        reading_ = true;
        tls_->async_handshake(asio::ssl::stream_base::server,
                              [self = shared_from_this()](const boost::system::error_code& ec) {
                                  self->reading_ = false;
                                  if (ec) return self->close(false);
                                  self->do_read();
                              });
        return;
    }
    do_read();
}

void connection::close(bool reset) {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ignored;
    if (reset) sock_.set_option(asio::socket_base::linger(true, 0), ignored);
    sock_.close(ignored);
    for (auto& t : timers_)
        t->cancel();
    timers_.clear();
    on_closed();
}

void connection::on_closed() {
    // Keep ourselves alive until the end of this call even if the node held the last ref.
    auto self = shared_from_this();
    node_.connections.erase(self);
}

void connection::resume() {
    if (closed_) return;
    process();
    do_read();
}

void connection::do_read() {
    if (closed_ || reading_ || closing_ || node_.paused) return;
    // Keep the unprocessed tail at the front and at least read_chunk bytes free.
    if (rbeg_ > 0) {
        std::memmove(rbuf_.data(), rbuf_.data() + rbeg_, rend_ - rbeg_);
        rend_ -= rbeg_;
        rbeg_ = 0;
    }
    if (rbuf_.size() - rend_ < read_chunk) rbuf_.resize(rend_ + read_chunk);
    reading_ = true;
    read_some(asio::buffer(rbuf_.data() + rend_, rbuf_.size() - rend_),
              [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
                  self->reading_ = false;
                  if (self->closed_) return;
                  if (ec) return self->close(false);
                  self->rend_ += n;
                  if (self->node_.paused) return;  // resume() picks the bytes up
                  self->process();
                  self->do_read();
              });
}

bool connection::reject_version(proto::bytes_view data) {
    std::uint8_t v = data[0] & 0x7F;
    bool short_header = v == 1 || v == 2;
    std::size_t hsize = short_header ? 8 : 9;
    if (data.size() < hsize) return false;
    std::int16_t stream = short_header ? static_cast<std::int8_t>(data[2])
                                       : static_cast<std::int16_t>((data[2] << 8) | data[3]);
    std::uint8_t reply_version = (v == 1 || v == 2 || v == 6) ? v : 4;
    std::string msg = "Invalid or unsupported protocol version (" + std::to_string(v) +
                      "); supported versions are (3/v3, 4/v4, 5/v5)";
    proto::byte_buffer body;
    proto::byte_writer w(body);
    w.i32(static_cast<std::int32_t>(proto::error_code::protocol_error));
    w.string(msg);
    proto::byte_buffer frame;
    frame.push_back(static_cast<std::uint8_t>(0x80 | reply_version));
    frame.push_back(0);
    if (short_header) {
        frame.push_back(static_cast<std::uint8_t>(stream));
    } else {
        frame.push_back(static_cast<std::uint8_t>(static_cast<std::uint16_t>(stream) >> 8));
        frame.push_back(static_cast<std::uint8_t>(stream));
    }
    frame.push_back(0);  // ERROR
    auto n = static_cast<std::uint32_t>(body.size());
    for (int s = 24; s >= 0; s -= 8)
        frame.push_back(static_cast<std::uint8_t>(n >> s));
    frame.insert(frame.end(), body.begin(), body.end());
    append_out(frame, true);
    return true;
}

void connection::process() {
    if (!closed_ && !closing_ && rbeg_ < rend_) receive();
    flush();
}

void connection::receive() {
    std::error_code ec;
    rbeg_ += decoder_.decode(
        proto::bytes_view(rbuf_.data() + rbeg_, rend_ - rbeg_),
        [this](const proto::stream_frame& f) { return handle_frame(f); }, ec);
    if (closed_ || closing_) return;
    // The decoder stops at a plain frame of an unsupported version, or waits for the 9 bytes
    // of a header where v1/v2 have 8: reject_version answers in the client's own layout.
    if (rbeg_ < rend_ && !decoder_.in_segments() &&
        !proto::is_supported_version(rbuf_[rbeg_] & 0x7F)) {
        if (reject_version(proto::bytes_view(rbuf_.data() + rbeg_, rend_ - rbeg_))) rbeg_ = rend_;
        return;
    }
    if (ec) {
        write_error(
            0, proto::error_code::protocol_error,
            (decoder_.in_segments() ? "Invalid segment: " : "Invalid frame: ") + ec.message());
        closing_ = true;
    }
}

std::error_code connection::handle_frame(const proto::stream_frame& f) {
    // Stops the decoder: nothing more is read once the connection is closing.
    if (closed_ || closing_) return std::make_error_code(std::errc::operation_canceled);
    const auto& h = f.frame.header;
    version_ = decoder_.version();  // unset only while frames come from the wrong side
    if (f.fault) {
        // Faults of one frame are answered on its stream and the connection goes on.
        std::string msg;
        if (f.fault == proto::codec_errc::unexpected_direction)
            msg = "Unexpected response frame from the client";
        else if (f.fault == proto::codec_errc::version_mismatch)
            msg = "Invalid message version. Got v" + std::to_string(static_cast<int>(h.version)) +
                  " but previous messages on this connection had version v" +
                  std::to_string(static_cast<int>(*version_));
        else if (f.fault == proto::codec_errc::unexpected_compression)
            msg = "Received a compressed frame but compression was not negotiated";
        else
            msg = "Cannot decompress the frame body: " + f.fault.message();
        write_error(h.stream, proto::error_code::protocol_error, msg);
        return {};
    }
    // v5 frames never compress their body (the segments do), so the flag is refused.
    if (h.version >= proto::protocol_version::v5 && h.has(proto::frame_flags::compression)) {
        write_error(h.stream, proto::error_code::protocol_error,
                    "Received a compressed frame but compression was not negotiated");
        return {};
    }
    if (auto ec = proto::decode_request(f.frame, req_)) {
        write_error(h.stream, proto::error_code::protocol_error,
                    "Invalid " + std::string(proto::to_string(h.op)) + " message: " + ec.message());
        return {};
    }
    handle_request(h, req_);
    return {};
}

void connection::handle_request(const proto::frame_header& h, proto::decoded_request& req) {
    auto op = proto::opcode_of(req.message);
    std::int16_t stream = h.stream;

    // Request log (data requests are logged in handle_data with their details).
    if (op != proto::opcode::query && op != proto::opcode::prepare &&
        op != proto::opcode::execute && op != proto::opcode::batch) {
        request_log_entry e;
        e.op = op;
        e.connection = id_;
        e.stream = stream;
        cluster_->log_request(node_, std::move(e));
    }

    if (op == proto::opcode::options) {
        proto::supported_response s;
        s.options = {{"CQL_VERSION", {"3.4.5"}},
                     {"COMPRESSION", {"lz4"}},
                     {"PROTOCOL_VERSIONS", {"3/v3", "4/v4", "5/v5"}}};
        scratch_.clear();
        proto::encode_response_frame(scratch_, *version_, stream, s);
        emit(false);
        return;
    }
    switch (state_) {
        case state::startup:
            if (op == proto::opcode::startup)
                return handle_startup(stream, std::get<proto::startup_request>(req.message));
            return write_error(stream, proto::error_code::protocol_error,
                               "Unexpected message " + std::string(proto::to_string(op)) +
                                   ", expecting STARTUP or OPTIONS");
        case state::authenticating:
            if (op == proto::opcode::auth_response)
                return handle_auth(stream, std::get<proto::auth_response_request>(req.message));
            return write_error(stream, proto::error_code::protocol_error,
                               "Unexpected message " + std::string(proto::to_string(op)) +
                                   ", expecting SASL response");
        case state::ready:
            break;
    }
    switch (op) {
        case proto::opcode::startup:
        case proto::opcode::auth_response:
            return write_error(stream, proto::error_code::protocol_error,
                               "Unexpected message " + std::string(proto::to_string(op)) +
                                   ", the connection is already established");
        case proto::opcode::register_: {
            for (auto t : std::get<proto::register_request>(req.message).event_types) {
                if (t == "TOPOLOGY_CHANGE")
                    events_ |= event_mask::topology;
                else if (t == "STATUS_CHANGE")
                    events_ |= event_mask::status;
                else if (t == "SCHEMA_CHANGE")
                    events_ |= event_mask::schema;
                else
                    return write_error(
                        stream, proto::error_code::protocol_error,
                        "Invalid value '" + std::string(t) + "' for Type: not a known event type");
            }
            scratch_.clear();
            proto::encode_response_frame(scratch_, *version_, stream, proto::ready_response{});
            return emit(false);
        }
        default:
            return handle_data(stream, req);
    }
}

void connection::handle_startup(std::int16_t stream, const proto::startup_request& m) {
    if (!m.option("CQL_VERSION"))
        return write_error(stream, proto::error_code::protocol_error,
                           "Missing value CQL_VERSION in STARTUP message");
    bool lz4 = false;
    if (auto c = m.option("COMPRESSION")) {
        std::string lower(*c);
        for (auto& ch : lower)
            ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        if (lower == "lz4")
            lz4 = true;
        else if (!lower.empty())
            return write_error(stream, proto::error_code::protocol_error,
                               "Unknown compression algorithm: " + std::string(*c));
    }
    scratch_.clear();
    // Like Cassandra, v3/v4 compress from the answer to STARTUP on (spec v4 section 5
    // allows it; Cassandra 4.0 sends an LZ4 READY or AUTHENTICATE).
    if (*version_ < proto::protocol_version::v5) {
        v4_lz4_ = lz4;
        if (lz4) decoder_.set_compression(proto::compression_choice::lz4);
    }
    bool auth = !cluster_->cfg.users.empty();
    if (auth)
        proto::encode_response_frame(scratch_, *version_, stream,
                                     proto::authenticate_response{authenticator_class});
    else
        proto::encode_response_frame(scratch_, *version_, stream, proto::ready_response{});
    emit(false);
    state_ = auth ? state::authenticating : state::ready;
    // From here on v5 wraps frames in segments, both ways (the READY itself is a plain
    // frame): the client's bytes after this STARTUP are segments, even those already read.
    if (*version_ >= proto::protocol_version::v5) {
        segmented_ = true;
        seg_compression_ =
            lz4 ? proto::compression_algorithm::lz4 : proto::compression_algorithm::none;
        decoder_.start_segments(seg_compression_);
    }
}

void connection::handle_auth(std::int16_t stream, const proto::auth_response_request& m) {
    // SASL PLAIN: [authzid] NUL authcid NUL password
    std::string_view token = m.token ? proto::as_string_view(*m.token) : std::string_view{};
    auto p1 = token.find('\0');
    auto p2 = p1 == std::string_view::npos ? p1 : token.find('\0', p1 + 1);
    if (p2 == std::string_view::npos)
        return write_error(stream, proto::error_code::protocol_error,
                           "Authentication failed: the SASL PLAIN token is malformed");
    auto user = token.substr(p1 + 1, p2 - p1 - 1);
    auto pass = token.substr(p2 + 1);
    for (const auto& u : cluster_->cfg.users) {
        if (u.username == user && u.password == pass) {
            state_ = state::ready;
            scratch_.clear();
            proto::encode_response_frame(scratch_, *version_, stream,
                                         proto::auth_success_response{});
            return emit(false);
        }
    }
    write_error(stream, proto::error_code::bad_credentials,
                "Provided username " + std::string(user) + " and/or password are incorrect");
}

void connection::fill_options(const proto::query_parameters& p) {
    opts_.values.assign(p.values.begin(), p.values.end());
    opts_.names.clear();
    for (auto n : p.names)
        opts_.names.emplace_back(n);
    opts_.page_size = p.page_size.value_or(-1);
    if (p.paging_state)
        opts_.paging_state.emplace(p.paging_state->begin(), p.paging_state->end());
    else
        opts_.paging_state.reset();
    opts_.consistency = p.consistency_level;
    opts_.serial_consistency = p.serial_consistency.value_or(proto::consistency::serial);
    opts_.timestamp = p.default_timestamp;
    if (p.keyspace)
        opts_.keyspace.assign(*p.keyspace);
    else
        opts_.keyspace.clear();
    opts_.now_in_seconds = p.now_in_seconds;
}

bool connection::apply_prime(std::int16_t stream, const std::string& text, proto::bytes_view id,
                             proto::consistency cl) {
    auto& primes = node_.primes;
    for (auto it = primes.begin(); it != primes.end(); ++it) {
        if (!std::regex_search(text, it->re)) continue;
        primed_error e = it->rule.error;
        if (it->rule.times > 0 && --it->rule.times == 0) primes.erase(it);
        auto c = e.consistency.value_or(cl);
        std::string msg =
            !e.message.empty() ? e.message
            : e.code == error_code::read_failure || e.code == error_code::write_failure
                ? failure_message(e)
                : default_message(e.code);
        proto::error_details d;
        std::vector<proto::failure_reason> reasons;
        if ((e.code == error_code::read_failure || e.code == error_code::write_failure) &&
            *version_ >= proto::protocol_version::v5) {
            for (std::int32_t i = 0; i < e.num_failures; ++i) {
                auto a = local_inet();
                a.bytes[3] = static_cast<std::uint8_t>(i + 1);
                reasons.push_back({a, e.failure_code});
            }
        }
        switch (e.code) {
            case error_code::unavailable:
                d = proto::unavailable_info{c, e.required, e.alive};
                break;
            case error_code::read_timeout:
                d = proto::read_timeout_info{c, e.received, e.block_for, e.data_present};
                break;
            case error_code::write_timeout: {
                proto::write_timeout_info w{c, e.received, e.block_for, e.write_type, {}};
                if (e.write_type == "CAS" && *version_ >= proto::protocol_version::v5)
                    w.contentions = 0;
                d = w;
                break;
            }
            case error_code::read_failure:
                d = proto::read_failure_info{c,       e.received,    e.block_for, e.num_failures,
                                             reasons, e.data_present};
                break;
            case error_code::write_failure:
                d = proto::write_failure_info{c,       e.received,  e.block_for, e.num_failures,
                                              reasons, e.write_type};
                break;
            case error_code::unprepared: {
                static const std::uint8_t zero[16] = {};
                d = proto::unprepared_info{id.empty() ? proto::bytes_view(zero, 16) : id};
                break;
            }
            default:
                break;
        }
        write_error(stream, static_cast<proto::error_code>(e.code), msg, d, true);
        return true;
    }
    return false;
}

void connection::handle_data(std::int16_t stream, proto::decoded_request& req) {
    auto op = proto::opcode_of(req.message);
    // Log and find the text primes match against.
    request_log_entry e;
    e.op = op;
    e.connection = id_;
    e.stream = stream;
    proto::bytes_view id;
    std::vector<std::string> batch_texts;
    switch (op) {
        case proto::opcode::query: {
            auto& m = std::get<proto::query_request>(req.message);
            e.query.assign(m.query);
            e.consistency = m.params.consistency_level;
            e.values = m.params.values.size();
            break;
        }
        case proto::opcode::prepare:
            e.query.assign(std::get<proto::prepare_request>(req.message).query);
            break;
        case proto::opcode::execute: {
            auto& m = std::get<proto::execute_request>(req.message);
            id = m.id;
            e.prepared_id.assign(m.id.begin(), m.id.end());
            if (auto* t = cluster_->prepared_text(m.id)) e.query = *t;
            e.consistency = m.params.consistency_level;
            e.values = m.params.values.size();
            break;
        }
        case proto::opcode::batch: {
            auto& m = std::get<proto::batch_request>(req.message);
            e.consistency = m.consistency_level;
            for (const auto& s : m.statements) {
                std::string t;
                if (s.type == proto::batch_statement::kind::query) {
                    t.assign(s.query);
                } else {
                    if (auto* pt = cluster_->prepared_text(s.id)) t = *pt;
                }
                if (!e.query.empty()) e.query += "; ";
                e.query += t;
                e.values += s.values.size();
                batch_texts.push_back(std::move(t));
            }
            break;
        }
        default:
            break;
    }
    bool primed = false;
    if (!node_.primes.empty() && !(node_.stream_cap > 0 && in_flight_ >= node_.stream_cap)) {
        if (op == proto::opcode::batch) {
            for (const auto& t : batch_texts)
                if ((primed = apply_prime(stream, t, {}, e.consistency))) break;
        } else {
            primed = apply_prime(stream, e.query, id, e.consistency);
        }
    }
    cluster_->log_request(node_, std::move(e));
    if (primed) return;

    if (node_.stream_cap > 0 && in_flight_ >= node_.stream_cap)
        return write_error(stream, proto::error_code::overloaded,
                           "Too many requests in flight on this connection", {}, false);

    auto& eng = cluster_->eng;
    session_.node = node_.topology_index;
    switch (op) {
        case proto::opcode::query: {
            auto& m = std::get<proto::query_request>(req.message);
            fill_options(m.params);
            auto r = eng.query(session_, m.query, opts_);
            return write_result(stream, r, m.params.skip_metadata, std::nullopt);
        }
        case proto::opcode::prepare: {
            auto& m = std::get<proto::prepare_request>(req.message);
            auto r = eng.prepare(session_, m.query, m.keyspace.value_or(std::string_view{}));
            if (auto* p = std::get_if<prepared_result>(&r))
                cluster_->prepared_texts[std::string(proto::as_string_view(p->id))] =
                    std::string(m.query);
            return write_result(stream, r, false, std::nullopt);
        }
        case proto::opcode::execute: {
            auto& m = std::get<proto::execute_request>(req.message);
            fill_options(m.params);
            auto r = eng.execute(session_, m.id, opts_);
            std::optional<proto::bytes_view> client_id;
            if (*version_ >= proto::protocol_version::v5) client_id = m.result_metadata_id;
            return write_result(stream, r, m.params.skip_metadata, client_id);
        }
        case proto::opcode::batch: {
            auto& m = std::get<proto::batch_request>(req.message);
            batch_.clear();
            for (const auto& s : m.statements) {
                batch_entry be;
                if (s.type == proto::batch_statement::kind::query)
                    be.query_or_id = std::string(s.query);
                else
                    be.query_or_id = proto::byte_buffer(s.id.begin(), s.id.end());
                be.values.assign(s.values.begin(), s.values.end());
                batch_.push_back(std::move(be));
            }
            opts_.values.clear();
            opts_.names.clear();
            opts_.page_size = -1;
            opts_.paging_state.reset();
            opts_.consistency = m.consistency_level;
            opts_.serial_consistency = m.serial_consistency.value_or(proto::consistency::serial);
            opts_.timestamp = m.default_timestamp;
            opts_.keyspace = m.keyspace ? std::string(*m.keyspace) : std::string();
            opts_.now_in_seconds = m.now_in_seconds;
            auto r = eng.batch(session_, static_cast<batch_kind>(m.type), batch_, opts_);
            return write_result(stream, r, false, std::nullopt);
        }
        default:
            return write_error(stream, proto::error_code::protocol_error,
                               "Unexpected message " + std::string(proto::to_string(op)));
    }
}

void connection::write_result(std::int16_t stream, const result& r, bool skip_metadata,
                              std::optional<proto::bytes_view> client_metadata_id) {
    scratch_.clear();
    encode_result_frame(scratch_, *version_, stream, r, skip_metadata, client_metadata_id,
                        session_.warnings);
    emit(true);
}

void connection::write_error(std::int16_t stream, proto::error_code code, std::string_view message,
                             const proto::error_details& details, bool data) {
    scratch_.clear();
    proto::error_response er{code, message, details};
    proto::encode_response_frame(scratch_, version_.value_or(proto::protocol_version::v4), stream,
                                 er);
    emit(data);
}

void connection::emit(bool data_response, bool close_after) {
    if (data_response) {
        if (node_.wrong_stream > 0) {
            --node_.wrong_stream;
            auto s = static_cast<std::uint16_t>((scratch_[2] << 8) | scratch_[3]);
            s = static_cast<std::uint16_t>((s + 16384) % 32768);
            scratch_[2] = static_cast<std::uint8_t>(s >> 8);
            scratch_[3] = static_cast<std::uint8_t>(s);
        }
        if (node_.close_after > 0 && --node_.close_after == 0) {
            close_after = true;
            closing_ = true;  // no more requests are read from this connection
            reset_on_close_ = true;
        }
    }
    const proto::byte_buffer* frame = &scratch_;
    if (v4_lz4_ && !segmented_) {
        compressed_.clear();
        compressed_.insert(compressed_.end(), scratch_.begin(),
                           scratch_.begin() + proto::frame_header_size);
        compressed_[1] |= proto::frame_flags::compression;
        auto body = proto::bytes_view(scratch_).subspan(proto::frame_header_size);
        if (!proto::compress_frame_body_lz4(body, compressed_)) {
            proto::patch_frame_body_length(compressed_, 0);
            frame = &compressed_;
        }
    }
    if (data_response && node_.latency.count() > 0) {
        auto t = std::make_shared<asio::steady_timer>(sock_.get_executor(), node_.latency);
        auto it = timers_.insert(timers_.end(), t);
        ++in_flight_;
        t->async_wait([self = shared_from_this(), bytes = *frame, close_after, it,
                       seg = segmented_](const boost::system::error_code& ec) {
            if (ec || self->closed_) return;
            self->timers_.erase(it);
            --self->in_flight_;
            if (seg)
                self->out_frames_.insert(self->out_frames_.end(), bytes.begin(), bytes.end());
            else
                self->out_raw_.insert(self->out_raw_.end(), bytes.begin(), bytes.end());
            if (close_after) self->closing_ = true;
            self->flush();
        });
        return;
    }
    append_out(*frame, close_after);
}

void connection::append_out(const proto::byte_buffer& frame, bool close_after) {
    if (segmented_)
        out_frames_.insert(out_frames_.end(), frame.begin(), frame.end());
    else {
        // Unframed bytes must not overtake frames already waiting for segments.
        if (!out_frames_.empty()) {
            (void)proto::encode_segments(out_frames_, seg_compression_, out_raw_);
            out_frames_.clear();
        }
        out_raw_.insert(out_raw_.end(), frame.begin(), frame.end());
    }
    if (close_after) closing_ = true;
}

void connection::flush() {
    if (closed_ || writing_) return;
    if (!out_frames_.empty()) {
        auto at = out_raw_.size();
        (void)proto::encode_segments(out_frames_, seg_compression_, out_raw_);
        out_frames_.clear();
        if (node_.corrupt_next_crc && out_raw_.size() > at) {
            node_.corrupt_next_crc = false;
            auto s =
                proto::split_segment(proto::bytes_view(out_raw_).subspan(at), seg_compression_);
            if (s.consumed > 0) out_raw_[at + s.consumed - 1] ^= 0xFF;
        }
    }
    if (out_raw_.empty()) {
        if (closing_ && in_flight_ == 0) close(reset_on_close_);
        return;
    }
    std::swap(write_buf_, out_raw_);
    writing_ = true;
    write_all(asio::buffer(write_buf_),
              [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                  self->writing_ = false;
                  self->write_buf_.clear();
                  if (self->closed_) return;
                  if (ec) return self->close(false);
                  self->flush();
              });
}

}  // namespace cqlsim
