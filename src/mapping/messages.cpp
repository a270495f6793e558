// Texts of the mapping's errors, out of the templates that raise them.
#include <boost/system/system_error.hpp>

#include "cql/error.hpp"
#include "cql/mapping/cql_types.hpp"
#include "cql/mapping/model.hpp"
#include "cql/result.hpp"

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
    std::vector<std::size_t> out;
    for (int pos = 0;; ++pos) {
        std::size_t found = members.size();
        for (std::size_t i = 0; i < members.size(); ++i)
            if (members[i].role == column_role::partition_key && members[i].key_position == pos)
                found = i;
        if (found == members.size()) return out;
        out.push_back(found);
    }
}

std::vector<std::size_t> struct_mapping::clustering_key() const {
    std::vector<std::size_t> out;
    for (int pos = 0;; ++pos) {
        std::size_t found = members.size();
        for (std::size_t i = 0; i < members.size(); ++i)
            if (members[i].role == column_role::clustering && members[i].key_position == pos)
                found = i;
        if (found == members.size()) return out;
        out.push_back(found);
    }
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

namespace detail {

std::string type_mismatch_message(std::string_view what, std::string_view member,
                                  std::string_view struct_name, std::string_view cpp_type,
                                  std::string_view column, const protocol::data_type& type,
                                  std::string_view why) {
    std::string out = "cql mapping: member '";
    out += member;
    out += "' of ";
    out += struct_name;
    out += " (C++ ";
    out += cpp_type;
    out += ") cannot hold ";
    out += what;
    out += " '";
    out += column;
    out += "' (CQL ";
    out += protocol::to_cql_string(type);
    out += ")";
    if (!why.empty()) {
        out += ": ";
        out += why;
    }
    return out;
}

void throw_mapping_error(std::error_code ec, const std::string& why) {
    throw boost::system::system_error(error_code(ec), why);
}

}  // namespace detail
}  // namespace cql
