#pragma once
/// \file
/// The typed query builder over a struct's table (made by cql::mapper<T>): SELECT with
/// where/order_by/limit/per_partition_limit/allow_filtering, INSERT, UPDATE and DELETE with
/// TTL, timestamp and lightweight-transaction conditions, counters.
///
/// \code
///   auto q = animals.select()
///                .where(cql::col(&animal::genus) == "Panthera")
///                .where(cql::col(&animal::species) >= "l")
///                .order_by(&animal::species, cql::clustering_order::desc)
///                .limit(10);
///   std::vector<animal> v = co_await q.async_all(use_awaitable);
///
///   auto w = co_await animals.insert(lion).if_not_exists().async_execute(use_awaitable);
///   if (!w.applied) std::printf("already there: %s\n", w.current->species.c_str());
/// \endcode
///
/// Every query is CQL with `?` markers, prepared once per mapper (then taken from its
/// cache) and bound with the markers' types. A query the table cannot answer as written is
/// refused before anything is sent, with mapping_errc::invalid_query and a message (in the
/// operation's cql::diagnostics, and in error_message()):
///  - where() on a column outside the primary key without allow_filtering();
///  - a partition key restricted partly, or with a range (only == and in());
///  - a clustering column restricted while one before it is not, or after a range,
///    without allow_filtering(); clustering columns without the whole partition key,
///    without allow_filtering();
///  - order_by() on anything but the clustering columns in their order, all kept or all
///    reversed, or without the whole partition key;
///  - update() and remove() without the whole partition key (update(): and every
///    clustering column) restricted with == or in(); set() on a key column or a counter;
///    in() together with if_() conditions; insert() into a table with counters;
///  - a member pointer that BOOST_DESCRIBE_STRUCT does not list (mapping_errc::invalid_query)
///    or a mistaken model (mapping_errc::invalid_model).
///
/// Every async_* operation takes an Asio completion token, completes with
/// `void(cql::error_code, R)` and supports per-operation cancellation like
/// session::async_execute, whose errors it also completes with. The overloads taking a
/// cql::diagnostics fill it on failure. Builders are values: copy and reuse them.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "cql/mapping/execute.hpp"
#include "cql/mapping/model.hpp"
#include "cql/mapping/query_spec.hpp"
#include "cql/mapping/row.hpp"

namespace cql {

template <mapped_struct T>
class mapped_stream;

/// A condition on one member of `T`, for where() and if_(); made by cql::col().
template <mapped_struct T>
struct relation {
    detail::relation_spec spec;  ///< the member, the operator and the value(s)
};

/// A member of `T` as a column in conditions: `cql::col(&animal::genus) == "Panthera"`.
/// Values convert to the member's type (without std::optional).
template <mapped_struct T, class M>
class column_ref {
  public:
    /// The type values are compared as.
    using value_type = detail::without_optional_t<M>;
    /// The column of `member`.
    explicit column_ref(M T::*member) : member_(model_of<T>().index_of(member)) {}

    relation<T> operator==(value_type v) const {
        return make(detail::rel_op::eq, std::move(v));
    }  ///< =
    relation<T> operator!=(value_type v) const {
        return make(detail::rel_op::neq, std::move(v));
    }  ///< != (if_() only)
    relation<T> operator<(value_type v) const {
        return make(detail::rel_op::lt, std::move(v));
    }  ///< <
    relation<T> operator<=(value_type v) const {
        return make(detail::rel_op::lte, std::move(v));
    }  ///< <=
    relation<T> operator>(value_type v) const {
        return make(detail::rel_op::gt, std::move(v));
    }  ///< >
    relation<T> operator>=(value_type v) const {
        return make(detail::rel_op::gte, std::move(v));
    }  ///< >=
    /// IN (...): one of `values`.
    relation<T> in(std::vector<value_type> values) const {
        relation<T> r;
        r.spec.member = member_;
        r.spec.op = detail::rel_op::in;
        for (auto& v : values)
            r.spec.values.push_back(detail::make_bound_value(std::move(v)));
        return r;
    }

