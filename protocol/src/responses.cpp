#include "cql/protocol/responses.hpp"

namespace cql::protocol {

// ---------------------------------------------------------------------------------------
// Names

std::string_view to_string(error_code c) noexcept {
    switch (c) {
        case error_code::server_error:
            return "SERVER_ERROR";
        case error_code::protocol_error:
            return "PROTOCOL_ERROR";
        case error_code::bad_credentials:
            return "BAD_CREDENTIALS";
        case error_code::unavailable:
            return "UNAVAILABLE";
        case error_code::overloaded:
            return "OVERLOADED";
        case error_code::is_bootstrapping:
            return "IS_BOOTSTRAPPING";
        case error_code::truncate_error:
            return "TRUNCATE_ERROR";
        case error_code::write_timeout:
            return "WRITE_TIMEOUT";
        case error_code::read_timeout:
            return "READ_TIMEOUT";
        case error_code::read_failure:
            return "READ_FAILURE";
        case error_code::function_failure:
            return "FUNCTION_FAILURE";
        case error_code::write_failure:
            return "WRITE_FAILURE";
        case error_code::cdc_write_failure:
            return "CDC_WRITE_FAILURE";
        case error_code::cas_write_unknown:
            return "CAS_WRITE_UNKNOWN";
        case error_code::syntax_error:
            return "SYNTAX_ERROR";
        case error_code::unauthorized:
            return "UNAUTHORIZED";
        case error_code::invalid:
            return "INVALID";
        case error_code::config_error:
            return "CONFIG_ERROR";
        case error_code::already_exists:
            return "ALREADY_EXISTS";
        case error_code::unprepared:
            return "UNPREPARED";
    }
    return "UNKNOWN";
}

std::string_view exception_name(error_code c) noexcept {
    switch (c) {
        case error_code::server_error:
            return "ServerError";
        case error_code::protocol_error:
            return "ProtocolException";
        case error_code::bad_credentials:
            return "AuthenticationException";
        case error_code::unavailable:
            return "UnavailableException";
        case error_code::overloaded:
            return "OverloadedException";
        case error_code::is_bootstrapping:
            return "IsBootstrappingException";
        case error_code::truncate_error:
            return "TruncateException";
        case error_code::write_timeout:
            return "WriteTimeoutException";
        case error_code::read_timeout:
            return "ReadTimeoutException";
        case error_code::read_failure:
            return "ReadFailureException";
        case error_code::function_failure:
            return "FunctionExecutionException";
        case error_code::write_failure:
            return "WriteFailureException";
        case error_code::cdc_write_failure:
            return "CDCWriteException";
        case error_code::cas_write_unknown:
            return "CasWriteUnknownResultException";
        case error_code::syntax_error:
            return "SyntaxException";
        case error_code::unauthorized:
            return "UnauthorizedException";
        case error_code::invalid:
            return "InvalidRequestException";
        case error_code::config_error:
            return "ConfigurationException";
        case error_code::already_exists:
            return "AlreadyExistsException";
        case error_code::unprepared:
            return "PreparedQueryNotFoundException";
    }
    return "UnknownException";
}

bool is_known_error_code(std::int32_t c) noexcept {
    return to_string(static_cast<error_code>(c)) != "UNKNOWN";
}

namespace {
constexpr std::string_view write_type_names[] = {
    "SIMPLE", "BATCH", "UNLOGGED_BATCH", "COUNTER", "BATCH_LOG", "CAS", "VIEW", "CDC",
};
constexpr std::string_view change_type_names[] = {"CREATED", "UPDATED", "DROPPED"};
constexpr std::string_view target_names[] = {"KEYSPACE", "TABLE", "TYPE", "FUNCTION", "AGGREGATE"};
constexpr std::string_view topology_names[] = {"NEW_NODE", "REMOVED_NODE", "MOVED_NODE"};
constexpr std::string_view status_names[] = {"UP", "DOWN"};

template <std::size_t N>
int index_of(const std::string_view (&names)[N], std::string_view s) noexcept {
    for (std::size_t i = 0; i < N; ++i)
        if (names[i] == s) return static_cast<int>(i);
    return -1;
}
template <std::size_t N, class E>
std::string_view name_of(const std::string_view (&names)[N], E e) noexcept {
    auto i = static_cast<std::size_t>(e);
    return i < N ? names[i] : std::string_view("UNKNOWN");
}
}  // namespace

write_type parse_write_type(std::string_view s) noexcept {
    int i = index_of(write_type_names, s);
    return i < 0 ? write_type::unknown : static_cast<write_type>(i);
}
std::string_view to_string(write_type t) noexcept {
    return name_of(write_type_names, t);
}
std::string_view to_string(schema_change_type t) noexcept {
    return name_of(change_type_names, t);
}
std::string_view to_string(schema_change_target t) noexcept {
    return name_of(target_names, t);
}
std::string_view to_string(topology_change_type t) noexcept {
    return name_of(topology_names, t);
}
std::string_view to_string(status_change_type t) noexcept {
    return name_of(status_names, t);
}

const std::vector<std::string_view>* supported_response::find(std::string_view key) const noexcept {
    for (const auto& [k, v] : options)
        if (k == key) return &v;
    return nullptr;
}

std::int32_t result_metadata::wire_flags() const noexcept {
    std::int32_t f = 0;
    if (global_tables_spec) f |= rows_flags::global_tables_spec;
    if (paging_state) f |= rows_flags::has_more_pages;
    if (no_metadata) f |= rows_flags::no_metadata;
    if (new_metadata_id) f |= rows_flags::metadata_changed;
    return f;
}

std::int32_t result_metadata::wire_column_count() const noexcept {
    return no_metadata ? column_count : static_cast<std::int32_t>(columns.size());
}

opcode response_opcode(const response& r) noexcept {
    return std::visit([](const auto& m) { return std::decay_t<decltype(m)>::op; }, r);
}

// ---------------------------------------------------------------------------------------
// Decoding

namespace {

consistency read_consistency(byte_reader& r) noexcept {
    // Any value is kept: an unknown level is not a reason to lose the error's details.
    return static_cast<consistency>(r.u16());
}

std::int32_t read_count(byte_reader& r) noexcept {
    auto n = r.i32();
    if (n < 0) {
        r.fail(codec_errc::invalid_length);
        return 0;
    }
    return n;
}

void read_reason_map(byte_reader& r, std::vector<failure_reason>& out) {
    auto n = read_count(r);
    // Each entry is at least a 5-byte [inetaddr] and a 2-byte [short].
    if (!r.plausible_count(static_cast<std::size_t>(n), 7)) return;
    out.reserve(static_cast<std::size_t>(n));
    for (std::int32_t i = 0; i < n && r.ok(); ++i) {
        failure_reason fr;
        fr.endpoint = r.inetaddr();
        fr.code = r.u16();
        out.push_back(fr);
    }
}

void read_error(byte_reader& r, protocol_version v, error_response& out) {
    out.code = static_cast<error_code>(r.i32());
    out.message = r.string();
    out.details = std::monostate{};
    if (!r.ok()) return;
    switch (out.code) {
        case error_code::server_error:
        case error_code::protocol_error:
        case error_code::bad_credentials:
        case error_code::overloaded:
        case error_code::is_bootstrapping:
        case error_code::truncate_error:
        case error_code::cdc_write_failure:
        case error_code::syntax_error:
        case error_code::unauthorized:
        case error_code::invalid:
        case error_code::config_error:
            return;
        case error_code::unavailable: {
            unavailable_info d;
            d.cl = read_consistency(r);
            d.required = r.i32();
            d.alive = r.i32();
            out.details = d;
            return;
        }
        case error_code::write_timeout: {
            write_timeout_info d;
            d.cl = read_consistency(r);
            d.received = r.i32();
            d.block_for = r.i32();
            d.write_type = r.string();
            if (v >= protocol_version::v5 && d.write_type == "CAS") d.contentions = r.i16();
            out.details = d;
            return;
        }
        case error_code::read_timeout: {
            read_timeout_info d;
            d.cl = read_consistency(r);
            d.received = r.i32();
            d.block_for = r.i32();
            d.data_present = r.u8() != 0;
            out.details = d;
            return;
        }
        case error_code::read_failure: {
            read_failure_info d;
            d.cl = read_consistency(r);
            d.received = r.i32();
            d.block_for = r.i32();
            if (v >= protocol_version::v5) {
                read_reason_map(r, d.reasons);
                d.num_failures = static_cast<std::int32_t>(d.reasons.size());
            } else {
                d.num_failures = r.i32();
            }
            d.data_present = r.u8() != 0;
            out.details = std::move(d);
            return;
        }
        case error_code::function_failure: {
            function_failure_info d;
            d.keyspace = r.string();
            d.function = r.string();
            d.arg_types = r.string_list();
            out.details = std::move(d);
            return;
        }
        case error_code::write_failure: {
            write_failure_info d;
            d.cl = read_consistency(r);
            d.received = r.i32();
            d.block_for = r.i32();
            if (v >= protocol_version::v5) {
                read_reason_map(r, d.reasons);
                d.num_failures = static_cast<std::int32_t>(d.reasons.size());
            } else {
                d.num_failures = r.i32();
            }
            d.write_type = r.string();
            out.details = std::move(d);
            return;
        }
        case error_code::cas_write_unknown: {
            cas_write_unknown_info d;
            d.cl = read_consistency(r);
            d.received = r.i32();
            d.block_for = r.i32();
            out.details = d;
            return;
        }
        case error_code::already_exists: {
            already_exists_info d;
            d.keyspace = r.string();
            d.table = r.string();
            out.details = d;
            return;
        }
        case error_code::unprepared: {
            unprepared_info d;
            d.id = r.short_bytes();
            out.details = d;
            return;
        }
    }
    // A code from a future protocol: keep what follows the message as it is.
    auto rest = r.rest();
    r.skip(rest.size());
    out.details = unknown_error_info{rest};
}

void read_table_spec(byte_reader& r, table_spec& out) noexcept {
    out.keyspace = r.string();
    out.table = r.string();
}

void read_column_specs(byte_reader& r, std::int32_t count, bool global, const table_spec& gs,
                       std::vector<column_spec>& out) {
    out.clear();
    // Each spec has at least a [string] name and a 2-byte type id, plus two [string]s
    // when there is no global table spec.
    if (!r.plausible_count(static_cast<std::size_t>(count), global ? 4 : 8)) return;
    out.resize(static_cast<std::size_t>(count));
    for (auto& c : out) {
        if (global) {
            c.keyspace = gs.keyspace;
            c.table = gs.table;
        } else {
            c.keyspace = r.string();
            c.table = r.string();
        }
        c.name = r.string();
        read_type_option(r, c.type);
        if (!r.ok()) return;
    }
}

void read_result_metadata(byte_reader& r, protocol_version v, result_metadata& out) {
    auto flags = r.i32();
    out.column_count = read_count(r);
    if (!r.ok()) return;
    std::int32_t known =
        rows_flags::global_tables_spec | rows_flags::has_more_pages | rows_flags::no_metadata;
    if (v >= protocol_version::v5) known |= rows_flags::metadata_changed;
    if ((flags & ~known) != 0) {
        r.fail(codec_errc::invalid_value);
        return;
    }
    out.global_tables_spec = (flags & rows_flags::global_tables_spec) != 0;
    out.no_metadata = (flags & rows_flags::no_metadata) != 0;
    out.global_spec = {};
    out.paging_state.reset();
    out.new_metadata_id.reset();
    out.columns.clear();
    if (flags & rows_flags::has_more_pages) {
        out.paging_state = r.bytes();
        // A null paging state with Has_more_pages cannot be continued (nor re-encoded).
        if (r.ok() && !out.paging_state) r.fail(codec_errc::invalid_value);
    }
    if (flags & rows_flags::metadata_changed) out.new_metadata_id = r.short_bytes();
    if (out.no_metadata) return;
    if (out.global_tables_spec) read_table_spec(r, out.global_spec);
    read_column_specs(r, out.column_count, out.global_tables_spec, out.global_spec, out.columns);
}

void read_prepared_metadata(byte_reader& r, protocol_version v, prepared_metadata& out) {
    auto flags = r.i32();
    auto count = read_count(r);
    if (!r.ok()) return;
    if ((flags & ~rows_flags::global_tables_spec) != 0) {
        r.fail(codec_errc::invalid_value);
        return;
    }
    out.global_tables_spec = (flags & rows_flags::global_tables_spec) != 0;
    out.global_spec = {};
    out.pk_indexes.clear();
    if (v >= protocol_version::v4) {
        auto pk_count = read_count(r);
        if (!r.plausible_count(static_cast<std::size_t>(pk_count), 2)) return;
        out.pk_indexes.resize(static_cast<std::size_t>(pk_count));
        for (auto& i : out.pk_indexes)
            i = r.u16();
    }
    if (out.global_tables_spec) read_table_spec(r, out.global_spec);
    read_column_specs(r, count, out.global_tables_spec, out.global_spec, out.columns);
}

template <std::size_t N, class E>
void read_enum_name(byte_reader& r, const std::string_view (&names)[N], E& out) noexcept {
    auto s = r.string();
    if (!r.ok()) return;
    int i = index_of(names, s);
    if (i < 0)
        r.fail(codec_errc::invalid_value);
    else
        out = static_cast<E>(i);
}

void read_schema_change(byte_reader& r, schema_change& out) {
    read_enum_name(r, change_type_names, out.change);
    read_enum_name(r, target_names, out.target);
    out.keyspace = r.string();
    out.name = {};
    out.arg_types.clear();
    if (out.target == schema_change_target::keyspace) return;
    out.name = r.string();
    if (out.target == schema_change_target::function ||
        out.target == schema_change_target::aggregate)
        out.arg_types = r.string_list();
}

// The alternative T of `out`, reused when it is already there so that its vectors keep
// their capacity from one response to the next.
template <class T>
T& reuse(response& out) {
    if (auto* p = std::get_if<T>(&out)) return *p;
    return out.emplace<T>();
}

void read_result(byte_reader& r, protocol_version v, response& out) {
    auto kind = r.i32();
    if (!r.ok()) return;
    switch (static_cast<result_kind>(kind)) {
        case result_kind::void_:
            out.emplace<void_result>();
            return;
        case result_kind::rows: {
            auto& m = reuse<rows_result>(out);
            read_result_metadata(r, v, m.metadata);
            m.row_count = read_count(r);
            if (!r.ok()) return;
            auto content = r.rest();
            if (auto ec = validate_rows_content(content, m.row_count, m.metadata.column_count)) {
                r.fail(static_cast<codec_errc>(ec.value()));
                return;
            }
            m.rows_content = content;
            r.skip(content.size());
            return;
        }
        case result_kind::set_keyspace:
            out.emplace<set_keyspace_result>().keyspace = r.string();
            return;
        case result_kind::prepared: {
            auto& m = reuse<prepared_result>(out);
            m.result_metadata_id = {};
            m.id = r.short_bytes();
            if (v >= protocol_version::v5) m.result_metadata_id = r.short_bytes();
            read_prepared_metadata(r, v, m.metadata);
            read_result_metadata(r, v, m.result);
            return;
        }
        case result_kind::schema_change:
            read_schema_change(r, out.emplace<schema_change_result>().change);
            return;
    }
    r.fail(codec_errc::invalid_value);
}

void read_event(byte_reader& r, response& out) {
    auto type = r.string();
    if (!r.ok()) return;
    if (type == "TOPOLOGY_CHANGE") {
        auto& e = out.emplace<topology_change_event>();
        read_enum_name(r, topology_names, e.change);
        e.address = r.inet();
    } else if (type == "STATUS_CHANGE") {
        auto& e = out.emplace<status_change_event>();
        read_enum_name(r, status_names, e.change);
        e.address = r.inet();
    } else if (type == "SCHEMA_CHANGE") {
        read_schema_change(r, out.emplace<schema_change_event>().change);
    } else {
        r.fail(codec_errc::invalid_value);
    }
}

}  // namespace

std::error_code validate_rows_content(bytes_view content, std::int32_t rows,
                                      std::int32_t columns) noexcept {
    if (rows < 0 || columns < 0) return codec_errc::invalid_length;
    auto cells = static_cast<std::uint64_t>(rows) * static_cast<std::uint64_t>(columns);
    // Every cell has at least its 4-byte length: this also bounds the loop below.
    if (cells > content.size() / 4) return codec_errc::truncated;
    const std::uint8_t* p = content.data();
    std::size_t left = content.size();
    for (std::uint64_t i = 0; i < cells; ++i) {
        if (left < 4) return codec_errc::truncated;
        auto n =
            static_cast<std::int32_t>((std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) |
                                      (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]});
        p += 4;
        left -= 4;
        if (n > 0) {
            if (static_cast<std::size_t>(n) > left) return codec_errc::truncated;
            p += n;
            left -= static_cast<std::size_t>(n);
        }
    }
    if (left != 0) return codec_errc::trailing_bytes;
    return {};
}

