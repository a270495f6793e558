#pragma once
// Response messages of the CQL native protocol (v3, v4 and v5; native_protocol_v4.spec and
// native_protocol_v5.spec sections 4.2 and 9): one struct per message, the `response`
// variant that holds any of them, a decoder (the driver) and an encoder (cqlsim) that
// agree byte for byte.
//
// Lifetime: decoded messages hold views (std::string_view, bytes_view) into the frame body
// they were decoded from; the body buffer must outlive them. Only column types
// (data_type) and small vectors are owned.
//
// Rows are zero copy: a rows_result keeps a view of the rows area, validated once when it
// is decoded (every cell length fits), and rows()/cursor() walk rows and cells without
// allocating and without re-checking bounds.
//
// Decoding never throws for malformed input (it returns a codec_errc); it may throw
// std::bad_alloc like any container. Encoding cannot fail, except rows_result_writer's
// finish() which reports an incomplete last row.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "cql/protocol/bytes.hpp"
#include "cql/protocol/frame.hpp"
#include "cql/protocol/types.hpp"
#include "cql/protocol/version.hpp"

namespace cql::protocol {

// ---------------------------------------------------------------------------------------
// ERROR (section 4.2.1 and section 9)

enum class error_code : std::int32_t {
    server_error = 0x0000,
    protocol_error = 0x000A,
    bad_credentials = 0x0100,
    unavailable = 0x1000,
    overloaded = 0x1001,
    is_bootstrapping = 0x1002,
    truncate_error = 0x1003,
    write_timeout = 0x1100,
    read_timeout = 0x1200,
    read_failure = 0x1300,
    function_failure = 0x1400,
    write_failure = 0x1500,
    cdc_write_failure = 0x1600,
    cas_write_unknown = 0x1700,
    syntax_error = 0x2000,
    unauthorized = 0x2100,
    invalid = 0x2200,
    config_error = 0x2300,
    already_exists = 0x2400,
    unprepared = 0x2500,
};

/// Cassandra's ExceptionCode names, as it prints them ("WRITE_TIMEOUT"); "UNKNOWN" for a code
/// this list does not know.
std::string_view to_string(error_code c) noexcept;
/// The Java exception class Cassandra throws for the code ("WriteTimeoutException").
std::string_view exception_name(error_code c) noexcept;
bool is_known_error_code(std::int32_t c) noexcept;

/// Write types of write timeouts and failures. The message keeps the string as received;
/// parse_write_type maps it (unknown strings give write_type::unknown).
enum class write_type : std::uint8_t {
    simple,
    batch,
    unlogged_batch,
    counter,
    batch_log,
    cas,
    view,
    cdc,
    unknown,
};
write_type parse_write_type(std::string_view s) noexcept;
std::string_view to_string(write_type t) noexcept;  ///< "SIMPLE", "BATCH", ...

/// 0x1000 Unavailable: `<cl>``<required>``<alive>`
struct unavailable_info {
    consistency cl = consistency::one;  ///< consistency level of the request
    std::int32_t required = 0;          ///< replicas the consistency level required
    std::int32_t alive = 0;             ///< replicas known to be alive
    friend bool operator==(const unavailable_info&, const unavailable_info&) = default;
};

/// 0x1100 Write_timeout: `<cl>``<received>``<blockfor>``<writeType>`, and in v5 a [short]
/// `<contentions>` when writeType is "CAS".
struct write_timeout_info {
    consistency cl = consistency::one;  ///< consistency level of the request
    std::int32_t received = 0;          ///< replicas that answered
    std::int32_t block_for = 0;         ///< replicas the consistency level required (blockfor)
    std::string_view write_type;        ///< the writeType string (see parse_write_type)
    std::optional<std::int16_t> contentions;  ///< v5 and write_type "CAS" only
    friend bool operator==(const write_timeout_info&, const write_timeout_info&) = default;
};

/// 0x1200 Read_timeout: `<cl>``<received>``<blockfor>``<data_present>`
struct read_timeout_info {
    consistency cl = consistency::one;  ///< consistency level of the request
    std::int32_t received = 0;          ///< replicas that answered
    std::int32_t block_for = 0;         ///< replicas the consistency level required (blockfor)
    bool data_present = false;          ///< a byte on the wire: encoded as 0 or 1
    friend bool operator==(const read_timeout_info&, const read_timeout_info&) = default;
};

/// One entry of a v5 `<reasonmap>`: an [inetaddr] and a [short] failure code.
struct failure_reason {
    inet_address endpoint;   ///< the failing replica
    std::uint16_t code = 0;  ///< its failure code
    friend bool operator==(const failure_reason&, const failure_reason&) = default;
};

/// 0x1300 Read_failure. v4: `<cl>``<received>``<blockfor>``<numfailures>``<data_present>`;
/// v5: `<cl>``<received>``<blockfor>``<reasonmap>``<data_present>`.
/// Decoding v5 sets num_failures to the size of the reason map; encoding v4 writes
/// num_failures and ignores reasons, encoding v5 writes reasons and ignores num_failures.
struct read_failure_info {
    consistency cl = consistency::one;    ///< consistency level of the request
    std::int32_t received = 0;            ///< replicas that answered
    std::int32_t block_for = 0;           ///< replicas the consistency level required (blockfor)
    std::int32_t num_failures = 0;        ///< replicas that failed
    std::vector<failure_reason> reasons;  ///< v5: failure code per replica
    bool data_present = false;            ///< the replica asked for the data responded
    friend bool operator==(const read_failure_info&, const read_failure_info&) = default;
};

/// 0x1400 Function_failure: `<keyspace>``<function>``<arg_types>`
struct function_failure_info {
    std::string_view keyspace;                ///< keyspace of the function
    std::string_view function;                ///< the function name
    std::vector<std::string_view> arg_types;  ///< CQL types of the arguments
    friend bool operator==(const function_failure_info&, const function_failure_info&) = default;
};

/// 0x1500 Write_failure: like read failure, with `<writeType>` in place of `<data_present>`.
struct write_failure_info {
    consistency cl = consistency::one;    ///< consistency level of the request
    std::int32_t received = 0;            ///< replicas that answered
    std::int32_t block_for = 0;           ///< replicas the consistency level required (blockfor)
    std::int32_t num_failures = 0;        ///< replicas that failed
    std::vector<failure_reason> reasons;  ///< v5: failure code per replica
    std::string_view write_type;          ///< the writeType string (see parse_write_type)
    friend bool operator==(const write_failure_info&, const write_failure_info&) = default;
};

/// 0x1700 CAS_write_unknown: `<cl>``<received>``<blockfor>`
struct cas_write_unknown_info {
    consistency cl = consistency::serial;  ///< consistency level of the request
    std::int32_t received = 0;             ///< replicas that answered
    std::int32_t block_for = 0;            ///< replicas the consistency level required (blockfor)
    friend bool operator==(const cas_write_unknown_info&, const cas_write_unknown_info&) = default;
};

/// 0x2400 Already_exists: `<ks>``<table>` (table empty for a keyspace).
struct already_exists_info {
    std::string_view keyspace;  ///< the keyspace
    std::string_view table;     ///< the table, empty when the keyspace exists
    friend bool operator==(const already_exists_info&, const already_exists_info&) = default;
};

/// 0x2500 Unprepared: [short bytes] id.
struct unprepared_info {
    bytes_view id;  ///< the unknown prepared statement id
    friend bool operator==(const unprepared_info& a, const unprepared_info& b) noexcept {
        return std::equal(a.id.begin(), a.id.end(), b.id.begin(), b.id.end());
    }
};

/// The bytes after `<message>` of an error code this library does not know (kept so the
/// message re-encodes identically).
struct unknown_error_info {
    bytes_view rest;  ///< the bytes after the message
    friend bool operator==(const unknown_error_info& a, const unknown_error_info& b) noexcept {
        return std::equal(a.rest.begin(), a.rest.end(), b.rest.begin(), b.rest.end());
    }
};

/// monostate: the code carries no extra fields (server error, protocol error, syntax, ...).
using error_details =
    std::variant<std::monostate, unavailable_info, write_timeout_info, read_timeout_info,
                 read_failure_info, function_failure_info, write_failure_info,
                 cas_write_unknown_info, already_exists_info, unprepared_info, unknown_error_info>;

/// ERROR: an error code, its message and the code's extra fields (4.2.1).
struct error_response {
    static constexpr opcode op = opcode::error;  ///< the message's opcode
    error_code code = error_code::server_error;  ///< may hold a value not listed in the enum
    std::string_view message;                    ///< the error message
    /// Decoding fills the alternative that belongs to `code`. Encoding writes code, message
    /// and then whatever alternative `details` holds: the caller pairs them.
    error_details details;
};

// ---------------------------------------------------------------------------------------
// READY, AUTHENTICATE, SUPPORTED, AUTH_CHALLENGE, AUTH_SUCCESS (4.2.2-4.2.4, 4.2.7, 4.2.8)

/// READY: the connection is ready for queries.
struct ready_response {
    static constexpr opcode op = opcode::ready;  ///< the message's opcode
};

/// AUTHENTICATE: the server requires SASL authentication.
struct authenticate_response {
    static constexpr opcode op = opcode::authenticate;  ///< the message's opcode
    std::string_view authenticator;                     ///< IAuthenticator class name
};

/// SUPPORTED: the STARTUP options the server supports.
struct supported_response {
    static constexpr opcode op = opcode::supported;  ///< the message's opcode
    std::vector<std::pair<std::string_view, std::vector<std::string_view>>>
        options;  ///< option name and its values

