#include "cql/mapping/errc.hpp"

#include <string>

namespace cql {

namespace {
class mapping_category_impl final : public std::error_category {
  public:
    const char* name() const noexcept override { return "cql.mapping"; }
    std::string message(int v) const override {
        switch (static_cast<mapping_errc>(v)) {
            case mapping_errc::ok:
                return "success";
            case mapping_errc::missing_column:
                return "a struct member has no column";
            case mapping_errc::extra_column:
                return "a column has no struct member";
            case mapping_errc::type_mismatch:
                return "a struct member's type cannot hold its column's CQL type";
            case mapping_errc::null_value:
                return "a null value for a member that is not optional";
            case mapping_errc::unmatched_marker:
                return "a bind marker names no struct member";
            case mapping_errc::invalid_model:
                return "the struct's model is invalid";
            case mapping_errc::invalid_query:
                return "the query builder refused the query";
        }
        return "unknown mapping error";
    }
};
}  // namespace

const std::error_category& mapping_category() noexcept {
    static const mapping_category_impl c;
    return c;
}

}  // namespace cql
