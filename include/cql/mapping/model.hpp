#pragma once
/// \file
/// The description of a mapped struct as a table or a user-defined type: its keyspace and
/// table (or type) name, partition and clustering keys, clustering order, static columns,
/// column renames and CQL types other than the default one of a member's C++ type.
///
/// A struct gets its description from a function `cql_model(cql::model<T>&)` found by
/// argument-dependent lookup (declare it next to the struct); without one, every member
/// maps to the column of its own name, with no key (enough to read rows and bind values).
///
/// \code
///   struct animal {
///       std::string genus, species;
///       std::optional<float> size_cm;
///   };
///   BOOST_DESCRIBE_STRUCT(animal, (), (genus, species, size_cm))
///
///   inline void cql_model(cql::model<animal>& m) {
///       m.table("naturalist", "animals")
///           .partition_key(&animal::genus)
///           .clustering_key(&animal::species, cql::clustering_order::desc)
///           .column(&animal::size_cm, "size");                       // a rename
///   }
/// \endcode
///
/// Mistakes in a model (a member pointer that BOOST_DESCRIBE_STRUCT does not list, a key
/// given twice) are kept in struct_mapping::errors: every operation that uses the model then
/// fails with mapping_errc::invalid_model and the text, before anything is sent.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <boost/core/type_name.hpp>

#include "cql/mapping/reflect.hpp"

namespace cql {

/// The part a column plays in its table.
enum class column_role : std::uint8_t {
    regular,        ///< a regular column
    partition_key,  ///< a component of the partition key
    clustering,     ///< a clustering column
    static_column,  ///< a static column (one value per partition)
};

/// The order of a clustering column.
enum class clustering_order : std::uint8_t {
    asc,   ///< ascending (the default)
    desc,  ///< descending
};

/// How one member of a struct maps to a column (or UDT field).
struct member_mapping {
    std::string member;  ///< the C++ member name ("" for a struct mapped by position)
    std::string column;  ///< the column or field name ("" by position)
    column_role role = column_role::regular;  ///< partition key, clustering, static, regular
    int key_position = -1;                    ///< position in its key (-1: not a key)
    bool descending = false;                  ///< clustering order
    std::string cql_type;  ///< the CQL type for DDL when not the C++ type's default ("")
};

/// The description of a struct, without its C++ type: what cql::model<T> builds.
struct struct_mapping {
    std::string struct_name;              ///< the C++ type, for messages
    std::string keyspace;                 ///< "" : the session's keyspace
    std::string table;                    ///< the table name (default: the struct's name)
    std::string type_name;                ///< the UDT name (default: the struct's name)
    bool by_name = true;                  ///< false for a struct mapped by position
    std::vector<member_mapping> members;  ///< one per member, in declaration order
    std::vector<std::string> errors;      ///< mistakes in the model (empty: valid)

    /// Member indexes of the partition key, in key order.
    std::vector<std::size_t> partition_key() const;
    /// Member indexes of the clustering columns, in key order.
    std::vector<std::size_t> clustering_key() const;
    /// The member mapped to `column`, or members.size().
    std::size_t member_of_column(std::string_view column) const noexcept;
    /// True when a member is a counter column (cql_type "counter").
    bool has_counters() const noexcept;
};

namespace detail {
// Indexes of the columns (anything with `role` and `key_position`) of one key, in order.
template <class Column>
std::vector<std::size_t> key_order(const std::vector<Column>& columns, column_role role) {
    std::vector<std::size_t> out;
    for (int pos = 0;; ++pos) {
        std::size_t found = columns.size();
        for (std::size_t i = 0; i < columns.size(); ++i)
            if (columns[i].role == role && columns[i].key_position == pos) found = i;
        if (found == columns.size()) return out;
        out.push_back(found);
    }
}
}  // namespace detail

/// The struct's unqualified C++ name in lower case when it is a plain identifier (the
/// default table and type name), else "".
std::string default_cql_name(std::string_view cpp_type_name);

/// Builds the description of `T` (see the file description). Setters return `*this`.
template <mapped_struct T>
class model {
  public:
    /// Every member mapped to the column of its name (by position for a positional struct).
    model() {
        using members = detail::members<T>;
        m_.struct_name = type_name_of();
        m_.table = m_.type_name = default_cql_name(m_.struct_name);
        m_.by_name = members::named;
        detail::for_each_member_index<T>([&](auto i) {
            member_mapping mm;
            mm.member = std::string(members::template name<i>());
            mm.column = mm.member;
            m_.members.push_back(std::move(mm));
        });
    }

