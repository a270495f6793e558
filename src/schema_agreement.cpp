// Schema agreement: after a schema change, wait until every up node reports the same
// schema_version (system.local and system.peers / peers_v2 read on the control connection),
// at most cluster_config::max_schema_agreement_wait.
#include <set>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "detail/cluster_impl.hpp"

namespace cql {

void cluster::start_check_agreement(std::unique_ptr<detail::op_completion<error_code, bool>> op) {
    impl_->start_check_agreement(std::move(op));
}

}  // namespace cql

namespace cql::detail {

namespace {
// How often agreement is checked while waiting for it.
constexpr std::chrono::milliseconds agreement_poll{200};

std::optional<protocol::uuid_bytes> version_of(row_view row) {
    std::optional<protocol::uuid_bytes> v;
    auto i = row.index_of("schema_version");
    if (i >= row.size() || row.try_get(i, v)) return std::nullopt;
    return v;
}

std::optional<protocol::inet_address> inet_column(row_view row, std::string_view name) {
    std::optional<protocol::inet_address> a;
    auto i = row.index_of(name);
    if (i >= row.size() || row.try_get(i, a)) return std::nullopt;
    return a;
}

bool unspecified(const protocol::inet_address& a) {
    for (auto b : a.address())
        if (b != 0) return false;
    return true;
}
}  // namespace

asio::awaitable<std::pair<std::error_code, bool>> cluster_impl::check_schema_agreement() {
    using out = std::pair<std::error_code, bool>;
    auto [lec, local] = co_await control_query("SELECT * FROM system.local WHERE key='local'");
    if (lec) co_return out{lec, false};
    auto [pec, peers] = co_await control_query(peers_v2_ ? "SELECT * FROM system.peers_v2"
                                                         : "SELECT * FROM system.peers");
    if (pec) co_return out{pec, false};
    std::set<protocol::uuid_bytes> versions;
    for (row_view row : local) {
        if (auto v = version_of(row)) versions.insert(*v);
        break;
    }
    for (row_view row : peers) {
        auto addr = inet_column(row, peers_v2_ ? "native_address" : "rpc_address");
        if (!addr || unspecified(*addr)) addr = inet_column(row, "peer");
        if (addr) {
            std::uint16_t port = cfg_.port;
            if (peers_v2_) {
                std::optional<std::int32_t> p;
                auto i = row.index_of("native_port");
                if (i < row.size() && !row.try_get(i, p) && p && *p > 0 && *p < 65536)
                    port = static_cast<std::uint16_t>(*p);
            }
            auto ep = host_endpoint::from_inet(*addr, port);
            ep.port = port;
            // A node known to be down does not take part (as in the DataStax drivers).
            auto it = host_map_.find(ep.to_string());
            if (it != host_map_.end() && !it->second->is_up()) continue;
        }
        if (auto v = version_of(row)) versions.insert(*v);
    }
    co_return out{std::error_code{}, versions.size() <= 1};
}

asio::awaitable<bool> cluster_impl::wait_schema_agreement() {
    const auto max_wait = cfg_.max_schema_agreement_wait;
    if (max_wait.count() <= 0) co_return false;
    const auto deadline = clock::now() + max_wait;
    for (;;) {
        auto [ec, agreed] = co_await check_schema_agreement();
        if (!ec && agreed) co_return true;
        if (closing_ || clock::now() + agreement_poll > deadline) break;
        if (!co_await control_sleep(agreement_poll)) break;
    }
    if (!closing_)
        log(log_level::warning,
            "no schema agreement within " + std::to_string(max_wait.count()) + " ms");
    co_return false;
}

void cluster_impl::start_check_agreement(std::unique_ptr<op_completion<error_code, bool>> op) {
    if (!connected_) {
        op->complete(session_errc::not_connected, false);
        return;
    }
    asio::co_spawn(
        control_executor(),
        [self = shared_from_this(), op = std::move(op)]() mutable -> asio::awaitable<void> {
            auto [ec, agreed] = co_await self->check_schema_agreement();
            op->complete(ec, agreed);
        },
        asio::detached);
}

void cluster_impl::settle_schema_change(shard& s, request& r) {
    // The request waits (on its shard, counted in flight) while the control executor waits
    // for agreement and re-reads the schema; then it completes on its shard.
    asio::co_spawn(
        control_executor(),
        [self = shared_from_this(), sh = &s, rq = &r]() -> asio::awaitable<void> {
            const bool agreed = co_await self->wait_schema_agreement();
            if (!self->closing_) {
                auto sec = co_await self->refresh_schema();
                if (sec && !self->closing_)
                    self->log(log_level::warning, "schema refresh failed: " + sec.message());
            }
            asio::post(sh->executor(), [rq, agreed] { rq->complete_schema_change(agreed); });
        },
        asio::detached);
}

}  // namespace cql::detail