  private:
    relation<T> make(detail::rel_op op, value_type v) const {
        relation<T> r;
        r.spec.member = member_;
        r.spec.op = op;
        r.spec.values.push_back(detail::make_bound_value(std::move(v)));
        return r;
    }
    std::size_t member_;
};

/// The column of `member` (see column_ref).
template <class T, class M>
column_ref<T, M> col(M T::*member) {
    return column_ref<T, M>(member);
}

/// What every query builder has: request settings, and its CQL text or the reason it is
/// refused. `Derived` is the builder (select_query, insert_query, ...).
template <class Derived>
class mapped_query {
  public:
    /// The consistency level (unset: the execution profile's).
    Derived& consistency(cql::consistency c) {
        opts_.consistency = c;
        return self();
    }
    /// The serial consistency of a lightweight transaction (unset: the profile's).
    Derived& serial_consistency(cql::consistency c) {
        opts_.serial_consistency = c;
        return self();
    }
    /// The request timeout, retries included (unset: the profile's).
    Derived& timeout(std::chrono::milliseconds t) {
        opts_.timeout = t;
        return self();
    }
    /// Safe to retry or to execute speculatively (unset: the profile's default; never
    /// for lightweight transactions and counters).
    Derived& idempotent(bool yes) {
        opts_.idempotent = yes;
        return self();
    }
    /// The execution profile by name ("" or unknown: the default one).
    Derived& execution_profile(std::string name) {
        opts_.execution_profile = std::move(name);
        return self();
    }

    /// The query, checked and written as CQL (its error, if any, in spec().ec / .error).
    detail::query_spec spec() const {
        detail::query_spec out;
        out.core = core_;
        out.options = opts_;
        detail::build_query(*mapping_, core_->keyspace(), parts_, out);
        return out;
    }
    /// The CQL text prepared ("" when the query is refused).
    std::string cql() const { return spec().cql; }
    /// Why the query is refused (mapping_errc::invalid_query, ...), or success.
    std::error_code error() const { return spec().ec; }
    /// The explanation of error().
    std::string error_message() const { return spec().error; }

  protected:
    /// \cond internal
    mapped_query(std::shared_ptr<detail::mapper_core> core, const struct_mapping& m,
                 detail::query_parts::kind what)
        : core_(std::move(core)), mapping_(&m) {
        parts_.what = what;
    }
    Derived& self() { return static_cast<Derived&>(*this); }
    template <class T, class M>
    std::size_t member_index(M T::*member, const char* what) {
        const auto i = model_of<T>().index_of(member);
        if (i >= mapping_->members.size())
            parts_.errors.push_back(std::string("the member given to ") + what +
                                    "() is not listed in BOOST_DESCRIBE_STRUCT(" +
                                    mapping_->struct_name + ", ...)");
        return i;
    }

    std::shared_ptr<detail::mapper_core> core_;
    const struct_mapping* mapping_;
    detail::query_parts parts_;
    request_options opts_;
    /// \endcond
};

template <mapped_struct T>
struct write_result;

/// What the write builders (insert_query, update_query, delete_query) have: running them.
template <class Derived, mapped_struct T>
class mapped_write : public mapped_query<Derived> {
  public:
    /// Runs the write. Completes with `void(cql::error_code, cql::write_result<T>)`.
    /// \param diag failure details (alive until completion).
    /// \param tok an Asio completion token.
    template <class Token>
    auto async_execute(diagnostics& diag, Token&& tok) const {
        return run(&diag, std::forward<Token>(tok));
    }
    /// \copybrief async_execute(diagnostics&, Token&&) const
    /// As the overload with `diag`, without the details.
    /// \param tok an Asio completion token.
    template <class Token>
    auto async_execute(Token&& tok) const {
        return run(nullptr, std::forward<Token>(tok));
    }

  protected:
    using mapped_query<Derived>::mapped_query;

