#pragma once
/// \file
/// cql::mapper<T>: a struct's table on a session. It makes the query builders (query.hpp)
/// for that table, keeps the statements they prepare, and syncs the table's schema.
///
/// \code
///   cql::mapper<animal> animals(cluster.session());    // keyspace: the model's or the session's
///   co_await animals.async_sync_table(use_awaitable);   // CREATE TABLE / ALTER TABLE ADD ...
///   co_await animals.insert(lion).async_execute(use_awaitable);
///   std::optional<animal> a = co_await animals.get(lion).async_one(use_awaitable);
///   co_await animals.update(lion).async_execute(use_awaitable);   // every non-key member
///   co_await animals.remove(lion).async_execute(use_awaitable);   // by its primary key
/// \endcode
///
/// Copying a mapper is cheap and shares its prepared statements. It holds a reference to
/// the session, so it must not outlive the cluster. Safe to use from several threads.

#include <cstddef>
#include <memory>
#include <string>
#include <utility>

#include "cql/mapping/query.hpp"
#include "cql/mapping/query_spec.hpp"
#include "cql/mapping/schema.hpp"
#include "cql/mapping/stream.hpp"
#include "cql/session.hpp"

namespace cql {

/// The table of `T` (its cql::model) on a session.
template <mapped_struct T>
class mapper {
  public:
    /// In the model's keyspace, else the session's current one.
    explicit mapper(session& s) : mapper(s, std::string()) {}
    /// In `keyspace` ("" : the model's, else the session's).
    mapper(session& s, std::string keyspace) {
        if (keyspace.empty()) keyspace = model_of<T>().mapping().keyspace;
        if (keyspace.empty()) keyspace = s.keyspace();
        core_ = std::make_shared<detail::mapper_core>(s, std::move(keyspace));
    }

    /// The keyspace its statements name.
    const std::string& keyspace() const noexcept { return core_->keyspace(); }
    /// The table's definition (with this mapper's keyspace).
    table_definition definition() const {
        auto def = table_definition_of<T>();
        def.keyspace = keyspace();
        return def;
    }
    /// How many distinct statements it has prepared so far.
    std::size_t prepared_statements() const { return core_->size(); }

    /// SELECT every member's column; add where(), limit(), ...
    select_query<T> select() const { return select_query<T>(core_); }
    /// The row with the primary key of `key` (its other members are ignored).
    select_query<T> get(const T& key) const {
        select_query<T> q(core_);
        for_key(key, [&](relation<T> r) { q.where(std::move(r)); });
        return q;
    }
    /// INSERT every member of `value`.
    insert_query<T> insert(T value) const { return insert_query<T>(core_, std::move(value)); }
    /// An UPDATE to fill with set(), add(), remove() and where().
    update_query<T> update() const { return update_query<T>(core_); }
    /// UPDATE every member of `value` outside the primary key (counters excepted) of the row
    /// with its primary key.
    update_query<T> update(const T& value) const {
        update_query<T> q(core_);
        const auto& mapping = model_of<T>().mapping();
        detail::for_each_member_index<T>([&](auto i) {
            const auto& mm = mapping.members[i];
            if (mm.role == column_role::partition_key || mm.role == column_role::clustering ||
                mm.cql_type == "counter")
                return;
            const auto& v = detail::members<T>::template get<i>(value);
            q.set(member_pointer<i>, v);
        });
        for_key(value, [&](relation<T> r) { q.where(std::move(r)); });
        return q;
    }
    /// A DELETE to fill with where().
    delete_query<T> remove() const { return delete_query<T>(core_); }
    /// DELETE the row with the primary key of `key`.
    delete_query<T> remove(const T& key) const {
        delete_query<T> q(core_);
        for_key(key, [&](relation<T> r) { q.where(std::move(r)); });
        return q;
    }

