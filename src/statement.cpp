#include "cql/statement.hpp"

#include <cstdio>
#include <cstdlib>

#include "cql/prepared.hpp"

namespace cql {

namespace detail {
std::string describe_marker(std::size_t marker, const prepared_column& c) {
    return "bind marker " + std::to_string(marker + 1) + " (\"" + c.name + "\", " +
           protocol::to_cql_string(c.type) + ")";
}
std::string mismatch_reason(const std::string& cpp_type) {
    return (cpp_type.starts_with("a ") ? cpp_type : "a " + cpp_type) + " cannot be bound to it";
}
std::string describe_double(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    // the shortest text that reads back as v
    for (int digits = 1; digits <= 17; ++digits) {
        char shorter[32];
        std::snprintf(shorter, sizeof shorter, "%.*g", digits, v);
        if (std::strtod(shorter, nullptr) == v) return shorter;
    }
    return buf;
}
}  // namespace detail

std::vector<protocol::value_view> statement::values() const {
    std::vector<protocol::value_view> out;
    values_into(out);
    return out;
}

void statement::values_into(std::vector<protocol::value_view>& out) const {
    out.clear();
    out.reserve(cells_.size());
    for (const auto& c : cells_) {
        if (c.length == -1)
            out.push_back(protocol::value_view::null());
        else if (c.length == -2)
            out.push_back(protocol::value_view::unset());
        else
            out.push_back(protocol::value_view::of(protocol::bytes_view(values_).subspan(
                static_cast<std::size_t>(c.offset), static_cast<std::size_t>(c.length))));
    }
}

std::vector<std::string_view> statement::names() const {
    return {names_.begin(), names_.end()};
}

protocol::query_request statement::to_query(std::vector<protocol::value_view>& values,
                                            std::vector<std::string_view>& names,
                                            cql::consistency default_consistency) const {
    values = this->values();
    names = this->names();
    protocol::query_request q;
    q.query = query_;
    auto& p = q.params;
    p.consistency_level = consistency_.value_or(default_consistency);
    p.values = values;
    p.names = names;
    p.page_size = page_size_;
    if (page_size_ && *page_size_ <= 0) p.page_size.reset();
    p.paging_state = paging_state();
    p.serial_consistency = serial_consistency_;
    p.default_timestamp = timestamp_;
    if (keyspace_) p.keyspace = std::string_view(*keyspace_);
    return q;
}

std::error_code statement::encode_query_frame(protocol::byte_buffer& out,
                                              protocol::protocol_version v,
                                              cql::consistency default_consistency) const {
    if (bind_error_) return bind_error_;
    std::vector<protocol::value_view> vals;
    std::vector<std::string_view> nms;
    auto q = to_query(vals, nms, default_consistency);
    if (v < protocol::protocol_version::v5) q.params.keyspace.reset();  // v5 field only
    auto prefix = payload_prefix(payload_);
    return protocol::encode_request_frame(out, v, 0, q, prefix ? &*prefix : nullptr, tracing_);
}

}  // namespace cql
