#include "cql/protocol/requests.hpp"

#include <limits>

namespace cql::protocol {
namespace {

constexpr std::size_t max_short = std::numeric_limits<std::uint16_t>::max();
constexpr std::size_t max_int = static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max());

bool is_v5(protocol_version v) noexcept {
    return v >= protocol_version::v5;
}

// Flag bits a decoder accepts.
std::uint32_t known_query_flags(protocol_version v) noexcept {
    return is_v5(v) ? 0x1FF : 0x7F;
}
std::uint32_t known_batch_flags(protocol_version v) noexcept {
    return query_flags::serial_consistency | query_flags::default_timestamp |
           (is_v5(v) ? (query_flags::keyspace | query_flags::now_in_seconds) : 0);
}

bool valid(consistency c) noexcept {
    return is_valid_consistency(static_cast<std::uint16_t>(c));
}

// ---- validation before encoding: a message that cannot be written writes nothing ----

std::error_code check_values(std::span<const value_view> values) noexcept {
    if (values.size() > max_short) return codec_errc::invalid_value;
    for (const auto& val : values)
        if (val.state == value_view::kind::bytes && val.data.size() > max_int)
            return codec_errc::invalid_length;
    return {};
}

std::error_code check(const query_parameters& p, protocol_version v) noexcept {
    if (!valid(p.consistency_level)) return codec_errc::invalid_value;
    if (p.serial_consistency && !valid(*p.serial_consistency)) return codec_errc::invalid_value;
    if (auto ec = check_values(p.values)) return ec;
    if (!p.names.empty()) {
        if (p.names.size() != p.values.size()) return codec_errc::invalid_value;
        for (auto n : p.names)
            if (n.size() > max_short) return codec_errc::invalid_length;
    }
    if (p.paging_state && p.paging_state->size() > max_int) return codec_errc::invalid_length;
    if (p.keyspace && p.keyspace->size() > max_short) return codec_errc::invalid_length;
    if (!is_v5(v) && (p.keyspace || p.now_in_seconds)) return codec_errc::invalid_value;
    return {};
}

void write_flags(byte_writer& w, std::uint32_t flags, protocol_version v) {
    if (is_v5(v))
        w.u32(flags);
    else
        w.u8(static_cast<std::uint8_t>(flags));
}

std::uint32_t read_flags(byte_reader& r, protocol_version v) noexcept {
    return is_v5(v) ? r.u32() : r.u8();
}

void write_consistency(byte_writer& w, consistency c) {
    w.u16(static_cast<std::uint16_t>(c));
}

consistency read_consistency(byte_reader& r) noexcept {
    auto c = r.u16();
    if (!is_valid_consistency(c)) r.fail(codec_errc::invalid_value);
    return static_cast<consistency>(c);
}

// Assumes check() passed.
void write_params(byte_writer& w, const query_parameters& p, protocol_version v) {
    write_consistency(w, p.consistency_level);
    auto flags = p.flags();
    write_flags(w, flags, v);
    if (flags & query_flags::values) {
        w.u16(static_cast<std::uint16_t>(p.values.size()));
        const bool named = (flags & query_flags::names_for_values) != 0;
        for (std::size_t i = 0; i < p.values.size(); ++i) {
            if (named) w.string(p.names[i]);
            w.value(p.values[i]);
        }
    }
    if (p.page_size) w.i32(*p.page_size);
    if (p.paging_state) w.bytes(*p.paging_state);
    if (p.serial_consistency) write_consistency(w, *p.serial_consistency);
    if (p.default_timestamp) w.i64(*p.default_timestamp);
    if (p.keyspace) w.string(*p.keyspace);
    if (p.now_in_seconds) w.i32(*p.now_in_seconds);
}

// Reads query parameters; values and names go to the end of storage.values/strings.
void read_params(byte_reader& r, query_parameters& p, protocol_version v,
                 request_storage& storage) {
    p = {};
    p.consistency_level = read_consistency(r);
    auto flags = read_flags(r, v);
    if (!r.ok()) return;
    if (flags & ~known_query_flags(v)) {
        r.fail(codec_errc::invalid_value);
        return;
    }
    if (flags & query_flags::values) {
        const bool named = (flags & query_flags::names_for_values) != 0;
        auto n = r.u16();
        if (!r.plausible_count(n, named ? 6 : 4)) return;
        auto& values = storage.values;
        auto& names = storage.strings;
        const auto values_begin = values.size();
        const auto names_begin = names.size();
        values.reserve(values_begin + n);
        if (named) names.reserve(names_begin + n);
        for (std::uint16_t i = 0; i < n && r.ok(); ++i) {
            if (named) names.push_back(r.string());
            values.push_back(r.value());
        }
        if (!r.ok()) return;
        p.values = std::span<const value_view>(values).subspan(values_begin);
        if (named) p.names = std::span<const std::string_view>(names).subspan(names_begin);
    }
    p.skip_metadata = (flags & query_flags::skip_metadata) != 0;
    if (flags & query_flags::page_size) p.page_size = r.i32();
    if (flags & query_flags::paging_state) {
        // A null paging state means "none", as Cassandra reads it.
        if (auto b = r.bytes()) p.paging_state = *b;
    }
    if (flags & query_flags::serial_consistency) p.serial_consistency = read_consistency(r);
    if (flags & query_flags::default_timestamp) p.default_timestamp = r.i64();
    if (flags & query_flags::keyspace) p.keyspace = r.string();
    if (flags & query_flags::now_in_seconds) p.now_in_seconds = r.i32();
}

// Reads one batch statement; with `values == nullptr` the values are only skipped.
void read_batch_statement(byte_reader& r, batch_statement& s, std::vector<value_view>* values,
                          std::size_t& value_count) {
    auto kind = r.u8();
    if (!r.ok()) return;
    if (kind == 0) {
        s.type = batch_statement::kind::query;
        s.query = r.long_string();
    } else if (kind == 1) {
        s.type = batch_statement::kind::prepared;
        s.id = r.short_bytes();
    } else {
        r.fail(codec_errc::invalid_value);
        return;
    }
    auto n = r.u16();
    if (!r.plausible_count(n, 4)) return;
    if (values) {
        const auto begin = values->size();
        for (std::uint16_t i = 0; i < n && r.ok(); ++i)
            values->push_back(r.value());
        // The caller reserved room for every value of the batch, so no reallocation
        // moves what earlier statements point at.
        s.values = std::span<const value_view>(*values).subspan(begin);
    } else {
        for (std::uint16_t i = 0; i < n && r.ok(); ++i)
            (void)r.value();
    }
    value_count += n;
}

struct encode_visitor {
    byte_writer& w;
    protocol_version v;
    template <class M>
    std::error_code operator()(const M& m) const {
        return encode(w, m, v);
    }
};

std::error_code decode_message(byte_reader& r, opcode op, protocol_version v, request& out,
                               request_storage& storage) {
    if (!r.ok()) return r.error();
    switch (op) {
        case opcode::startup:
            return decode(r, out.emplace<startup_request>(), v, storage);
        case opcode::auth_response:
            return decode(r, out.emplace<auth_response_request>(), v);
        case opcode::options:
            return decode(r, out.emplace<options_request>(), v);
        case opcode::query:
            return decode(r, out.emplace<query_request>(), v, storage);
        case opcode::prepare:
            return decode(r, out.emplace<prepare_request>(), v);
        case opcode::execute:
            return decode(r, out.emplace<execute_request>(), v, storage);
        case opcode::batch:
            return decode(r, out.emplace<batch_request>(), v, storage);
        case opcode::register_:
            return decode(r, out.emplace<register_request>(), v, storage);
        default:
            return codec_errc::unknown_opcode;
    }
}

template <class M>
std::error_code encode_frame_impl(byte_buffer& out, protocol_version v, std::int16_t stream,
                                  const M& m, const body_prefix* prefix, bool tracing) {
    const auto start = out.size();
    byte_writer w(out);
    frame_header h;
    h.version = v;
    h.is_response = false;
    h.flags = static_cast<std::uint8_t>((tracing ? frame_flags::tracing : 0) |
                                        (prefix ? prefix_flags(false, *prefix) : 0));
    h.stream = stream;
    if constexpr (std::is_same_v<M, request>)
        h.op = opcode_of(m);
    else
        h.op = M::op;
    h.body_length = 0;
    encode_frame_header(w, h);
    if (prefix) write_body_prefix(w, false, *prefix);
    auto ec = encode(w, m, v);
    if (!ec && out.size() - start - frame_header_size > max_int) ec = codec_errc::invalid_length;
    if (ec) {
        out.resize(start);
        return ec;
    }
    patch_frame_body_length(out, start);
    return {};
}

}  // namespace