    /// Creates or completes the table and its user types in this mapper's keyspace (see
    /// schema.hpp). Completes with `void(cql::error_code, cql::sync_report)`.
    /// \param diag failure details (alive until completion).
    /// \param tok an Asio completion token.
    template <class Token>
    auto async_sync_table(diagnostics& diag, Token&& tok) const {
        return sync(&diag, std::forward<Token>(tok));
    }
    /// \copybrief async_sync_table(diagnostics&, Token&&) const
    /// As the overload with `diag`, without the details.
    /// \param tok an Asio completion token.
    template <class Token>
    auto async_sync_table(Token&& tok) const {
        return sync(nullptr, std::forward<Token>(tok));
    }

  private:
    template <std::size_t I>
    static constexpr auto member_pointer = detail::members<T>::template descriptor<I>::pointer;

    // Calls f(relation) for each primary key member of `key`, == its value.
    template <class F>
    static void for_key(const T& key, F&& f) {
        const auto& mapping = model_of<T>().mapping();
        detail::for_each_member_index<T>([&](auto i) {
            const auto role = mapping.members[i].role;
            if (role != column_role::partition_key && role != column_role::clustering) return;
            relation<T> r;
            r.spec.member = i;
            r.spec.values.push_back(
                detail::make_bound_value(detail::members<T>::template get<i>(key)));
            f(std::move(r));
        });
    }

    template <class Token>
    auto sync(diagnostics* diag, Token&& tok) const {
        return boost::asio::async_initiate<Token, void(error_code, sync_report)>(
            [core = core_](auto handler, diagnostics* d, table_definition def) {
                detail::start_sync_table(core->sess(), std::move(def), d,
                                         detail::make_op_completion<error_code, sync_report>(
                                             std::move(handler), core->sess().get_executor()));
            },
            tok, diag, definition());
    }

    std::shared_ptr<detail::mapper_core> core_;
};

/// What a mapped_batch completes with: whether a conditional batch was applied (true for
/// others), and the server's answer (the "[applied]" row and, when not applied, the
/// current values).
struct batch_result {
    bool applied = true;  ///< the "[applied]" column
    cql::result raw;      ///< the server's answer
};

namespace detail {
void start_mapped_batch(std::vector<query_spec> specs, batch settings, diagnostics* diag,
                        op_ptr<error_code, batch_result> op);
}  // namespace detail

/// A BATCH of mapped writes (insert, update, remove queries of any mappers of one
/// session): each statement is prepared once per mapper, then the batch is sent as one
/// request. A refused query fails the whole batch before anything is sent.
///
/// \code
///   cql::mapped_batch b(cql::batch_type::logged);
///   b.add(animals.insert(lion)).add(plants.remove(old_oak));
///   co_await b.async_execute(use_awaitable);
/// \endcode
class mapped_batch {
  public:
    /// An empty batch of type `t`.
    explicit mapped_batch(batch_type t = batch_type::logged) : settings_(t) {}

    /// Adds a write (insert_query, update_query or delete_query).
    template <class Query>
    mapped_batch& add(const Query& q) {
        specs_.push_back(q.spec());
        return *this;
    }
    /// Number of writes added.
    std::size_t size() const noexcept { return specs_.size(); }
    /// The batch's own settings (consistency, serial consistency, timestamp, timeout,
    /// idempotence, profile); statements added to it here are sent too.
    cql::batch& settings() noexcept { return settings_; }

    /// Prepares what is not prepared yet, binds every write and sends the batch. Completes
    /// with `void(cql::error_code, cql::batch_result)`.
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

  private:
    template <class Token>
    auto run(diagnostics* diag, Token&& tok) const {
        return boost::asio::async_initiate<Token, void(error_code, batch_result)>(
            [](auto handler, std::vector<detail::query_spec> specs, cql::batch settings,
               diagnostics* d) {
                auto ex = specs.empty() ? boost::asio::any_io_executor(
                                              boost::asio::get_associated_executor(handler))
                                        : specs.front().core->sess().get_executor();
                detail::start_mapped_batch(
                    std::move(specs), std::move(settings), d,
                    detail::make_op_completion<error_code, batch_result>(std::move(handler), ex));
            },
            tok, specs_, settings_, diag);
    }

    cql::batch settings_;
    std::vector<detail::query_spec> specs_;
};

}  // namespace cql
