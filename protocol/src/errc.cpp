#include "cql/protocol/errc.hpp"

#include <string>

namespace cql::protocol {
namespace {

// boost::system::error_category has a protected non-virtual destructor (categories are never
// deleted through it); Boost silences this warning in its own headers the same way.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class codec_category_impl final : public boost::system::error_category {
  public:
    // A fixed id: codes compare equal even across copies of the library.
    constexpr codec_category_impl() noexcept : error_category(0xc9a5e1f0c0dec001ULL) {}
    const char* name() const noexcept override { return "cql.codec"; }

    std::string message(int ev) const override {
        switch (static_cast<codec_errc>(ev)) {
            case codec_errc::ok:
                return "success";
            case codec_errc::truncated:
                return "input truncated";
            case codec_errc::body_too_large:
                return "frame body larger than the configured maximum";
            case codec_errc::unsupported_version:
                return "unsupported protocol version";
            case codec_errc::unexpected_direction:
                return "frame direction bit is wrong";
            case codec_errc::unknown_opcode:
                return "unknown opcode";
            case codec_errc::invalid_length:
                return "invalid length field";
            case codec_errc::invalid_value:
                return "invalid field value";
            case codec_errc::unknown_type:
                return "unknown CQL type option";
            case codec_errc::type_nesting_too_deep:
                return "CQL type nested too deeply";
            case codec_errc::trailing_bytes:
                return "unexpected bytes after the message";
            case codec_errc::header_crc_mismatch:
                return "segment header CRC24 mismatch";
            case codec_errc::payload_crc_mismatch:
                return "segment payload CRC32 mismatch";
            case codec_errc::segment_too_large:
                return "segment payload larger than 128 KiB - 1";
            case codec_errc::compression_failed:
                return "compression failed";
            case codec_errc::decompression_failed:
                return "decompression failed";
            case codec_errc::unexpected_compression:
                return "compressed data where no compression was negotiated";
            case codec_errc::value_type_mismatch:
                return "value does not match its CQL type";
            case codec_errc::version_mismatch:
                return "a frame of another protocol version than the connection's";
        }
        return "unknown codec error " + std::to_string(ev);
    }
};

#pragma GCC diagnostic pop

}  // namespace

const boost::system::error_category& codec_category() noexcept {
    static const codec_category_impl instance;
    return instance;
}

}  // namespace cql::protocol
