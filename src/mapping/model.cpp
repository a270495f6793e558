// The non-template parts of a struct's model: default names and key lookups.
#include "cql/mapping/model.hpp"

namespace cql {

std::string default_cql_name(std::string_view cpp_type_name) {
    auto at = cpp_type_name.rfind("::");
    if (at != std::string_view::npos) cpp_type_name.remove_prefix(at + 2);
    std::string out;
    for (char c : cpp_type_name) {
        const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        const bool digit = c >= '0' && c <= '9';
        if (!letter && !digit && c != '_') return {};
        if (out.empty() && digit) return {};
        out += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    return out;
}

std::vector<std::size_t> struct_mapping::partition_key() const {
    return detail::key_order(members, column_role::partition_key);
}

std::vector<std::size_t> struct_mapping::clustering_key() const {
    return detail::key_order(members, column_role::clustering);
}

std::size_t struct_mapping::member_of_column(std::string_view column) const noexcept {
    for (std::size_t i = 0; i < members.size(); ++i)
        if (members[i].column == column) return i;
    return members.size();
}

bool struct_mapping::has_counters() const noexcept {
    for (const auto& m : members)
        if (m.cql_type == "counter") return true;
    return false;
}

}  // namespace cql