  private:
    template <class Token>
    auto run(diagnostics* diag, Token&& tok) const;
};

/// What a write completes with. For a lightweight transaction (if_not_exists(),
/// if_exists(), if_()), `applied` says whether it was applied; when it was not, `current`
/// holds the row the server returned: the whole existing row for if_not_exists(), the
/// columns of the conditions (and the rest default-initialised) for if_(), nothing when
/// there is no row. Other writes are always applied.
template <mapped_struct T>
struct write_result {
    bool applied = true;       ///< the "[applied]" column (true for a plain write)
    std::optional<T> current;  ///< the current row of a failed LWT, as far as returned
    cql::result raw;           ///< the server's answer
};

namespace detail {

// Reads a write's result: "[applied]" and, for a failed LWT, the returned row.
template <mapped_struct T>
std::error_code finish_write(result& r, write_result<T>& out, std::string& why) {
    out.applied = applied(r);
    if (!out.applied && !r.empty()) {
        row_plan<T> plan;
        T current{};
        if (auto ec = row_plan<T>::make(&r.metadata(), plan, &why, true, true)) return ec;
        if (plan.any_column()) {  // else there is no row: only "[applied]" came back
            if (auto ec = plan.read(r.front(), current, &why)) return ec;
            out.current = std::move(current);
        }
    }
    out.raw = std::move(r);
    return {};
}

}  // namespace detail

/// \cond internal
template <class Derived, mapped_struct T>
template <class Token>
auto mapped_write<Derived, T>::run(diagnostics* diag, Token&& tok) const {
    return detail::async_run_query<write_result<T>>(
        this->spec(), diag, false, &detail::finish_write<T>, std::forward<Token>(tok));
}
/// \endcond

/// A SELECT of every member's column (mapper::select(), mapper::get()).
template <mapped_struct T>
class select_query : public mapped_query<select_query<T>> {
    using base = mapped_query<select_query<T>>;

  public:
    /// \cond internal
    explicit select_query(std::shared_ptr<detail::mapper_core> core)
        : base(std::move(core), model_of<T>().mapping(), detail::query_parts::kind::select) {}
    /// \endcond

    /// Adds a relation (joined with AND).
    select_query& where(relation<T> r) {
        this->parts_.where.push_back(std::move(r.spec));
        return *this;
    }
    /// Orders by a clustering column (call in clustering order).
    template <class M>
    select_query& order_by(M T::*member, clustering_order o = clustering_order::asc) {
        this->parts_.order_by.emplace_back(this->member_index(member, "order_by"),
                                           o == clustering_order::desc);
        return *this;
    }
    /// At most `n` rows in all.
    select_query& limit(std::int32_t n) {
        this->parts_.limit = n;
        return *this;
    }
    /// At most `n` rows per partition.
    select_query& per_partition_limit(std::int32_t n) {
        this->parts_.per_partition_limit = n;
        return *this;
    }
    /// Lets the server filter on columns outside the primary key (scanning).
    select_query& allow_filtering() {
        this->parts_.allow_filtering = true;
        return *this;
    }
    /// Rows per page (unset: the profile's).
    select_query& page_size(std::int32_t n) {
        this->opts_.page_size = n;
        return *this;
    }

    /// Every row, all pages. Completes with `void(cql::error_code, std::vector<T>)`.
    /// \param diag failure details (alive until completion).
    /// \param tok an Asio completion token.
    template <class Token>
    auto async_all(diagnostics& diag, Token&& tok) const {
        return all(&diag, std::forward<Token>(tok));
    }
    /// \copybrief async_all(diagnostics&, Token&&) const
    /// As the overload with `diag`, without the details.
    /// \param tok an Asio completion token.
    template <class Token>
    auto async_all(Token&& tok) const {
        return all(nullptr, std::forward<Token>(tok));
    }
    /// The first row (LIMIT 1 unless a limit is set). Completes with
    /// `void(cql::error_code, std::optional<T>)`: nullopt when there is none.
    /// \param diag failure details (alive until completion).
    /// \param tok an Asio completion token.
    template <class Token>
    auto async_one(diagnostics& diag, Token&& tok) const {
        return one(&diag, std::forward<Token>(tok));
    }
    /// \copybrief async_one(diagnostics&, Token&&) const
    /// As the overload with `diag`, without the details.
    /// \param tok an Asio completion token.
    template <class Token>
    auto async_one(Token&& tok) const {
        return one(nullptr, std::forward<Token>(tok));
    }
    /// The first page as a plain result (read it with cql::rows_of<T>). Completes with
    /// `void(cql::error_code, cql::result)`.
    /// \param tok an Asio completion token.
    template <class Token>
    auto async_execute(Token&& tok) const {
        return detail::async_run_query<result>(
            this->spec(), nullptr, false,
            [](result& r, result& out, std::string&) {
                out = std::move(r);
                return std::error_code{};
            },
            std::forward<Token>(tok));
    }