    /// The values of one option, or nullptr.
    const std::vector<std::string_view>* find(std::string_view key) const noexcept;
};

/// AUTH_CHALLENGE: a SASL challenge.
struct auth_challenge_response {
    static constexpr opcode op = opcode::auth_challenge;  ///< the message's opcode
    std::optional<bytes_view> token;                      ///< nullopt: a null [bytes]
};

/// AUTH_SUCCESS: authentication completed.
struct auth_success_response {
    static constexpr opcode op = opcode::auth_success;  ///< the message's opcode
    std::optional<bytes_view> token;                    ///< nullopt: a null [bytes]
};

// ---------------------------------------------------------------------------------------
// RESULT (4.2.5)

enum class result_kind : std::int32_t {
    void_ = 0x0001,
    rows = 0x0002,
    set_keyspace = 0x0003,
    prepared = 0x0004,
    schema_change = 0x0005,
};

namespace rows_flags {
inline constexpr std::int32_t global_tables_spec = 0x0001;
inline constexpr std::int32_t has_more_pages = 0x0002;
inline constexpr std::int32_t no_metadata = 0x0004;
inline constexpr std::int32_t metadata_changed = 0x0008;  ///< v5
}  // namespace rows_flags

/// A keyspace and table name.
struct table_spec {
    std::string_view keyspace;  ///< keyspace name
    std::string_view table;     ///< table name
    friend bool operator==(const table_spec&, const table_spec&) = default;
};

/// A column of a result, or a bind marker of a prepared statement. keyspace and table are
/// filled from the global table spec when there is one.
struct column_spec {
    std::string_view keyspace;  ///< keyspace name
    std::string_view table;     ///< table name
    std::string_view name;      ///< column (or bind marker) name
    data_type type;             ///< its CQL type
    friend bool operator==(const column_spec&, const column_spec&) = default;
};

/// `<metadata>` of a Rows result, also the `<result_metadata>` of a Prepared result:
///   `<flags>``<columns_count>`[`<paging_state>`][`<new_metadata_id>`]
///   [`<global_table_spec>`?`<col_spec_1>`...`<col_spec_n>`]
/// The wire flags follow from the fields (see wire_flags). Unknown flag bits, and
/// Metadata_changed before v5, are rejected: the layout after them would be unknown.
/// Cassandra sets Global_tables_spec together with No_metadata when the client asked to
/// skip metadata, so the two are independent here.
struct result_metadata {
    /// Decoding sets it in every case. Encoding writes columns.size() instead unless
    /// no_metadata (see wire_column_count).
    std::int32_t column_count = 0;
    bool no_metadata = false;                ///< No_metadata: no table spec and no columns follow
    bool global_tables_spec = false;         ///< Global_tables_spec flag
    table_spec global_spec;                  ///< when global_tables_spec && !no_metadata
    std::optional<bytes_view> paging_state;  ///< [bytes]; Has_more_pages iff engaged
    std::optional<bytes_view> new_metadata_id;  ///< [short bytes]; v5 Metadata_changed iff engaged
    std::vector<column_spec> columns;           ///< column_count entries unless no_metadata

