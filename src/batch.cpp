// The members of cql::batch that grow its vectors (out of line: see batch.hpp).
#include "cql/batch.hpp"

namespace cql {

batch& batch::add(statement s) {
    entries_.emplace_back(std::move(s));
    return *this;
}

batch& batch::add(bound_statement s) {
    entries_.emplace_back(std::move(s));
    return *this;
}

batch& batch::custom_payload(std::string key, protocol::bytes_view value) {
    payload_.emplace_back(std::move(key), protocol::byte_buffer(value.begin(), value.end()));
    return *this;
}

}  // namespace cql
