#pragma once
/// \file
/// inet columns: cql::inet_address (the 4 or 16 bytes a cell holds), boost::asio::ip::address
/// (and address_v4, address_v6), both bound and read directly, and conversions between them
/// and text.
///
/// \code
///   s.async_execute(cql::statement("INSERT INTO ks.t (k, ip) VALUES (?, ?)", 1,
///                                  boost::asio::ip::make_address("10.0.0.7")), tok);
///   boost::asio::ip::address ip = row.get<boost::asio::ip::address>("ip");
///   std::string text = cql::to_string(row.get<cql::inet_address>("ip"));   // "10.0.0.7"
/// \endcode

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/address_v6.hpp>

#include "cql/detail/asio_config.hpp"
#include "cql/protocol/bytes.hpp"
#include "cql/protocol/cells.hpp"

namespace cql {

/// An inet value: the address bytes in network order (4 for IPv4, 16 for IPv6). The port
/// is not part of an inet cell and reads as 0.
using inet_address = protocol::inet_address;

/// The address as Asio's type.
boost::asio::ip::address to_address(const inet_address& a);
/// An Asio address as an inet value.
inet_address to_inet(const boost::asio::ip::address& a);
/// "10.0.0.7", "2001:db8::1" (Asio's text form).
std::string to_string(const inet_address& a);
/// Parses an IPv4 or IPv6 address ("10.0.0.7", "::1"); nullopt when it is not one.
std::optional<inet_address> parse_inet(std::string_view text);

}  // namespace cql

/// \cond internal
// Asio's address types bind to and read from inet columns.
namespace cql::detail {
template <class Address>
struct asio_address_codec {
    static constexpr std::size_t fixed_size = 0;
    static constexpr bool accepts(protocol::type_id id) noexcept {
        return id == protocol::type_id::inet;
    }
    static std::error_code encode(protocol::byte_writer& w, const Address& a) {
        if constexpr (std::is_same_v<Address, boost::asio::ip::address>) {
            return protocol::cell_codec<protocol::inet_address>::encode(w, to_inet(a));
        } else {
            const auto b = a.to_bytes();
            w.raw(protocol::bytes_view(b.data(), b.size()));
            return {};
        }
    }
    static std::error_code decode(protocol::bytes_view cell, Address& out) {
        protocol::inet_address a;
        if (auto ec = protocol::cell_codec<protocol::inet_address>::decode(cell, a)) return ec;
        if constexpr (std::is_same_v<Address, boost::asio::ip::address>) {
            out = to_address(a);
        } else {
            typename Address::bytes_type b{};
            if (a.size != b.size()) return protocol::codec_errc::value_type_mismatch;
            std::copy(a.bytes.begin(), a.bytes.begin() + a.size, b.begin());
            out = Address(b);
        }
        return {};
    }
};
}  // namespace cql::detail

template <>
struct cql::protocol::cell_codec<boost::asio::ip::address>
    : cql::detail::asio_address_codec<boost::asio::ip::address> {};
template <>
struct cql::protocol::cell_codec<boost::asio::ip::address_v4>
    : cql::detail::asio_address_codec<boost::asio::ip::address_v4> {};
template <>
struct cql::protocol::cell_codec<boost::asio::ip::address_v6>
    : cql::detail::asio_address_codec<boost::asio::ip::address_v6> {};
/// \endcond