    /// The metadata flags these fields give on the wire.
    std::int32_t wire_flags() const noexcept;
    /// The columns_count written: column_count when no_metadata, else columns.size().
    std::int32_t wire_column_count() const noexcept;
};

/// `<metadata>` of a Prepared result (the bind markers):
///   `<flags>``<columns_count>``<pk_count>`[`<pk_index_1>`...`<pk_index_n>`]
///   [`<global_table_spec>`?`<col_spec_1>`...`<col_spec_n>`]
/// pk_count and pk indexes exist from protocol v4 on (v3 has neither). columns_count is
/// columns.size().
struct prepared_metadata {
    bool global_tables_spec = false;  ///< Global_tables_spec flag
    table_spec global_spec;           ///< when global_tables_spec
    std::vector<std::uint16_t>
        pk_indexes;                    ///< bind marker index of each partition key column (v4+)
    std::vector<column_spec> columns;  ///< one entry per bind marker
};

/// RESULT Void.
struct void_result {
    static constexpr opcode op = opcode::result;  ///< the message's opcode
};

/// RESULT Set_keyspace: the answer to USE.
struct set_keyspace_result {
    static constexpr opcode op = opcode::result;  ///< the message's opcode
    std::string_view keyspace;                    ///< the keyspace now in use
};

namespace detail {
/// Reads one validated [bytes] cell and advances p. Only for validated rows content.
inline value_view read_validated_cell(const std::uint8_t*& p) noexcept {
    auto n = static_cast<std::int32_t>((std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) |
                                       (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]});
    p += 4;
    if (n < 0) return value_view::null();
    auto v = value_view::of(bytes_view{p, static_cast<std::size_t>(n)});
    p += n;
    return v;
}
}  // namespace detail