// ---- flags ----

std::uint32_t query_parameters::flags() const noexcept {
    std::uint32_t f = 0;
    if (!values.empty()) f |= query_flags::values;
    if (!values.empty() && !names.empty()) f |= query_flags::names_for_values;
    if (skip_metadata) f |= query_flags::skip_metadata;
    if (page_size) f |= query_flags::page_size;
    if (paging_state) f |= query_flags::paging_state;
    if (serial_consistency) f |= query_flags::serial_consistency;
    if (default_timestamp) f |= query_flags::default_timestamp;
    if (keyspace) f |= query_flags::keyspace;
    if (now_in_seconds) f |= query_flags::now_in_seconds;
    return f;
}

std::uint32_t batch_request::flags() const noexcept {
    std::uint32_t f = 0;
    if (serial_consistency) f |= query_flags::serial_consistency;
    if (default_timestamp) f |= query_flags::default_timestamp;
    if (keyspace) f |= query_flags::keyspace;
    if (now_in_seconds) f |= query_flags::now_in_seconds;
    return f;
}

std::optional<std::string_view> startup_request::option(std::string_view key) const noexcept {
    for (const auto& [k, val] : options)
        if (k == key) return val;
    return std::nullopt;
}

opcode opcode_of(const request& r) noexcept {
    return std::visit([](const auto& m) { return std::remove_cvref_t<decltype(m)>::op; }, r);
}