std::error_code decode_response_message(protocol_version v, opcode op, bytes_view message,
                                        response& out) {
    byte_reader r(message);
    switch (op) {
        case opcode::error:
            read_error(r, v, out.emplace<error_response>());
            break;
        case opcode::ready:
            out.emplace<ready_response>();
            break;
        case opcode::authenticate:
            out.emplace<authenticate_response>().authenticator = r.string();
            break;
        case opcode::supported:
            out.emplace<supported_response>().options = r.string_multimap();
            break;
        case opcode::result:
            read_result(r, v, out);
            break;
        case opcode::event:
            read_event(r, out);
            break;
        case opcode::auth_challenge:
            out.emplace<auth_challenge_response>().token = r.bytes();
            break;
        case opcode::auth_success:
            out.emplace<auth_success_response>().token = r.bytes();
            break;
        default:
            return is_known_opcode(static_cast<std::uint8_t>(op)) ? codec_errc::unexpected_direction
                                                                  : codec_errc::unknown_opcode;
    }
    return r.finish();
}

std::error_code decode_response(const frame_view& f, response& out, body_prefix& prefix) {
    if (!f.header.is_response || is_request_opcode(f.header.op))
        return codec_errc::unexpected_direction;
    byte_reader r(f.body);
    prefix.tracing_id.reset();
    prefix.warnings.clear();
    prefix.custom_payload.clear();
    read_body_prefix(r, f.header, prefix);
    if (!r.ok()) return r.error();
    return decode_response_message(f.header.version, f.header.op, r.rest(), out);
}