/// One row: `columns` cells starting at `data`. Iterating yields value_view (null for a
/// negative length; never not_set).
class row_view {
  public:
    /// Forward iterator over the cells.
    class iterator {
      public:
        ///@{
        /// Forward iterator members (the end iterator has no cells left).
        using value_type = value_view;
        using difference_type = std::ptrdiff_t;
        iterator() = default;
        iterator(const std::uint8_t* p, std::int32_t left) noexcept : p_(p), left_(left) {}
        value_view operator*() const noexcept {
            auto p = p_;
            return detail::read_validated_cell(p);
        }
        iterator& operator++() noexcept {
            (void)detail::read_validated_cell(p_);
            --left_;
            return *this;
        }
        iterator operator++(int) noexcept {
            auto old = *this;
            ++*this;
            return old;
        }
        friend bool operator==(const iterator& a, const iterator& b) noexcept {
            return a.left_ == b.left_;
        }
        ///@}

      private:
        const std::uint8_t* p_ = nullptr;
        std::int32_t left_ = 0;
    };

    row_view() = default;
    /// A row of `columns` validated cells at `data` (see validate_rows_content).
    row_view(const std::uint8_t* data, std::int32_t columns) noexcept
        : data_(data), columns_(columns) {}

    /// Cells in the row.
    std::size_t size() const noexcept { return static_cast<std::size_t>(columns_); }
    ///@{
    /// The cells, in column order.
    iterator begin() const noexcept { return {data_, columns_}; }
    iterator end() const noexcept { return {nullptr, 0}; }
    ///@}
    /// The i-th cell (walks the cells before it). Precondition: i < size().
    value_view operator[](std::size_t i) const noexcept {
        auto p = data_;
        for (std::size_t k = 0; k < i; ++k)
            (void)detail::read_validated_cell(p);
        return detail::read_validated_cell(p);
    }

  private:
    const std::uint8_t* data_ = nullptr;
    std::int32_t columns_ = 0;
};