// ---- encoding ----

std::error_code encode(byte_writer& w, const startup_request& m, protocol_version) {
    if (m.options.size() > max_short) return codec_errc::invalid_value;
    for (const auto& [k, val] : m.options)
        if (k.size() > max_short || val.size() > max_short) return codec_errc::invalid_length;
    w.string_map(m.options);
    return {};
}

std::error_code encode(byte_writer& w, const auth_response_request& m, protocol_version) {
    if (m.token && m.token->size() > max_int) return codec_errc::invalid_length;
    w.optional_bytes(m.token);
    return {};
}

std::error_code encode(byte_writer&, const options_request&, protocol_version) {
    return {};
}

std::error_code encode(byte_writer& w, const query_request& m, protocol_version v) {
    if (m.query.size() > max_int) return codec_errc::invalid_length;
    if (auto ec = check(m.params, v)) return ec;
    w.long_string(m.query);
    write_params(w, m.params, v);
    return {};
}

std::error_code encode(byte_writer& w, const prepare_request& m, protocol_version v) {
    if (m.query.size() > max_int) return codec_errc::invalid_length;
    if (m.keyspace && !is_v5(v)) return codec_errc::invalid_value;
    if (m.keyspace && m.keyspace->size() > max_short) return codec_errc::invalid_length;
    w.long_string(m.query);
    if (is_v5(v)) {
        w.u32(m.keyspace ? prepare_flags::keyspace : 0);
        if (m.keyspace) w.string(*m.keyspace);
    }
    return {};
}

std::error_code encode(byte_writer& w, const execute_request& m, protocol_version v) {
    if (m.id.size() > max_short || m.result_metadata_id.size() > max_short)
        return codec_errc::invalid_length;
    if (!is_v5(v) && !m.result_metadata_id.empty()) return codec_errc::invalid_value;
    if (auto ec = check(m.params, v)) return ec;
    w.short_bytes(m.id);
    if (is_v5(v)) w.short_bytes(m.result_metadata_id);
    write_params(w, m.params, v);
    return {};
}

std::error_code encode(byte_writer& w, const batch_request& m, protocol_version v) {
    if (static_cast<std::uint8_t>(m.type) > 2) return codec_errc::invalid_value;
    if (m.statements.size() > max_short) return codec_errc::invalid_value;
    if (!valid(m.consistency_level)) return codec_errc::invalid_value;
    if (m.serial_consistency && !valid(*m.serial_consistency)) return codec_errc::invalid_value;
    if (!is_v5(v) && (m.keyspace || m.now_in_seconds)) return codec_errc::invalid_value;
    if (m.keyspace && m.keyspace->size() > max_short) return codec_errc::invalid_length;
    for (const auto& s : m.statements) {
        if (s.type == batch_statement::kind::query) {
            if (s.query.size() > max_int) return codec_errc::invalid_length;
        } else if (s.type == batch_statement::kind::prepared) {
            if (s.id.size() > max_short) return codec_errc::invalid_length;
        } else {
            return codec_errc::invalid_value;
        }
        if (auto ec = check_values(s.values)) return ec;
    }

    w.u8(static_cast<std::uint8_t>(m.type));
    w.u16(static_cast<std::uint16_t>(m.statements.size()));
    for (const auto& s : m.statements) {
        w.u8(static_cast<std::uint8_t>(s.type));
        if (s.type == batch_statement::kind::query)
            w.long_string(s.query);
        else
            w.short_bytes(s.id);
        w.u16(static_cast<std::uint16_t>(s.values.size()));
        for (const auto& val : s.values)
            w.value(val);
    }
    write_consistency(w, m.consistency_level);
    write_flags(w, m.flags(), v);
    if (m.serial_consistency) write_consistency(w, *m.serial_consistency);
    if (m.default_timestamp) w.i64(*m.default_timestamp);
    if (m.keyspace) w.string(*m.keyspace);
    if (m.now_in_seconds) w.i32(*m.now_in_seconds);
    return {};
}

