// Preparing statements (on the control executor, through the request engine): on one node
// of the plan, then on every other up node; cached by keyspace and query; re-prepared on a
// node that comes back up.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "cql/protocol/requests.hpp"
#include "detail/cluster_impl.hpp"
#include "detail/result_columns.hpp"
#include "detail/statement_kind.hpp"

namespace cql::detail {

namespace {
constexpr auto cancel_types = asio::cancellation_type::terminal | asio::cancellation_type::partial |
                              asio::cancellation_type::total;
// Preparing on the other nodes after the first: a short bound for each (the statement is
// re-prepared on demand anyway, when a node answers UNPREPARED).
constexpr std::chrono::seconds prepare_elsewhere_timeout{2};
}  // namespace

struct cluster_impl::prepare_op {
    prepare_completion op;
    diagnostics* diag = nullptr;  // the caller's: filled on failure, while op is pending
    void complete(error_code ec, prepared_statement p, const diagnostics* details = nullptr) {
        if (!op) return;
        if (ec && diag && details) *diag = *details;
        detail::complete(std::move(op), ec, std::move(p));
    }
};

void cluster_impl::start_prepare(std::string query, prepare_completion op,
                                 asio::cancellation_slot slot, std::string session_ks,
                                 diagnostics* diag) {
    if (!connected_) {
        complete(std::move(op), session_errc::not_connected, prepared_statement{});
        return;
    }
    if (closing_) {
        complete(std::move(op), session_errc::closed, prepared_statement{});
        return;
    }
    auto holder = std::make_shared<prepare_op>();
    holder->op = std::move(op);
    holder->diag = diag;
    if (slot.is_connected()) {
        // Completes at once; the preparation goes on in the background (and is cached).
        slot.assign([w = std::weak_ptr<prepare_op>(holder),
                     ex = control_executor()](asio::cancellation_type t) {
            if ((t & cancel_types) == asio::cancellation_type::none) return;
            asio::post(ex, [w] {
                if (auto h = w.lock()) h->complete(error_code(asio::error::operation_aborted), {});
            });
        });
    }
    asio::co_spawn(control_executor(),
                   run_prepare(std::move(query), std::move(holder), std::move(session_ks)),
                   asio::detached);
}

namespace {
// A PREPARE request: on the plan's hosts (only_host unset) or on one host.
request_handle prepare_request(const std::string& query, const std::string& ks,
                               protocol::protocol_version v, const execution_profile& prof,
                               std::chrono::milliseconds timeout, host_ptr only_host) {
    request_handle r(new_request());
    auto& sp = r->spec;
    sp.type = request_spec::kind::prepare;
    sp.version = v;
    sp.profile = &prof;
    sp.keyspace = ks;
    sp.cl = prof.consistency;
    sp.timeout = timeout;
    sp.only_host = std::move(only_host);
    sp.idempotent = true;  // preparing twice is harmless
    const bool v5 = v >= protocol::protocol_version::v5;
    if (!v5) sp.use_keyspace = ks;  // v4 prepares in the connection's keyspace
    protocol::prepare_request pr;
    pr.query = query;
    if (v5 && !ks.empty()) pr.keyspace = ks;
    sp.ec = protocol::encode_request_frame(sp.frame, v, 0, pr);
    return r;
}
}  // namespace

asio::awaitable<void> cluster_impl::run_prepare(std::string query, std::shared_ptr<prepare_op> op,
                                                std::string session_ks) {
    auto self = shared_from_this();
    auto ks = session_ks.empty() ? keyspace() : session_ks;
    std::string key = ks + '\0' + query;
    if (auto it = prepared_.find(key); it != prepared_.end()) {
        op->complete({}, prepared_statement(it->second));
        co_return;
    }
    const auto& prof = profiles_.default_profile();
    auto r = prepare_request(query, ks, version_.load(), prof, prof.request_timeout, nullptr);
    if (r->spec.ec) {
        diagnostics d;
        d.message = "cannot encode the PREPARE: " + r->spec.ec.message();
        op->complete(r->spec.ec, prepared_statement{}, &d);
        co_return;
    }
    diagnostics diag;
    host_ptr used;
    r->spec.diag = &diag;
    r->spec.answered_by = &used;
    auto [ec, res] = co_await run_on_control(std::move(r));
    const protocol::prepared_result* pr = nullptr;
    if (!ec) {
        pr = std::get_if<protocol::prepared_result>(&res.message());
        if (!pr) ec = errc::unexpected_response;
    }
    if (ec) {
        if (diag.message.empty()) diag.message = ec.message();
        log(log_level::debug, "prepare failed: " + diag.message);
        op->complete(ec, prepared_statement{}, &diag);
        co_return;
    }
    auto info = std::make_shared<prepared_info>();
    info->query = query;
    info->keyspace = ks;
    info->id.assign(pr->id.begin(), pr->id.end());
    info->set_result_metadata_id(pr->result_metadata_id);
    info->variables = owned_columns(pr->metadata.columns);
    info->pk_indexes = pr->metadata.pk_indexes;
    info->result_columns = owned_columns(pr->result.columns);
    if (pr->metadata.global_tables_spec)
        info->routing_keyspace = std::string(pr->metadata.global_spec.keyspace);
    else if (!info->variables.empty())
        info->routing_keyspace = info->variables.front().keyspace;
    {  // LWT / counter update: never idempotent (read by make_request)
        const auto schema = metadata();
        const auto k =
            classify_prepared(query, info->variables, schema.get(),
                              info->routing_keyspace.empty() ? ks : info->routing_keyspace);
        info->lwt = k.lwt;
        info->counter_update = k.counter;
    }
    prepared_access::init(*info, selects_named_columns(query));
    prepared_.emplace(key, info);
    // The other nodes learn it now, so that executing there needs no re-prepare.
    for (const auto& h : hosts()) {
        if (h == used || !h->is_up() || closing_) continue;
        diagnostics d;
        if (auto pec = co_await prepare_on(h, *info, d))
            log(log_level::debug, "prepare on " + h->endpoint().to_string() + ": " + pec.message());
    }
    op->complete({}, prepared_statement(info));
}

asio::awaitable<std::error_code> cluster_impl::prepare_on(const host_ptr& h, const prepared_info& p,
                                                          diagnostics& diag) {
    auto r = prepare_request(p.query, p.keyspace, version_.load(), profiles_.default_profile(),
                             prepare_elsewhere_timeout, h);
    if (r->spec.ec) co_return r->spec.ec;
    r->spec.diag = &diag;
    auto [ec, res] = co_await run_on_control(std::move(r));
    co_return ec;
}

asio::awaitable<void> cluster_impl::reprepare_on_host(host_ptr h) {
    auto self = shared_from_this();
    auto all = prepared_;
    for (const auto& [k, p] : all) {
        if (closing_ || !h->is_up()) break;
        diagnostics diag;
        auto ec = co_await prepare_on(h, *p, diag);
        if (ec && (is_connection_error(ec) || ec == session_errc::no_host_available)) break;
    }
}

}  // namespace cql::detail
