#pragma once
// Builds a cql::result from columns and rows of C++ values, as a server's Rows RESULT
// would carry them, for tests that read rows without a server.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cql/protocol/responses.hpp"
#include "cql/result.hpp"
#include "cql/values.hpp"

namespace mapping_test {

namespace p = cql::protocol;

class rows_builder {
  public:
    // A column of the table ks.t.
    rows_builder& column(std::string name, p::data_type type) {
        names_.push_back(std::move(name));
        types_.push_back(std::move(type));
        return *this;
    }
    // One cell of the current row: a value, or null for std::nullopt.
    template <class T>
    rows_builder& cell(const T& v) {
        p::byte_buffer b;
        p::byte_writer w(b);
        if (cql::values::encode(w, v)) throw std::runtime_error("value not encodable");
        cells_.emplace_back(std::move(b));
        return *this;
    }
    template <class T>
    rows_builder& cell(const std::optional<T>& v) {
        if (!v) return null();
        return cell(*v);
    }
    rows_builder& null() {
        cells_.emplace_back(std::nullopt);
        return *this;
    }

    cql::result build() const {
        p::result_metadata m;
        m.column_count = static_cast<std::int32_t>(names_.size());
        m.global_tables_spec = true;
        m.global_spec = {"ks", "t"};
        for (std::size_t i = 0; i < names_.size(); ++i)
            m.columns.push_back({"ks", "t", names_[i], types_[i]});
        p::byte_buffer out;
        auto at = p::begin_response_frame(out, p::protocol_version::v4, 1, p::opcode::result);
        p::rows_result_writer w(out, p::protocol_version::v4, m);
        for (const auto& c : cells_) {
            if (c)
                w.add_cell(p::bytes_view(*c));
            else
                w.add_null();
        }
        if (w.finish()) throw std::runtime_error("incomplete row");
        p::end_response_frame(out, at);
        auto s = p::split_frame(out);
        cql::response r;
        if (r.assign(s.frame.header, p::byte_buffer(s.frame.body.begin(), s.frame.body.end())))
            throw std::runtime_error("bad frame");
        cql::result res;
        if (cql::result::from_response(std::move(r), res)) throw std::runtime_error("bad result");
        return res;
    }

  private:
    std::vector<std::string> names_;
    std::vector<p::data_type> types_;
    std::vector<std::optional<p::byte_buffer>> cells_;
};

inline p::data_type udt(std::string name,
                        std::vector<std::pair<std::string, p::data_type>> fields) {
    p::data_type t(p::type_id::udt);
    t.keyspace = "ks";
    t.name = std::move(name);
    for (auto& [n, ft] : fields) {
        t.field_names.push_back(n);
        t.params.push_back(ft);
    }
    return t;
}

}  // namespace mapping_test