// ---------------------------------------------------------------------------------------
// Encoding

namespace {

void write_consistency(byte_writer& w, consistency c) {
    w.u16(static_cast<std::uint16_t>(c));
}

void write_reason_map(byte_writer& w, const std::vector<failure_reason>& reasons) {
    w.i32(static_cast<std::int32_t>(reasons.size()));
    for (const auto& fr : reasons) {
        w.inetaddr(fr.endpoint);
        w.u16(fr.code);
    }
}

struct error_details_writer {
    byte_writer& w;
    protocol_version v;

    void operator()(const std::monostate&) const {}
    void operator()(const unavailable_info& d) const {
        write_consistency(w, d.cl);
        w.i32(d.required);
        w.i32(d.alive);
    }
    void operator()(const write_timeout_info& d) const {
        write_consistency(w, d.cl);
        w.i32(d.received);
        w.i32(d.block_for);
        w.string(d.write_type);
        if (v >= protocol_version::v5 && d.write_type == "CAS") w.i16(d.contentions.value_or(0));
    }
    void operator()(const read_timeout_info& d) const {
        write_consistency(w, d.cl);
        w.i32(d.received);
        w.i32(d.block_for);
        w.u8(d.data_present ? 1 : 0);
    }
    void operator()(const read_failure_info& d) const {
        write_consistency(w, d.cl);
        w.i32(d.received);
        w.i32(d.block_for);
        if (v >= protocol_version::v5)
            write_reason_map(w, d.reasons);
        else
            w.i32(d.num_failures);
        w.u8(d.data_present ? 1 : 0);
    }
    void operator()(const function_failure_info& d) const {
        w.string(d.keyspace);
        w.string(d.function);
        w.string_list(d.arg_types);
    }
    void operator()(const write_failure_info& d) const {
        write_consistency(w, d.cl);
        w.i32(d.received);
        w.i32(d.block_for);
        if (v >= protocol_version::v5)
            write_reason_map(w, d.reasons);
        else
            w.i32(d.num_failures);
        w.string(d.write_type);
    }
    void operator()(const cas_write_unknown_info& d) const {
        write_consistency(w, d.cl);
        w.i32(d.received);
        w.i32(d.block_for);
    }
    void operator()(const already_exists_info& d) const {
        w.string(d.keyspace);
        w.string(d.table);
    }
    void operator()(const unprepared_info& d) const { w.short_bytes(d.id); }
    void operator()(const unknown_error_info& d) const { w.raw(d.rest); }
};

void write_column_specs(byte_writer& w, bool global, const std::vector<column_spec>& columns) {
    for (const auto& c : columns) {
        if (!global) {
            w.string(c.keyspace);
            w.string(c.table);
        }
        w.string(c.name);
        write_type_option(w, c.type);
    }
}

}  // namespace