std::error_code encode(byte_writer& w, const register_request& m, protocol_version) {
    if (m.event_types.size() > max_short) return codec_errc::invalid_value;
    for (auto e : m.event_types)
        if (e.size() > max_short) return codec_errc::invalid_length;
    w.string_list(m.event_types);
    return {};
}

std::error_code encode(byte_writer& w, const request& m, protocol_version v) {
    return std::visit(encode_visitor{w, v}, m);
}

// ---- decoding ----

std::error_code decode(byte_reader& r, startup_request& m, protocol_version,
                       request_storage& storage) {
    storage.clear();
    m = {};
    auto n = r.u16();
    if (!r.plausible_count(n, 4)) return r.error();
    storage.options.reserve(n);
    for (std::uint16_t i = 0; i < n && r.ok(); ++i) {
        auto k = r.string();
        auto val = r.string();
        storage.options.emplace_back(k, val);
    }
    if (!r.ok()) return r.error();
    m.options = storage.options;
    return {};
}

std::error_code decode(byte_reader& r, auth_response_request& m, protocol_version) {
    m.token = r.bytes();
    return r.error();
}

std::error_code decode(byte_reader& r, options_request&, protocol_version) {
    return r.error();
}

std::error_code decode(byte_reader& r, query_request& m, protocol_version v,
                       request_storage& storage) {
    storage.clear();
    m = {};
    m.query = r.long_string();
    read_params(r, m.params, v, storage);
    return r.error();
}

std::error_code decode(byte_reader& r, prepare_request& m, protocol_version v) {
    m = {};
    m.query = r.long_string();
    if (is_v5(v)) {
        auto flags = r.u32();
        if (r.ok() && (flags & ~prepare_flags::keyspace)) r.fail(codec_errc::invalid_value);
        if (flags & prepare_flags::keyspace) m.keyspace = r.string();
    }
    return r.error();
}

std::error_code decode(byte_reader& r, execute_request& m, protocol_version v,
                       request_storage& storage) {
    storage.clear();
    m = {};
    m.id = r.short_bytes();
    if (is_v5(v)) m.result_metadata_id = r.short_bytes();
    read_params(r, m.params, v, storage);
    return r.error();
}

std::error_code decode(byte_reader& r, batch_request& m, protocol_version v,
                       request_storage& storage) {
    storage.clear();
    m = {};
    auto type = r.u8();
    if (r.ok() && type > 2) r.fail(codec_errc::invalid_value);
    m.type = static_cast<batch_type>(type);
    auto n = r.u16();
    if (!r.plausible_count(n, 5)) return r.error();

    // First pass over a copy of the reader: validate the statements and count the values,
    // so that the second pass can reserve exactly and take stable spans as it goes.
    std::size_t total_values = 0;
    {
        byte_reader probe = r;
        batch_statement s;
        for (std::uint16_t i = 0; i < n && probe.ok(); ++i)
            read_batch_statement(probe, s, nullptr, total_values);
        if (!probe.ok()) return probe.error();
    }
    storage.values.reserve(total_values);
    storage.statements.reserve(n);
    std::size_t counted = 0;
    for (std::uint16_t i = 0; i < n && r.ok(); ++i) {
        batch_statement s;
        read_batch_statement(r, s, &storage.values, counted);
        storage.statements.push_back(s);
    }
    m.consistency_level = read_consistency(r);
    auto flags = read_flags(r, v);
    if (!r.ok()) return r.error();
    if (flags & ~known_batch_flags(v)) return codec_errc::invalid_value;
    if (flags & query_flags::serial_consistency) m.serial_consistency = read_consistency(r);
    if (flags & query_flags::default_timestamp) m.default_timestamp = r.i64();
    if (flags & query_flags::keyspace) m.keyspace = r.string();
    if (flags & query_flags::now_in_seconds) m.now_in_seconds = r.i32();
    if (!r.ok()) return r.error();
    m.statements = storage.statements;
    return {};
}

std::error_code decode(byte_reader& r, register_request& m, protocol_version,
                       request_storage& storage) {
    storage.clear();
    m = {};
    auto n = r.u16();
    if (!r.plausible_count(n, 2)) return r.error();
    storage.strings.reserve(n);
    for (std::uint16_t i = 0; i < n && r.ok(); ++i)
        storage.strings.push_back(r.string());
    if (!r.ok()) return r.error();
    m.event_types = storage.strings;
    return {};
}