    /// Every row as T across pages, with the next page fetched while one is read (see
    /// stream.hpp). At most `pages_ahead` pages are fetched ahead of the one being read.
    mapped_stream<T> stream(std::size_t pages_ahead = 1) const;

  private:
    template <class Token>
    auto all(diagnostics* diag, Token&& tok) const {
        return detail::async_run_query<std::vector<T>>(
            this->spec(), diag, true,
            [](result& r, std::vector<T>& out, std::string& why) {
                return rows_of<T>(r).try_read_all(out, &why);
            },
            std::forward<Token>(tok));
    }
    template <class Token>
    auto one(diagnostics* diag, Token&& tok) const {
        select_query q = *this;
        if (!q.parts_.limit) q.parts_.limit = 1;
        return detail::async_run_query<std::optional<T>>(
            q.spec(), diag, false,
            [](result& r, std::optional<T>& out, std::string& why) {
                if (r.empty()) return std::error_code{};
                T v{};
                auto rows = rows_of<T>(r);
                if (auto ec = rows.read(r.front(), v, &why)) return ec;
                out = std::move(v);
                return std::error_code{};
            },
            std::forward<Token>(tok));
    }
};

/// An INSERT of every member (mapper::insert()).
template <mapped_struct T>
class insert_query : public mapped_write<insert_query<T>, T> {
    using base = mapped_write<insert_query<T>, T>;

  public:
    /// \cond internal
    insert_query(std::shared_ptr<detail::mapper_core> core, T value)
        : base(std::move(core), model_of<T>().mapping(), detail::query_parts::kind::insert),
          value_(std::make_shared<const T>(std::move(value))) {
        fill();
    }
    /// \endcond

    /// INSERT ... IF NOT EXISTS (a lightweight transaction).
    insert_query& if_not_exists() {
        this->parts_.if_not_exists = true;
        return *this;
    }
    /// USING TTL: the row's values expire after `ttl` (whole seconds).
    insert_query& ttl(std::chrono::seconds ttl) {
        this->parts_.ttl = static_cast<std::int32_t>(ttl.count());
        return *this;
    }
    /// USING TIMESTAMP: the write's timestamp in microseconds since the epoch.
    insert_query& timestamp(std::int64_t micros) {
        this->parts_.timestamp = micros;
        return *this;
    }
    /// Members that are std::nullopt are bound as "unset" (the column keeps what it has,
    /// no tombstone) instead of null.
    insert_query& unset_nulls() {
        unset_nulls_ = true;
        fill();
        return *this;
    }

  private:
    // A member's value, viewed in the shared copy of the struct.
    template <std::size_t I, bool Unset>
    static std::error_code bind_member_as(const void* value, const prepared_column& marker,
                                          bound_statement& out, std::string& why) {
        const auto& m = detail::members<T>::template get<I>(*static_cast<const T*>(value));
        using M = std::remove_cvref_t<decltype(m)>;
        if constexpr (Unset && detail::is_optional_v<M>) {
            if (!m) {
                out.bind(cql::unset);
                return {};
            }
        }
        return detail::bind_checked<M>(&m, marker, out, why);
    }
    void fill() {
        this->parts_.assignments.clear();
        detail::for_each_member_index<T>([&](auto i) {
            detail::assignment_spec a;
            a.member = i;
            a.value.value = value_;
            a.value.fn = unset_nulls_ ? &bind_member_as<i, true> : &bind_member_as<i, false>;
            this->parts_.assignments.push_back(std::move(a));
        });
    }