void write_result_metadata(byte_writer& w, protocol_version v, const result_metadata& m) {
    auto flags = m.wire_flags();
    if (v < protocol_version::v5) flags &= ~rows_flags::metadata_changed;
    w.i32(flags);
    w.i32(m.wire_column_count());
    if (m.paging_state) w.bytes(*m.paging_state);
    if (flags & rows_flags::metadata_changed) w.short_bytes(*m.new_metadata_id);
    if (m.no_metadata) return;
    if (m.global_tables_spec) {
        w.string(m.global_spec.keyspace);
        w.string(m.global_spec.table);
    }
    write_column_specs(w, m.global_tables_spec, m.columns);
}

void write_prepared_metadata(byte_writer& w, protocol_version v, const prepared_metadata& m) {
    w.i32(m.global_tables_spec ? rows_flags::global_tables_spec : 0);
    w.i32(static_cast<std::int32_t>(m.columns.size()));
    if (v >= protocol_version::v4) {
        w.i32(static_cast<std::int32_t>(m.pk_indexes.size()));
        for (auto i : m.pk_indexes)
            w.u16(i);
    }
    if (m.global_tables_spec) {
        w.string(m.global_spec.keyspace);
        w.string(m.global_spec.table);
    }
    write_column_specs(w, m.global_tables_spec, m.columns);
}

