// Texts of the mapping's errors, out of the templates that raise them.
#include <boost/system/system_error.hpp>

#include "cql/error.hpp"
#include "cql/mapping/cql_types.hpp"
#include "cql/result.hpp"

namespace cql {

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