    std::shared_ptr<const T> value_;
    bool unset_nulls_ = false;
};

/// An UPDATE (mapper::update()): set(), add(), remove() on non-key members, where() on the
/// primary key, optional conditions.
template <mapped_struct T>
class update_query : public mapped_write<update_query<T>, T> {
    using base = mapped_write<update_query<T>, T>;

  public:
    /// \cond internal
    explicit update_query(std::shared_ptr<detail::mapper_core> core)
        : base(std::move(core), model_of<T>().mapping(), detail::query_parts::kind::update) {}
    /// \endcond

    /// SET column = value.
    template <class M, class V>
    update_query& set(M T::*member, V value) {
        return assign(member, detail::assign_op::set, M(std::move(value)), "set");
    }
    /// SET column = column + value: a counter increment, a list append, a set or map union.
    template <class M, class V>
    update_query& add(M T::*member, V value) {
        return assign(member, detail::assign_op::add, M(std::move(value)), "add");
    }
    /// SET column = column - value: a counter decrement, removal from a list or set.
    template <class M, class V>
    update_query& remove(M T::*member, V value) {
        return assign(member, detail::assign_op::remove, M(std::move(value)), "remove");
    }
    /// Adds a relation on a key column (joined with AND).
    update_query& where(relation<T> r) {
        this->parts_.where.push_back(std::move(r.spec));
        return *this;
    }
    /// Adds an IF condition (a lightweight transaction).
    update_query& if_(relation<T> r) {
        this->parts_.conditions.push_back(std::move(r.spec));
        return *this;
    }
    /// IF EXISTS (a lightweight transaction).
    update_query& if_exists() {
        this->parts_.if_exists = true;
        return *this;
    }
    /// USING TTL: the values set expire after `ttl` (whole seconds).
    update_query& ttl(std::chrono::seconds ttl) {
        this->parts_.ttl = static_cast<std::int32_t>(ttl.count());
        return *this;
    }
    /// USING TIMESTAMP, in microseconds since the epoch.
    update_query& timestamp(std::int64_t micros) {
        this->parts_.timestamp = micros;
        return *this;
    }

  private:
    template <class M>
    update_query& assign(M T::*member, detail::assign_op op, M value, const char* what) {
        detail::assignment_spec a;
        a.member = this->member_index(member, what);
        a.op = op;
        a.value = detail::make_bound_value(std::move(value));
        this->parts_.assignments.push_back(std::move(a));
        return *this;
    }
};

/// A DELETE of rows (mapper::remove()): where() on the primary key (a partition, a
/// clustering prefix or range, one row), optional conditions.
template <mapped_struct T>
class delete_query : public mapped_write<delete_query<T>, T> {
    using base = mapped_write<delete_query<T>, T>;

  public:
    /// \cond internal
    explicit delete_query(std::shared_ptr<detail::mapper_core> core)
        : base(std::move(core), model_of<T>().mapping(), detail::query_parts::kind::remove) {}
    /// \endcond

    /// Adds a relation on a key column (joined with AND).
    delete_query& where(relation<T> r) {
        this->parts_.where.push_back(std::move(r.spec));
        return *this;
    }
    /// Adds an IF condition (a lightweight transaction).
    delete_query& if_(relation<T> r) {
        this->parts_.conditions.push_back(std::move(r.spec));
        return *this;
    }
    /// IF EXISTS (a lightweight transaction).
    delete_query& if_exists() {
        this->parts_.if_exists = true;
        return *this;
    }
    /// USING TIMESTAMP, in microseconds since the epoch.
    delete_query& timestamp(std::int64_t micros) {
        this->parts_.timestamp = micros;
        return *this;
    }
};

}  // namespace cql