void write_schema_change(byte_writer& w, const schema_change& c) {
    w.string(to_string(c.change));
    w.string(to_string(c.target));
    w.string(c.keyspace);
    if (c.target == schema_change_target::keyspace) return;
    w.string(c.name);
    if (c.target == schema_change_target::function || c.target == schema_change_target::aggregate)
        w.string_list(c.arg_types);
}

void encode_response_message(byte_writer& w, protocol_version v, const response& r) {
    std::visit([&](const auto& m) { encode_response_message(w, v, m); }, r);
}

void encode_response_message(byte_writer& w, protocol_version v, const error_response& m) {
    w.i32(static_cast<std::int32_t>(m.code));
    w.string(m.message);
    std::visit(error_details_writer{w, v}, m.details);
}

void encode_response_message(byte_writer&, protocol_version, const ready_response&) {}

void encode_response_message(byte_writer& w, protocol_version, const authenticate_response& m) {
    w.string(m.authenticator);
}

void encode_response_message(byte_writer& w, protocol_version, const supported_response& m) {
    w.string_multimap(m.options);
}

void encode_response_message(byte_writer& w, protocol_version, const void_result&) {
    w.i32(static_cast<std::int32_t>(result_kind::void_));
}

void encode_response_message(byte_writer& w, protocol_version v, const rows_result& m) {
    w.i32(static_cast<std::int32_t>(result_kind::rows));
    write_result_metadata(w, v, m.metadata);
    w.i32(m.row_count);
    w.raw(m.rows_content);
}

