#include "cql/response.hpp"

namespace cql {

std::error_code response::assign(const protocol::frame_header& h, protocol::byte_buffer body) {
    header_ = h;
    body_ = std::move(body);
    header_.body_length = static_cast<std::uint32_t>(body_.size());
    prefix_ = {};
    diag_.clear();
    filled_ = true;
    message_offset_ = 0;
    protocol::byte_reader r(body_);
    protocol::read_body_prefix(r, header_, prefix_);
    if (!r.ok()) return r.error();
    message_offset_ = r.position();
    if (header_.op == protocol::opcode::error)
        return decode_error_body(message(), header_.version, diag_);
    return {};
}

}  // namespace cql
