#pragma once
// Reading and writing the primitive notations of the CQL native protocol
// ([int], [long], [short], [string], [long string], [bytes], [value], [short bytes],
// [string list], [string map], [string multimap], [bytes map], [uuid], [inet],
// [inetaddr], [unsigned vint], [vint]).
//
// byte_reader has a sticky error: the first malformed or truncated read records an
// error and every later read returns an empty value, so decoders read a whole message
// and check once at the end. Views it returns point into the input buffer.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "cql/protocol/errc.hpp"

namespace cql::protocol {

using bytes_view = std::span<const std::uint8_t>;
using byte_buffer = std::vector<std::uint8_t>;

inline bytes_view as_bytes(std::string_view s) noexcept {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
inline std::string_view as_string_view(bytes_view b) noexcept {
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}

/// A 16-byte UUID in network order, as it appears on the wire.
using uuid_bytes = std::array<std::uint8_t, 16>;

/// An IPv4 (4 bytes) or IPv6 (16 bytes) address with an optional port.
struct inet_address {
    /// The address in network order; only the first `size` bytes count.
    std::array<std::uint8_t, 16> bytes{};
    std::uint8_t size = 0;  ///< 4 or 16
    /// The port of an [inet]; 0 for an [inetaddr].
    std::int32_t port = 0;

    /// The `size` address bytes.
    bytes_view address() const noexcept { return {bytes.data(), size}; }
    friend bool operator==(const inet_address& a, const inet_address& b) noexcept {
        return a.size == b.size && a.port == b.port &&
               std::memcmp(a.bytes.data(), b.bytes.data(), a.size) == 0;
    }
};

/// A [value]: bytes, null (length -1) or not set (length -2, protocol v4+).
struct value_view {
    /// Which of the three a [value] is.
    enum class kind : std::uint8_t { bytes, null, not_set };
    /// Bytes, null or not set.
    kind state = kind::null;
    /// The bytes when state is kind::bytes (else empty).
    bytes_view data{};

    /// A null value (length -1).
    static value_view null() noexcept { return {kind::null, {}}; }
    /// A not-set value (length -2).
    static value_view unset() noexcept { return {kind::not_set, {}}; }
    /// A value holding `b`.
    static value_view of(bytes_view b) noexcept { return {kind::bytes, b}; }
    /// True for a null value.
    bool is_null() const noexcept { return state == kind::null; }
    /// True for a not-set value.
    bool is_unset() const noexcept { return state == kind::not_set; }
    friend bool operator==(const value_view& a, const value_view& b) noexcept {
        return a.state == b.state &&
               std::equal(a.data.begin(), a.data.end(), b.data.begin(), b.data.end());
    }
};

/// A [string] pair of a [string map].
using string_pair = std::pair<std::string_view, std::string_view>;

/// Reads the protocol notations of spec section 3 ([short], [string], [bytes], ...)
/// from a byte span, big-endian. The error is sticky: after the first failure
/// (truncated, invalid_length, ...) every read returns an empty or zero value, so a
/// decoder reads a whole message and checks error() once.
class byte_reader {
  public:
    /// An empty reader.
    byte_reader() = default;
    /// Reads `data`, which must outlive the views the reader returns.
    explicit byte_reader(bytes_view data) noexcept : data_(data) {}

    /// The first error (empty while none).
    std::error_code error() const noexcept { return error_; }
    /// True while no read failed.
    bool ok() const noexcept { return !error_; }
    /// Bytes consumed so far.
    std::size_t position() const noexcept { return pos_; }
    /// Bytes left (0 after an error).
    std::size_t remaining() const noexcept { return error_ ? 0 : data_.size() - pos_; }
    /// The bytes left, not consumed (empty after an error).
    bytes_view rest() const noexcept { return error_ ? bytes_view{} : data_.subspan(pos_); }

    /// Records the first error only; later calls keep it.
    void fail(codec_errc e) noexcept {
        if (!error_) error_ = e;
    }
    /// Reports trailing_bytes unless every byte was consumed.
    std::error_code finish() noexcept {
        if (!error_ && pos_ != data_.size()) fail(codec_errc::trailing_bytes);
        return error_;
    }

    /// The next `n` bytes (truncated if fewer are left).
    bytes_view raw(std::size_t n) noexcept {
        if (error_) return {};
        if (data_.size() - pos_ < n) {
            fail(codec_errc::truncated);
            return {};
        }
        auto out = data_.subspan(pos_, n);
        pos_ += n;
        return out;
    }
    /// Skips `n` bytes.
    void skip(std::size_t n) noexcept { (void)raw(n); }

    ///@{
    /// [byte], [short] (unsigned), [short] as signed, [int], [int] as unsigned, [long]:
    /// big-endian; 0 after an error.
    std::uint8_t u8() noexcept { return static_cast<std::uint8_t>(be<1>()); }
    std::uint16_t u16() noexcept { return static_cast<std::uint16_t>(be<2>()); }
    std::int16_t i16() noexcept { return static_cast<std::int16_t>(be<2>()); }
    std::int32_t i32() noexcept { return static_cast<std::int32_t>(be<4>()); }
    std::uint32_t u32() noexcept { return static_cast<std::uint32_t>(be<4>()); }
    std::int64_t i64() noexcept { return static_cast<std::int64_t>(be<8>()); }
    ///@}

    /// [string]: a [short] length, then UTF-8 bytes (a view into the input).
    std::string_view string() noexcept { return as_string_view(raw(u16())); }
    /// [long string]: an [int] length, then the bytes; a negative length is invalid.
    std::string_view long_string() noexcept {
        auto n = i32();
        if (n < 0) {
            fail(codec_errc::invalid_length);
            return {};
        }
        return as_string_view(raw(static_cast<std::size_t>(n)));
    }
    /// [bytes]: nullopt for a null (negative length).
    std::optional<bytes_view> bytes() noexcept {
        auto n = i32();
        if (error_) return bytes_view{};
        if (n < 0) return std::nullopt;
        return raw(static_cast<std::size_t>(n));
    }
    /// [value]: -1 is null, -2 is not set; other negative lengths are malformed.
    value_view value() noexcept {
        auto n = i32();
        if (error_) return {};
        if (n == -1) return value_view::null();
        if (n == -2) return value_view::unset();
        if (n < 0) {
            fail(codec_errc::invalid_length);
            return {};
        }
        return value_view::of(raw(static_cast<std::size_t>(n)));
    }
    /// [short bytes]: a [short] length, then the bytes.
    bytes_view short_bytes() noexcept { return raw(u16()); }
    /// [uuid]: 16 bytes.
    uuid_bytes uuid() noexcept {
        uuid_bytes out{};
        auto b = raw(16);
        if (!b.empty()) std::memcpy(out.data(), b.data(), 16);
        return out;
    }
    /// [inetaddr]: one byte of size (4 or 16), then the address.
    inet_address inetaddr() noexcept {
        inet_address out;
        auto n = u8();
        if (error_) return out;
        if (n != 4 && n != 16) {
            fail(codec_errc::invalid_value);
            return out;
        }
        auto b = raw(n);
        if (error_) return out;
        out.size = n;
        std::memcpy(out.bytes.data(), b.data(), n);
        return out;
    }
    /// [inet]: [inetaddr] followed by an [int] port.
    inet_address inet() noexcept {
        auto out = inetaddr();
        out.port = i32();
        return out;
    }

    /// Lists whose element count comes from the wire are bounded by the bytes left
    /// (every element needs at least `min_element_size` bytes), so a hostile count
    /// cannot make us reserve unbounded memory.
    bool plausible_count(std::size_t count, std::size_t min_element_size) noexcept {
        if (error_) return false;
        if (count * min_element_size > remaining()) {
            fail(codec_errc::truncated);
            return false;
        }
        return true;
    }

    /// [string list]: a [short] count, then that many [string].
    std::vector<std::string_view> string_list() {
        std::vector<std::string_view> out;
        auto n = u16();
        if (!plausible_count(n, 2)) return out;
        out.reserve(n);
        for (std::uint16_t i = 0; i < n && ok(); ++i)
            out.push_back(string());
        return out;
    }
    /// [string map]: a [short] count, then that many [string] key and [string] value.
    std::vector<string_pair> string_map() {
        std::vector<string_pair> out;
        auto n = u16();
        if (!plausible_count(n, 4)) return out;
        out.reserve(n);
        for (std::uint16_t i = 0; i < n && ok(); ++i) {
            auto k = string();
            auto v = string();
            out.emplace_back(k, v);
        }
        return out;
    }
    /// [string multimap]: a [short] count, then [string] keys, each with a [string list].
    std::vector<std::pair<std::string_view, std::vector<std::string_view>>> string_multimap() {
        std::vector<std::pair<std::string_view, std::vector<std::string_view>>> out;
        auto n = u16();
        if (!plausible_count(n, 4)) return out;
        out.reserve(n);
        for (std::uint16_t i = 0; i < n && ok(); ++i) {
            auto k = string();
            auto v = string_list();
            out.emplace_back(k, std::move(v));
        }
        return out;
    }
    /// [bytes map]: values may be null (then data is empty and state is null).
    std::vector<std::pair<std::string_view, value_view>> bytes_map() {
        std::vector<std::pair<std::string_view, value_view>> out;
        auto n = u16();
        if (!plausible_count(n, 6)) return out;
        out.reserve(n);
        for (std::uint16_t i = 0; i < n && ok(); ++i) {
            auto k = string();
            auto v = bytes();
            out.emplace_back(k, v ? value_view::of(*v) : value_view::null());
        }
        return out;
    }

    /// [unsigned vint] as defined by the v5 spec: the number of leading 1 bits of the
    /// first byte is the number of extra bytes; at most 8 extra bytes.
    std::uint64_t unsigned_vint() noexcept {
        auto first = u8();
        if (error_) return 0;
        int extra = 0;
        while (extra < 8 && (first & (0x80 >> extra)))
            ++extra;
        std::uint64_t v = extra == 8 ? 0 : (first & (0xFF >> (extra + 1)));
        auto rest_bytes = raw(static_cast<std::size_t>(extra));
        for (auto b : rest_bytes)
            v = (v << 8) | b;
        return v;
    }
    /// [vint]: zig-zag encoded signed integer.
    std::int64_t vint() noexcept {
        auto u = unsigned_vint();
        return static_cast<std::int64_t>((u >> 1) ^ (~(u & 1) + 1));
    }

  private:
    template <std::size_t N>
    std::uint64_t be() noexcept {
        auto b = raw(N);
        if (b.empty()) return 0;
        std::uint64_t v = 0;
        for (std::size_t i = 0; i < N; ++i)
            v = (v << 8) | b[i];
        return v;
    }

    bytes_view data_{};
    std::size_t pos_ = 0;
    std::error_code error_{};
};

/// Appends protocol notations to a byte buffer. Writing cannot fail; lengths that do
/// not fit their field are the caller's bug and are clamped only by the encoders that
/// validate them first.
class byte_writer {
  public:
    /// Appends to `out`, which must outlive the writer.
    explicit byte_writer(byte_buffer& out) noexcept : out_(&out) {}

    /// The buffer written to.
    byte_buffer& buffer() noexcept { return *out_; }
    /// Bytes in the buffer (also those written before this writer).
    std::size_t size() const noexcept { return out_->size(); }

    ///@{
    /// Appends bytes as they are.
    void raw(bytes_view b) { append(b.data(), b.size()); }
    void raw(std::string_view s) { raw(as_bytes(s)); }
    ///@}
    ///@{
    /// [byte], [short] (unsigned), [short], [int], [int] as unsigned, [long]: big-endian.
    void u8(std::uint8_t v) { out_->push_back(v); }
    void u16(std::uint16_t v) { be<2>(v); }
    void i16(std::int16_t v) { be<2>(static_cast<std::uint16_t>(v)); }
    void i32(std::int32_t v) { be<4>(static_cast<std::uint32_t>(v)); }
    void u32(std::uint32_t v) { be<4>(v); }
    void i64(std::int64_t v) { be<8>(static_cast<std::uint64_t>(v)); }
    ///@}

    /// [string]: a [short] length, then the bytes.
    void string(std::string_view s) {
        u16(static_cast<std::uint16_t>(s.size()));
        raw(s);
    }
    /// [long string]: an [int] length, then the bytes.
    void long_string(std::string_view s) {
        i32(static_cast<std::int32_t>(s.size()));
        raw(s);
    }
    /// [bytes]: an [int] length, then the bytes.
    void bytes(bytes_view b) {
        i32(static_cast<std::int32_t>(b.size()));
        raw(b);
    }
    /// A null [bytes] (length -1).
    void null_bytes() { i32(-1); }
    /// [bytes], null for nullopt.
    void optional_bytes(const std::optional<bytes_view>& b) {
        if (b)
            bytes(*b);
        else
            null_bytes();
    }
    /// [value]: bytes, null (-1) or not set (-2).
    void value(const value_view& v) {
        switch (v.state) {
            case value_view::kind::bytes:
                bytes(v.data);
                break;
            case value_view::kind::null:
                i32(-1);
                break;
            case value_view::kind::not_set:
                i32(-2);
                break;
        }
    }
    /// [short bytes]: a [short] length, then the bytes.
    void short_bytes(bytes_view b) {
        u16(static_cast<std::uint16_t>(b.size()));
        raw(b);
    }
    /// [uuid]: 16 bytes.
    void uuid(const uuid_bytes& u) { raw(bytes_view{u.data(), u.size()}); }
    /// [inetaddr]: size byte, then the address.
    void inetaddr(const inet_address& a) {
        u8(a.size);
        raw(a.address());
    }
    /// [inet]: [inetaddr], then an [int] port.
    void inet(const inet_address& a) {
        inetaddr(a);
        i32(a.port);
    }
    template <class Range>
    /// [string list] of a sized range of strings.
    void string_list(const Range& list) {
        u16(static_cast<std::uint16_t>(std::size(list)));
        for (const auto& s : list)
            string(s);
    }
    template <class Range>
    /// [string map] of a sized range of (key, value) string pairs.
    void string_map(const Range& map) {
        u16(static_cast<std::uint16_t>(std::size(map)));
        for (const auto& [k, v] : map) {
            string(k);
            string(v);
        }
    }
    template <class Range>
    /// [string multimap] of a sized range of (key, string list) pairs.
    void string_multimap(const Range& map) {
        u16(static_cast<std::uint16_t>(std::size(map)));
        for (const auto& [k, v] : map) {
            string(k);
            string_list(v);
        }
    }
    template <class Range>
    /// [bytes map] of a sized range of (string key, value_view) pairs.
    void bytes_map(const Range& map) {
        u16(static_cast<std::uint16_t>(std::size(map)));
        for (const auto& [k, v] : map) {
            string(k);
            value(v);
        }
    }
    /// [unsigned vint] (v5): 1 to 9 bytes, leading 1 bits count the extra bytes.
    void unsigned_vint(std::uint64_t v) {
        // Number of significant bits decides how many extra bytes follow the first.
        int extra = 0;
        while (extra < 8 && (v >> (7 * (extra + 1))) != 0)
            ++extra;
        if (extra == 8) {
            u8(0xFF);
            be<8>(v);
            return;
        }
        std::uint8_t buf[9];
        for (int i = extra; i >= 0; --i) {
            buf[i] = static_cast<std::uint8_t>(v & 0xFF);
            v >>= 8;
        }
        buf[0] |= static_cast<std::uint8_t>(~(0xFF >> extra));
        raw(bytes_view{buf, static_cast<std::size_t>(extra + 1)});
    }
    /// [vint] (v5): zig-zag encoded, then as unsigned_vint.
    void vint(std::int64_t v) {
        unsigned_vint((static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63));
    }

    /// Reserves a 4-byte length to be filled by patch_i32 once the contents are known.
    std::size_t reserve_i32() {
        auto at = out_->size();
        out_->resize(at + 4);
        return at;
    }
    /// Writes an [int] at offset `at` (from reserve_i32).
    void patch_i32(std::size_t at, std::int32_t v) {
        auto u = static_cast<std::uint32_t>(v);
        (*out_)[at] = static_cast<std::uint8_t>(u >> 24);
        (*out_)[at + 1] = static_cast<std::uint8_t>(u >> 16);
        (*out_)[at + 2] = static_cast<std::uint8_t>(u >> 8);
        (*out_)[at + 3] = static_cast<std::uint8_t>(u);
    }

  private:
    /// resize + memcpy rather than vector::insert: cheaper, and g++ 12 at -O3 reports
    /// false stringop-overflow warnings for insert of small arrays.
    void append(const std::uint8_t* p, std::size_t n) {
        if (n == 0) return;
        auto at = out_->size();
        out_->resize(at + n);
        std::memcpy(out_->data() + at, p, n);
    }

    template <std::size_t N>
    void be(std::uint64_t v) {
        std::uint8_t buf[N];
        for (std::size_t i = 0; i < N; ++i)
            buf[i] = static_cast<std::uint8_t>(v >> (8 * (N - 1 - i)));
        append(buf, N);
    }

    byte_buffer* out_;
};

}  // namespace cql::protocol