    /// The table (in the session's keyspace).
    model& table(std::string name) {
        m_.table = std::move(name);
        return *this;
    }
    /// The table and its keyspace.
    model& table(std::string keyspace, std::string name) {
        m_.keyspace = std::move(keyspace);
        m_.table = std::move(name);
        return *this;
    }
    /// The name of the user-defined type when the struct is used as one (the keyspace is
    /// that of the table using it).
    model& type_name(std::string name) {
        m_.type_name = std::move(name);
        return *this;
    }
    /// Appends `member` to the partition key (call in key order).
    template <class M>
    model& partition_key(M T::*member) {
        return key(member, column_role::partition_key, false, "partition_key");
    }
    /// Appends `member` to the clustering columns (call in key order).
    template <class M>
    model& clustering_key(M T::*member, clustering_order order = clustering_order::asc) {
        return key(member, column_role::clustering, order == clustering_order::desc,
                   "clustering_key");
    }
    /// Makes `member` a static column.
    template <class M>
    model& static_column(M T::*member) {
        if (auto* mm = find(member, "static_column")) mm->role = column_role::static_column;
        return *this;
    }
    /// Maps `member` to the column (or UDT field) `name` instead of its own name.
    template <class M>
    model& column(M T::*member, std::string name) {
        if (auto* mm = find(member, "column")) mm->column = std::move(name);
        return *this;
    }
    /// The CQL type of `member` in generated DDL (e.g. "ascii", "timeuuid", "varchar",
    /// "counter", a non-frozen "address"); it must still decode to the member's C++ type.
    template <class M>
    model& cql_type(M T::*member, std::string type) {
        if (auto* mm = find(member, "cql_type")) mm->cql_type = std::move(type);
        return *this;
    }
    /// A counter column: cql_type(member, "counter") (the member should be std::int64_t).
    template <class M>
    model& counter(M T::*member) {
        static_assert(std::is_same_v<std::remove_cvref_t<M>, std::int64_t>,
                      "cql mapping: a counter column is read and written as std::int64_t");
        return cql_type(member, "counter");
    }

    /// The member index of `member`, or members().size() when the description does not
    /// list it.
    template <class M>
    std::size_t index_of(M T::*member) const noexcept {
        std::size_t found = m_.members.size();
        if constexpr (described_struct<T>) {
            detail::any_member_index<T>([&](auto i) {
                using D = typename detail::members<T>::template descriptor<i>;
                if constexpr (std::is_convertible_v<decltype(D::pointer), M T::*>) {
                    if (static_cast<M T::*>(D::pointer) == member) {
                        found = i;
                        return true;
                    }
                }
                return false;
            });
        }
        return found;
    }

    /// The description built so far.
    const struct_mapping& mapping() const noexcept { return m_; }

  private:
    static std::string type_name_of() { return boost::core::type_name<T>(); }

    template <class M>
    member_mapping* find(M T::*member, const char* what) {
        static_assert(described_struct<T>,
                      "cql mapping: only a struct described with BOOST_DESCRIBE_STRUCT has a "
                      "model (member names are needed)");
        const auto i = index_of(member);
        if (i < m_.members.size()) return &m_.members[i];
        m_.errors.push_back(std::string("model of ") + m_.struct_name + ": the member given to " +
                            what + "() is not listed in BOOST_DESCRIBE_STRUCT");
        return nullptr;
    }
    template <class M>
    model& key(M T::*member, column_role role, bool desc, const char* what) {
        auto* mm = find(member, what);
        if (!mm) return *this;
        if (mm->role == column_role::partition_key || mm->role == column_role::clustering) {
            m_.errors.push_back("model of " + m_.struct_name + ": member '" + mm->member +
                                "' is given as a key twice");
            return *this;
        }
        int pos = 0;
        for (const auto& other : m_.members)
            if (other.role == role) ++pos;
        mm->role = role;
        mm->key_position = pos;
        mm->descending = desc;
        return *this;
    }

    struct_mapping m_;
};

/// The description of `T`: a default cql::model<T> passed to `cql_model(model<T>&)` when
/// argument-dependent lookup finds one. Built once (thread-safe), then shared.
template <mapped_struct T>
const model<T>& model_of() {
    static const model<T> m = [] {
        model<T> out;
        if constexpr (requires { cql_model(out); }) cql_model(out);
        return out;
    }();
    return m;
}

}  // namespace cql