void encode_response_message(byte_writer& w, protocol_version, const set_keyspace_result& m) {
    w.i32(static_cast<std::int32_t>(result_kind::set_keyspace));
    w.string(m.keyspace);
}

void encode_response_message(byte_writer& w, protocol_version v, const prepared_result& m) {
    w.i32(static_cast<std::int32_t>(result_kind::prepared));
    w.short_bytes(m.id);
    if (v >= protocol_version::v5) w.short_bytes(m.result_metadata_id);
    write_prepared_metadata(w, v, m.metadata);
    write_result_metadata(w, v, m.result);
}

void encode_response_message(byte_writer& w, protocol_version, const schema_change_result& m) {
    w.i32(static_cast<std::int32_t>(result_kind::schema_change));
    write_schema_change(w, m.change);
}

void encode_response_message(byte_writer& w, protocol_version, const topology_change_event& m) {
    w.string("TOPOLOGY_CHANGE");
    w.string(to_string(m.change));
    w.inet(m.address);
}

void encode_response_message(byte_writer& w, protocol_version, const status_change_event& m) {
    w.string("STATUS_CHANGE");
    w.string(to_string(m.change));
    w.inet(m.address);
}

void encode_response_message(byte_writer& w, protocol_version, const schema_change_event& m) {
    w.string("SCHEMA_CHANGE");
    write_schema_change(w, m.change);
}