std::error_code decode_request_body(opcode op, bytes_view body, protocol_version v, request& out,
                                    request_storage& storage) {
    byte_reader r(body);
    if (auto ec = decode_message(r, op, v, out, storage)) return ec;
    return r.finish();
}

std::error_code decode_request(const frame_view& f, decoded_request& out) {
    if (f.header.is_response) return codec_errc::unexpected_direction;
    if (!is_request_opcode(f.header.op)) return codec_errc::unknown_opcode;
    out.stream = f.header.stream;
    out.tracing = f.header.has(frame_flags::tracing);
    out.prefix = {};
    byte_reader r(f.body);
    read_body_prefix(r, f.header, out.prefix);
    if (auto ec = decode_message(r, f.header.op, f.header.version, out.message, out.storage))
        return ec;
    return r.finish();
}

// ---- frames ----

std::error_code encode_request_frame(byte_buffer& out, protocol_version v, std::int16_t stream,
                                     const request& m, const body_prefix* prefix, bool tracing) {
    return encode_frame_impl(out, v, stream, m, prefix, tracing);
}

std::error_code encode_request_frame(byte_buffer& out, protocol_version v, std::int16_t stream,
                                     const query_request& m, const body_prefix* prefix,
                                     bool tracing) {
    return encode_frame_impl(out, v, stream, m, prefix, tracing);
}

std::error_code encode_request_frame(byte_buffer& out, protocol_version v, std::int16_t stream,
                                     const execute_request& m, const body_prefix* prefix,
                                     bool tracing) {
    return encode_frame_impl(out, v, stream, m, prefix, tracing);
}

namespace {
// Where <consistency> starts in a whole, uncompressed QUERY / EXECUTE / BATCH request
// frame (0 with `ec` set otherwise).
std::size_t consistency_offset(std::span<const std::uint8_t> frame, frame_header& h,
                               std::error_code& ec) {
    auto split = split_frame(frame);
    ec = split.error;
    if (!ec && split.consumed != frame.size()) ec = codec_errc::invalid_value;
    if (ec) return 0;
    h = split.frame.header;
    if (h.is_response)
        ec = codec_errc::unexpected_direction;
    else if (h.has(frame_flags::compression))
        ec = codec_errc::invalid_value;
    if (ec) return 0;
    byte_reader r(split.frame.body);
    body_prefix prefix;
    read_body_prefix(r, h, prefix);
    switch (h.op) {
        case opcode::query:  // <query><consistency>...
            (void)r.long_string();
            break;
        case opcode::execute:  // <id>[<result_metadata_id>]<consistency>...
            (void)r.short_bytes();
            if (is_v5(h.version)) (void)r.short_bytes();
            break;
        case opcode::batch: {  // <type><n><statement_1>...<statement_n><consistency>...
            (void)r.u8();
            const auto n = r.u16();
            batch_statement s;
            std::size_t count = 0;
            for (std::uint16_t i = 0; i < n && r.ok(); ++i)
                read_batch_statement(r, s, nullptr, count);
            break;
        }
        default:
            ec = codec_errc::invalid_value;
            return 0;
    }
    if (!r.ok() || r.remaining() < 2) {
        ec = codec_errc::truncated;
        return 0;
    }
    return frame_header_size + r.position();
}
}  // namespace

std::error_code set_request_consistency(std::span<std::uint8_t> frame, consistency cl) {
    frame_header h;
    std::error_code ec;
    const auto at = consistency_offset(frame, h, ec);
    if (ec) return ec;
    const auto v = static_cast<std::uint16_t>(cl);
    frame[at] = static_cast<std::uint8_t>(v >> 8);
    frame[at + 1] = static_cast<std::uint8_t>(v & 0xff);
    return {};
}

std::error_code clear_execute_flag(std::span<std::uint8_t> frame, std::uint32_t flag) {
    frame_header h;
    std::error_code ec;
    const auto cl_at = consistency_offset(frame, h, ec);
    if (ec) return ec;
    if (h.op != opcode::execute) return codec_errc::invalid_value;
    const auto at = cl_at + 2;  // <flags> follows <consistency>
    const std::size_t width = is_v5(h.version) ? 4 : 1;
    if (frame.size() < at + width) return codec_errc::truncated;
    if (!is_v5(h.version) && flag > 0xff) return codec_errc::invalid_value;
    for (std::size_t i = 0; i < width; ++i)  // big-endian
        frame[at + i] &= static_cast<std::uint8_t>(~(flag >> (8 * (width - 1 - i))) & 0xff);
    return {};
}

}  // namespace cql::protocol