/// The rows of a rows_result, as a forward range of row_view.
class rows_range {
  public:
    /// Forward iterator over the rows.
    class iterator {
      public:
        ///@{
        /// Forward iterator members (the end iterator has no rows left).
        using value_type = row_view;
        using difference_type = std::ptrdiff_t;
        iterator() = default;
        iterator(const std::uint8_t* p, std::int32_t columns, std::int32_t left) noexcept
            : p_(p), columns_(columns), left_(left) {}
        row_view operator*() const noexcept { return {p_, columns_}; }
        iterator& operator++() noexcept {
            for (std::int32_t i = 0; i < columns_; ++i)
                (void)detail::read_validated_cell(p_);
            --left_;
            return *this;
        }
        iterator operator++(int) noexcept {
            auto old = *this;
            ++*this;
            return old;
        }
        friend bool operator==(const iterator& a, const iterator& b) noexcept {
            return a.left_ == b.left_;
        }
        ///@}

      private:
        const std::uint8_t* p_ = nullptr;
        std::int32_t columns_ = 0;
        std::int32_t left_ = 0;
    };

    rows_range() = default;
    /// `rows` rows of `columns` validated cells at `data`.
    rows_range(const std::uint8_t* data, std::int32_t columns, std::int32_t rows) noexcept
        : data_(data), columns_(columns), rows_(rows) {}
    ///@{
    /// The rows, in order.
    iterator begin() const noexcept { return {data_, columns_, rows_}; }
    iterator end() const noexcept { return {nullptr, columns_, 0}; }
    ///@}
    /// Number of rows.
    std::size_t size() const noexcept { return static_cast<std::size_t>(rows_); }
    /// True without rows.
    bool empty() const noexcept { return rows_ == 0; }

  private:
    const std::uint8_t* data_ = nullptr;
    std::int32_t columns_ = 0;
    std::int32_t rows_ = 0;
};

/// The fastest walk: every cell in row-major order.
///   auto c = rows.cursor();
///   while (c.next_row()) for (int i = 0; i < columns; ++i) value_view v = c.next_cell();
class rows_cursor {
  public:
    rows_cursor() = default;
    /// `rows` rows of `columns` validated cells at `data`.
    rows_cursor(const std::uint8_t* data, std::int32_t columns, std::int32_t rows) noexcept
        : p_(data), columns_(columns), rows_left_(rows) {}
    /// Starts the next row; false when there is none. Cells of the previous row that were not
    /// read are skipped.
    bool next_row() noexcept {
        for (; cells_left_ > 0; --cells_left_)
            (void)detail::read_validated_cell(p_);
        if (rows_left_ == 0) return false;
        --rows_left_;
        cells_left_ = columns_;
        return true;
    }
    /// The next cell of the current row. Precondition: fewer than `columns` cells read in it.
    value_view next_cell() noexcept {
        --cells_left_;
        return detail::read_validated_cell(p_);
    }

  private:
    const std::uint8_t* p_ = nullptr;
    std::int32_t columns_ = 0;
    std::int32_t rows_left_ = 0;
    std::int32_t cells_left_ = 0;
};

/// RESULT Rows: metadata and the rows, as views into the body.
struct rows_result {
    static constexpr opcode op = opcode::result;  ///< the message's opcode
    result_metadata metadata;                     ///< the column metadata
    std::int32_t row_count = 0;                   ///< rows in rows_content
    /// `<rows_content>`: row_count * metadata.column_count [bytes], checked at decode time.
    /// The encoder copies it verbatim, so a valid area must be given.
    bytes_view rows_content;

    /// Columns per row.
    std::int32_t column_count() const noexcept { return metadata.column_count; }
    /// The rows, as a range of row_view.
    rows_range rows() const noexcept {
        return {rows_content.data(), metadata.column_count, row_count};
    }
    /// A cursor over every cell (see rows_cursor).
    rows_cursor cursor() const noexcept {
        return {rows_content.data(), metadata.column_count, row_count};
    }
};

/// Checks that `content` holds exactly `rows` * `columns` [bytes] (each length within the
/// buffer). rows_result decoding calls it; exposed for callers that build a rows_result.
std::error_code validate_rows_content(bytes_view content, std::int32_t rows,
                                      std::int32_t columns) noexcept;