void encode_response_message(byte_writer& w, protocol_version, const auth_challenge_response& m) {
    w.optional_bytes(m.token);
}

void encode_response_message(byte_writer& w, protocol_version, const auth_success_response& m) {
    w.optional_bytes(m.token);
}

std::size_t begin_response_frame(byte_buffer& out, protocol_version v, std::int16_t stream,
                                 opcode op, const body_prefix* prefix) {
    auto at = out.size();
    byte_writer w(out);
    frame_header h;
    h.version = v;
    h.is_response = true;
    h.flags = prefix ? prefix_flags(true, *prefix) : 0;
    h.stream = stream;
    h.op = op;
    encode_frame_header(w, h);
    if (prefix) write_body_prefix(w, true, *prefix);
    return at;
}

void end_response_frame(byte_buffer& out, std::size_t header_offset) {
    patch_frame_body_length(out, header_offset);
}

// ---------------------------------------------------------------------------------------
// rows_result_writer

rows_result_writer::rows_result_writer(byte_buffer& out, protocol_version v,
                                       const result_metadata& m)
    : out_(&out), count_at_(0), columns_(m.wire_column_count()) {
    byte_writer w(out);
    w.i32(static_cast<std::int32_t>(result_kind::rows));
    write_result_metadata(w, v, m);
    count_at_ = w.reserve_i32();
}

void rows_result_writer::add_cell(bytes_view data) {
    byte_writer(*out_).bytes(data);
    ++cells_;
}

void rows_result_writer::add_cell(const std::optional<bytes_view>& data) {
    byte_writer(*out_).optional_bytes(data);
    ++cells_;
}

void rows_result_writer::add_cell(const value_view& v) {
    if (v.state == value_view::kind::bytes)
        add_cell(v.data);
    else
        add_null();
}

void rows_result_writer::add_null() {
    byte_writer(*out_).null_bytes();
    ++cells_;
}

std::size_t rows_result_writer::begin_cell() {
    return byte_writer(*out_).reserve_i32();
}

void rows_result_writer::end_cell(std::size_t token) {
    byte_writer(*out_).patch_i32(token, static_cast<std::int32_t>(out_->size() - token - 4));
    ++cells_;
}

std::error_code rows_result_writer::finish() {
    std::int32_t rows = columns_ > 0 ? cells_ / columns_ : 0;
    byte_writer(*out_).patch_i32(count_at_, rows);
    if (columns_ > 0 ? cells_ % columns_ != 0 : cells_ != 0) return codec_errc::invalid_value;
    return {};
}

}  // namespace cql::protocol
