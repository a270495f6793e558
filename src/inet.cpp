// inet values and Asio addresses.
#include "cql/inet.hpp"

#include <algorithm>

namespace cql {

boost::asio::ip::address to_address(const inet_address& a) {
    if (a.size == 4) {
        boost::asio::ip::address_v4::bytes_type b{};
        std::copy(a.bytes.begin(), a.bytes.begin() + 4, b.begin());
        return boost::asio::ip::address_v4(b);
    }
    boost::asio::ip::address_v6::bytes_type b{};
    std::copy(a.bytes.begin(), a.bytes.begin() + 16, b.begin());
    return boost::asio::ip::address_v6(b);
}

inet_address to_inet(const boost::asio::ip::address& a) {
    inet_address out;
    if (a.is_v4()) {
        const auto b = a.to_v4().to_bytes();
        std::copy(b.begin(), b.end(), out.bytes.begin());
        out.size = 4;
    } else {
        const auto b = a.to_v6().to_bytes();
        std::copy(b.begin(), b.end(), out.bytes.begin());
        out.size = 16;
    }
    return out;
}

std::string to_string(const inet_address& a) {
    if (a.size != 4 && a.size != 16) return {};
    return to_address(a).to_string();
}

std::optional<inet_address> parse_inet(std::string_view text) {
    boost::system::error_code ec;
    auto a = boost::asio::ip::make_address(std::string(text), ec);
    if (ec) return std::nullopt;
    return to_inet(a);
}

}  // namespace cql