/// RESULT Prepared: the id, bind markers and result columns.
struct prepared_result {
    static constexpr opcode op = opcode::result;  ///< the message's opcode
    bytes_view id;                                ///< [short bytes]
    bytes_view result_metadata_id;  ///< [short bytes], v5 only (ignored by v3/v4 encoding)
    prepared_metadata metadata;     ///< bind markers
    result_metadata result;         ///< columns a SELECT returns; often No_metadata
};

/// The body shared by the Schema_change result and the SCHEMA_CHANGE event:
///   `<change_type>``<target>``<options>`
enum class schema_change_type : std::uint8_t { created, updated, dropped };
/// The kind of schema element a change concerns.
enum class schema_change_target : std::uint8_t { keyspace, table, type, function, aggregate };
std::string_view to_string(schema_change_type t) noexcept;    ///< "CREATED", ...
std::string_view to_string(schema_change_target t) noexcept;  ///< "KEYSPACE", ...

/// What a schema change concerns.
struct schema_change {
    schema_change_type change = schema_change_type::created;  ///< what changed
    schema_change_target target =
        schema_change_target::keyspace;  ///< what kind of schema element changed
    std::string_view keyspace;           ///< the keyspace changed or holding the element
    std::string_view name;               ///< table/type/function/aggregate; empty for a keyspace
    std::vector<std::string_view> arg_types;  ///< function/aggregate only
    friend bool operator==(const schema_change&, const schema_change&) = default;
};

/// RESULT Schema_change: the answer to a schema-altering statement.
struct schema_change_result {
    static constexpr opcode op = opcode::result;  ///< the message's opcode
    schema_change change;                         ///< the change
};

// ---------------------------------------------------------------------------------------
// EVENT (4.2.6). Servers send them with stream -1.

/// MOVED_NODE is not in the spec but Cassandra's server code still defines it.
enum class topology_change_type : std::uint8_t { new_node, removed_node, moved_node };
/// STATUS_CHANGE: a node came up or went down.
enum class status_change_type : std::uint8_t { up, down };
std::string_view to_string(topology_change_type t) noexcept;  ///< "NEW_NODE", ...
std::string_view to_string(status_change_type t) noexcept;    ///< "UP", "DOWN"

/// EVENT TOPOLOGY_CHANGE: a node joined, left or moved.
struct topology_change_event {
    static constexpr opcode op = opcode::event;                    ///< the message's opcode
    topology_change_type change = topology_change_type::new_node;  ///< what changed
    inet_address address;                                          ///< [inet]: address and port
};

/// EVENT STATUS_CHANGE: a node came up or went down.
struct status_change_event {
    static constexpr opcode op = opcode::event;          ///< the message's opcode
    status_change_type change = status_change_type::up;  ///< what changed
    inet_address address;                                ///< [inet]: address and port
};

/// EVENT SCHEMA_CHANGE: the schema changed.
struct schema_change_event {
    static constexpr opcode op = opcode::event;  ///< the message's opcode
    schema_change change;                        ///< the change
};

// ---------------------------------------------------------------------------------------
// Any response

/// Any response message.
using response =
    std::variant<error_response, ready_response, authenticate_response, supported_response,
                 void_result, rows_result, set_keyspace_result, prepared_result,
                 schema_change_result, topology_change_event, status_change_event,
                 schema_change_event, auth_challenge_response, auth_success_response>;

/// The opcode of the message held.
opcode response_opcode(const response& r) noexcept;

/// Decodes a whole response frame whose body is uncompressed (decompress first: the
/// compression flag itself is ignored here). Reads the tracing id / warnings / custom
/// payload that the header flags announce into `prefix`, then the message. Errors:
/// unexpected_direction for a request frame or a request opcode, trailing_bytes when the
/// message is followed by more bytes, truncated / invalid_length / invalid_value /
/// unknown_type for malformed contents.
std::error_code decode_response(const frame_view& f, response& out, body_prefix& prefix);

/// Decodes a message body that starts after the prefix.
std::error_code decode_response_message(protocol_version v, opcode op, bytes_view message,
                                        response& out);

