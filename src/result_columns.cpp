#include "detail/result_columns.hpp"

#include <mutex>

namespace cql::detail {

std::vector<prepared_column> owned_columns(const std::vector<protocol::column_spec>& in) {
    std::vector<prepared_column> out;
    out.reserve(in.size());
    for (const auto& c : in)
        out.push_back({std::string(c.keyspace), std::string(c.table), std::string(c.name), c.type});
    return out;
}

namespace {
std::shared_ptr<result_columns> make_result_columns(std::vector<prepared_column> owned) {
    auto c = std::make_shared<result_columns>();
    c->owned = std::move(owned);
    // (The specs view the strings: `owned` is never resized after this.)
    c->metadata.columns.reserve(c->owned.size());
    for (const auto& o : c->owned)
        c->metadata.columns.push_back({o.keyspace, o.table, o.name, o.type});
    c->metadata.column_count = static_cast<std::int32_t>(c->owned.size());
    return c;
}
}  // namespace

void prepared_access::init(prepared_info& info, bool named_columns) {
    info.skip_with_v4_ = named_columns;
    if (info.lwt || info.result_columns.empty()) return;
    auto c = make_result_columns(info.result_columns);
    info.skippable_.store(c.get(), std::memory_order_release);
    info.versions_.push_back(std::move(c));
}

const result_columns* prepared_access::for_execute(const prepared_info& info,
                                                   protocol::protocol_version v,
                                                   protocol::byte_buffer& rmid) {
    rmid.clear();
    if (v < protocol::protocol_version::v5) {
        if (!info.skip_with_v4_) return nullptr;
        return info.skippable_.load(std::memory_order_acquire);
    }
    // The id sent and the columns read with go together: both under the lock.
    std::lock_guard lk(info.mutex_);
    rmid.assign(info.result_metadata_id_.begin(), info.result_metadata_id_.end());
    return info.skippable_.load(std::memory_order_relaxed);
}

const result_columns* prepared_access::replace(const prepared_info& info,
                                               const protocol::result_metadata& m,
                                               std::optional<protocol::bytes_view> id) {
    std::shared_ptr<result_columns> c;
    if (!m.no_metadata && !m.columns.empty() && !info.lwt)
        c = make_result_columns(owned_columns(m.columns));
    std::lock_guard lk(info.mutex_);
    if (id) info.result_metadata_id_.assign(id->begin(), id->end());
    if (!c) {
        info.skippable_.store(nullptr, std::memory_order_release);
        return nullptr;
    }
    const result_columns* raw = c.get();
    info.versions_.push_back(std::move(c));
    info.skippable_.store(raw, std::memory_order_release);
    return raw;
}

void prepared_access::stop_skipping(const prepared_info& info) {
    // (A later re-preparation may publish columns again: they are the server's then.)
    std::lock_guard lk(info.mutex_);
    info.skippable_.store(nullptr, std::memory_order_release);
}

void prepared_access::read_with(result& r, std::shared_ptr<const prepared_info> info,
                                const result_columns& c) {
    if (!r.s_) return;
    r.s_->read_with = &c.metadata;
    r.s_->statement = std::move(info);
}

}  // namespace cql::detail