/// Appends the message body (without frame header and prefix).
void encode_response_message(byte_writer& w, protocol_version v, const response& r);
void encode_response_message(byte_writer& w, protocol_version v, const error_response& m);
void encode_response_message(byte_writer& w, protocol_version v, const ready_response& m);
void encode_response_message(byte_writer& w, protocol_version v, const authenticate_response& m);
void encode_response_message(byte_writer& w, protocol_version v, const supported_response& m);
void encode_response_message(byte_writer& w, protocol_version v, const void_result& m);
void encode_response_message(byte_writer& w, protocol_version v, const rows_result& m);
void encode_response_message(byte_writer& w, protocol_version v, const set_keyspace_result& m);
void encode_response_message(byte_writer& w, protocol_version v, const prepared_result& m);
void encode_response_message(byte_writer& w, protocol_version v, const schema_change_result& m);
void encode_response_message(byte_writer& w, protocol_version v, const topology_change_event& m);
void encode_response_message(byte_writer& w, protocol_version v, const status_change_event& m);
void encode_response_message(byte_writer& w, protocol_version v, const schema_change_event& m);
void encode_response_message(byte_writer& w, protocol_version v, const auth_challenge_response& m);
void encode_response_message(byte_writer& w, protocol_version v, const auth_success_response& m);

/// Appends a frame header (response bit set, flags from the prefix) and the prefix; returns
/// the offset of the header, to hand to end_response_frame once the message is appended.
std::size_t begin_response_frame(byte_buffer& out, protocol_version v, std::int16_t stream,
                                 opcode op, const body_prefix* prefix = nullptr);
/// Patches the body length of the frame begun at `header_offset`.
void end_response_frame(byte_buffer& out, std::size_t header_offset);

/// Appends a whole response frame (uncompressed).
template <class Message>
requires requires(byte_writer& w, const Message& m) {
    encode_response_message(w, protocol_version::v4, m);
}
void encode_response_frame(byte_buffer& out, protocol_version v, std::int16_t stream,
                           const Message& m, const body_prefix* prefix = nullptr) {
    opcode op;
    if constexpr (std::is_same_v<Message, response>)
        op = response_opcode(m);
    else
        op = Message::op;
    auto at = begin_response_frame(out, v, stream, op, prefix);
    byte_writer w(out);
    encode_response_message(w, v, m);
    end_response_frame(out, at);
}

/// Metadata encoders, for callers that assemble messages themselves.
void write_result_metadata(byte_writer& w, protocol_version v, const result_metadata& m);
void write_prepared_metadata(byte_writer& w, protocol_version v, const prepared_metadata& m);
void write_schema_change(byte_writer& w, const schema_change& c);

/// Builds a Rows result body cell by cell, straight into the output buffer (cqlsim). The
/// constructor appends the kind, the metadata and a row count placeholder; cells follow in
/// row-major order; finish() patches the row count.
///
///   auto at = begin_response_frame(out, v, stream, opcode::result);
///   rows_result_writer rw(out, v, metadata);
///   rw.add_cell(as_bytes("k1")); rw.add_null(); ...
///   rw.finish();
///   end_response_frame(out, at);
class rows_result_writer {
  public:
    /// Appends the Rows kind, `m` and a row count placeholder to `out`.
    rows_result_writer(byte_buffer& out, protocol_version v, const result_metadata& m);

    ///@{
    /// Appends a cell: bytes, or null for nullopt.
    void add_cell(bytes_view data);
    void add_cell(const std::optional<bytes_view>& data);
    ///@}
    void add_cell(const value_view& v);  ///< not_set is written as null
    /// Appends a null cell.
    void add_null();
    /// For a cell serialized directly into the buffer (e.g. by encode_value):
    ///   auto c = rw.begin_cell(); encode_value(t, v, out); rw.end_cell(c);
    std::size_t begin_cell();
    /// Ends the cell begun by begin_cell (writes its length).
    void end_cell(std::size_t token);

    /// Cells appended so far.
    std::int32_t cells() const noexcept { return cells_; }
    /// Patches the row count. invalid_value if the cells do not fill whole rows (the count
    /// written is then the number of whole rows).
    std::error_code finish();

  private:
    byte_buffer* out_;
    std::size_t count_at_;
    std::int32_t columns_;
    std::int32_t cells_ = 0;
};

}  // namespace cql::protocol
