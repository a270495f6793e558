#include "cql/policies/load_balancing.hpp"

#include <algorithm>
#include <random>

namespace cql {

// ---------------------------------------------------------------------------------------
// query_plan

void query_plan::destroy_source() noexcept {
    if (!source_) return;
    if (inline_)
        source_->~source();
    else
        delete source_;
    source_ = nullptr;
    inline_ = false;
}

void query_plan::reset() noexcept {
    destroy_source();
    first_count_ = 0;
    first_pos_ = 0;
    filter_count_ = 0;
    for (std::size_t i = 0; i < keep_alive_count_; ++i)
        keep_alive_[i].reset();
    keep_alive_count_ = 0;
}

bool query_plan::accept(const host& h) const {
    if (!h.is_up()) return false;
    for (std::size_t i = 0; i < filter_count_; ++i)
        if (*filters_[i] && !(*filters_[i])(h)) return false;
    return true;
}

bool query_plan::in_first(const host* h) const noexcept {
    for (std::size_t i = 0; i < first_count_; ++i)
        if (first_[i]->get() == h) return true;
    return false;
}

host_ptr query_plan::next() {
    while (first_pos_ < first_count_) {
        const host_ptr& h = *first_[first_pos_++];
        if (accept(*h)) return h;
    }
    if (!source_) return nullptr;
    while (host_ptr h = source_->next()) {
        if (in_first(h.get())) continue;
        if (accept(*h)) return h;
    }
    return nullptr;
}

namespace {

std::uint64_t splitmix64(std::uint64_t x) noexcept {
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

std::uint64_t random_seed() {
    std::random_device rd;
    return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
}

}  // namespace

// ---------------------------------------------------------------------------------------
// dc_aware_policy

struct dc_aware_policy::snapshot {
    std::string local_dc;
    std::vector<host_ptr> local_rack;       // local DC and local rack (when a rack is preferred)
    std::vector<host_ptr> local_other;      // the rest of the local DC (all hosts if DC unknown)
    std::vector<std::string> remote_names;  // sorted
    std::vector<std::vector<host_ptr>> remote;
};

namespace {

class dc_source final : public query_plan::source {
  public:
    dc_source(std::shared_ptr<const dc_aware_policy::snapshot> s, std::size_t start,
              int used_remote, bool remote_allowed)
        : snap_(std::move(s)), start_(start), used_remote_(remote_allowed ? used_remote : 0) {}

    host_ptr next() override;

  private:
    std::shared_ptr<const dc_aware_policy::snapshot> snap_;
    std::size_t start_;
    int used_remote_;
    int phase_ = 0;
    std::size_t pos_ = 0;
    std::size_t dc_ = 0;
    int dc_yielded_ = 0;
};

host_ptr dc_source::next() {
    for (;;) {
        switch (phase_) {
            case 0:
            case 1: {
                const auto& list = phase_ == 0 ? snap_->local_rack : snap_->local_other;
                if (pos_ < list.size()) {
                    const host_ptr& h = list[(start_ + pos_++) % list.size()];
                    return h;
                }
                ++phase_;
                pos_ = 0;
                break;
            }
            default: {
                if (used_remote_ <= 0) return nullptr;
                while (dc_ < snap_->remote.size()) {
                    const auto& list = snap_->remote[dc_];
                    while (pos_ < list.size() && dc_yielded_ < used_remote_) {
                        const host_ptr& h = list[pos_++];
                        if (h->is_up()) {
                            ++dc_yielded_;
                            return h;
                        }
                    }
                    ++dc_;
                    pos_ = 0;
                    dc_yielded_ = 0;
                }
                return nullptr;
            }
        }
    }
}

}  // namespace

dc_aware_policy::dc_aware_policy(dc_aware_options opts)
    : opts_(std::move(opts)), local_dc_(opts_.local_dc) {
    std::lock_guard lock(mutex_);
    rebuild_locked();
}

dc_aware_policy::~dc_aware_policy() = default;

void dc_aware_policy::rebuild_locked() {
    auto s = std::make_shared<snapshot>();
    s->local_dc = local_dc_;
    for (const auto& h : hosts_) {
        if (opts_.filter && !opts_.filter(*h)) continue;
        if (local_dc_.empty() || h->datacenter() == local_dc_) {
            if (!opts_.local_rack.empty() && h->rack() == opts_.local_rack)
                s->local_rack.push_back(h);
            else
                s->local_other.push_back(h);
            continue;
        }
        auto it = std::lower_bound(s->remote_names.begin(), s->remote_names.end(), h->datacenter());
        auto idx = it - s->remote_names.begin();
        if (it == s->remote_names.end() || *it != h->datacenter()) {
            s->remote_names.insert(it, h->datacenter());
            s->remote.insert(s->remote.begin() + idx, std::vector<host_ptr>{});
        }
        s->remote[idx].push_back(h);
    }
    snapshot_.store(std::move(s));
}

void dc_aware_policy::init(std::span<const host_ptr> hosts,
                           std::span<const host_ptr> contact_points) {
    std::lock_guard lock(mutex_);
    if (local_dc_.empty()) {
        for (const auto& cp : contact_points)
            if (cp && !cp->datacenter().empty()) {
                local_dc_ = cp->datacenter();
                break;
            }
    }
    for (const auto& h : hosts)
        if (h && std::find(hosts_.begin(), hosts_.end(), h) == hosts_.end()) hosts_.push_back(h);
    rebuild_locked();
}

std::string dc_aware_policy::local_dc() const {
    std::lock_guard lock(mutex_);
    return local_dc_;
}

host_distance dc_aware_policy::distance(const host& h) const {
    if (opts_.filter && !opts_.filter(h)) return host_distance::ignored;
    // (Called per replica of every request: reads the snapshot under the lock, no copy.)
    return snapshot_.visit([&](const snapshot* s) {
        if (s->local_dc.empty() || h.datacenter() == s->local_dc) return host_distance::local;
        if (opts_.used_hosts_per_remote_dc <= 0) return host_distance::ignored;
        auto it = std::lower_bound(s->remote_names.begin(), s->remote_names.end(), h.datacenter());
        if (it == s->remote_names.end() || *it != h.datacenter()) return host_distance::ignored;
        int counted = 0;
        for (const auto& x : s->remote[it - s->remote_names.begin()]) {
            if (x.get() == &h) return host_distance::remote;
            if (x->is_up() && ++counted >= opts_.used_hosts_per_remote_dc) break;
        }
        return host_distance::ignored;
    });
}

void dc_aware_policy::new_plan(const routing_info& info, query_plan& plan) const {
    auto s = snapshot_.load();
    const bool remote_allowed =
        !is_dc_local(info.consistency) || opts_.allow_remote_dcs_for_local_consistency;
    const std::size_t start = index_.fetch_add(1, std::memory_order_relaxed);
    plan.emplace_source<dc_source>(std::move(s), start, opts_.used_hosts_per_remote_dc,
                                   remote_allowed);
}

void dc_aware_policy::on_add(const host_ptr& h) {
    if (!h) return;
    std::lock_guard lock(mutex_);
    if (std::find(hosts_.begin(), hosts_.end(), h) != hosts_.end()) return;
    hosts_.push_back(h);
    rebuild_locked();
}

void dc_aware_policy::on_remove(const host_ptr& h) {
    std::lock_guard lock(mutex_);
    auto it = std::find(hosts_.begin(), hosts_.end(), h);
    if (it == hosts_.end()) return;
    hosts_.erase(it);
    rebuild_locked();
}

// ---------------------------------------------------------------------------------------
// token_aware_policy

token_aware_policy::token_aware_policy(std::shared_ptr<load_balancing_policy> child,
                                       token_aware_options opts)
    : child_(std::move(child)), opts_(std::move(opts)) {
    counter_.store(opts_.seed != 0 ? opts_.seed : random_seed(), std::memory_order_relaxed);
}

void token_aware_policy::init(std::span<const host_ptr> hosts,
                              std::span<const host_ptr> contact_points) {
    child_->init(hosts, contact_points);
}
host_distance token_aware_policy::distance(const host& h) const {
    return child_->distance(h);
}
void token_aware_policy::on_add(const host_ptr& h) {
    child_->on_add(h);
}
void token_aware_policy::on_remove(const host_ptr& h) {
    child_->on_remove(h);
}
void token_aware_policy::on_up(const host_ptr& h) {
    child_->on_up(h);
}
void token_aware_policy::on_down(const host_ptr& h) {
    child_->on_down(h);
}
bool token_aware_policy::reads_latencies() const noexcept {
    return opts_.avoid_slow_replicas || child_->reads_latencies();
}

void token_aware_policy::on_token_map(std::shared_ptr<const token_map> map) {
    map_.store(map);
    child_->on_token_map(std::move(map));
}

void token_aware_policy::new_plan(const routing_info& info, query_plan& plan) const {
    child_->new_plan(info, plan);
    if (info.keyspace.empty() || (!info.token && info.routing_key.empty())) return;
    auto map = map_.load();
    if (!map) return;
    std::span<const host_ptr> replicas = info.token
                                             ? map->replicas(info.keyspace, *info.token)
                                             : map->replicas(info.keyspace, info.routing_key);
    if (replicas.empty()) return;

    const host_ptr* chosen[query_plan::max_first];
    std::size_t n = 0;
    for (const host_ptr& r : replicas) {
        if (n == query_plan::max_first) break;
        if (r->is_up() && child_->distance(*r) == host_distance::local) chosen[n++] = &r;
    }
    if (n == 0) return;

    if (opts_.shuffle_replicas && n > 1) {
        std::uint64_t x = splitmix64(counter_.fetch_add(1, std::memory_order_relaxed));
        for (std::size_t i = n - 1; i > 0; --i) {
            x = splitmix64(x);
            std::size_t j = static_cast<std::size_t>(x % (i + 1));
            std::swap(chosen[i], chosen[j]);
        }
    }
    if (!opts_.local_rack.empty()) {
        std::stable_partition(chosen, chosen + n,
                              [&](const host_ptr* h) { return (*h)->rack() == opts_.local_rack; });
    }
    if (opts_.avoid_slow_replicas && n > 1) {
        const auto now = opts_.clock ? opts_.clock() : std::chrono::steady_clock::now();
        latency_tracker::snapshot stats[query_plan::max_first];
        bool valid[query_plan::max_first] = {};
        std::optional<std::chrono::nanoseconds> best;
        for (std::size_t i = 0; i < n; ++i) {
            stats[i] = (*chosen[i])->latency().get();
            valid[i] = stats[i].samples >= opts_.min_samples &&
                       now - stats[i].last_update <= opts_.sample_validity;
            if (valid[i] && (!best || stats[i].average < *best)) best = stats[i].average;
        }
        if (best) {
            const double limit = opts_.slow_ratio * static_cast<double>(best->count());
            bool slow[query_plan::max_first] = {};
            for (std::size_t i = 0; i < n; ++i)
                slow[i] = valid[i] && static_cast<double>(stats[i].average.count()) > limit;
            const host_ptr* ordered[query_plan::max_first];
            std::size_t k = 0;
            for (std::size_t i = 0; i < n; ++i)
                if (!slow[i]) ordered[k++] = chosen[i];
            for (std::size_t i = 0; i < n; ++i)
                if (slow[i]) ordered[k++] = chosen[i];
            std::copy(ordered, ordered + n, chosen);
        }
    }
    for (std::size_t i = 0; i < n; ++i)
        plan.add_first(chosen[i]);
    plan.keep_alive(std::move(map));
}

// ---------------------------------------------------------------------------------------
// filtering_policy

filtering_policy::filtering_policy(std::shared_ptr<load_balancing_policy> child,
                                   host_predicate allow)
    : child_(std::move(child)), allow_(std::move(allow)) {}

void filtering_policy::init(std::span<const host_ptr> hosts,
                            std::span<const host_ptr> contact_points) {
    std::vector<host_ptr> allowed;
    for (const auto& h : hosts)
        if (h && (!allow_ || allow_(*h))) allowed.push_back(h);
    child_->init(allowed, contact_points);
}

host_distance filtering_policy::distance(const host& h) const {
    if (allow_ && !allow_(h)) return host_distance::ignored;
    return child_->distance(h);
}

void filtering_policy::new_plan(const routing_info& info, query_plan& plan) const {
    child_->new_plan(info, plan);
    plan.add_filter(&allow_);
}

void filtering_policy::on_add(const host_ptr& h) {
    if (h && (!allow_ || allow_(*h))) child_->on_add(h);
}
void filtering_policy::on_remove(const host_ptr& h) {
    child_->on_remove(h);
}
void filtering_policy::on_up(const host_ptr& h) {
    if (h && (!allow_ || allow_(*h))) child_->on_up(h);
}
void filtering_policy::on_down(const host_ptr& h) {
    if (h && (!allow_ || allow_(*h))) child_->on_down(h);
}
void filtering_policy::on_token_map(std::shared_ptr<const token_map> map) {
    child_->on_token_map(std::move(map));
}

host_predicate allow_endpoints(std::vector<host_endpoint> endpoints) {
    return [eps = std::move(endpoints)](const host& h) {
        return std::find(eps.begin(), eps.end(), h.endpoint()) != eps.end();
    };
}

host_predicate deny_endpoints(std::vector<host_endpoint> endpoints) {
    return [eps = std::move(endpoints)](const host& h) {
        return std::find(eps.begin(), eps.end(), h.endpoint()) == eps.end();
    };
}

host_predicate allow_datacenters(std::vector<std::string> dcs) {
    return [dcs = std::move(dcs)](const host& h) {
        return std::find(dcs.begin(), dcs.end(), h.datacenter()) != dcs.end();
    };
}

std::shared_ptr<load_balancing_policy> make_default_load_balancing(
    default_load_balancing_options opts) {
    if (opts.token.local_rack.empty()) opts.token.local_rack = opts.dc.local_rack;
    auto dc = std::make_shared<dc_aware_policy>(std::move(opts.dc));
    if (!opts.token_aware) return dc;
    return std::make_shared<token_aware_policy>(std::move(dc), std::move(opts.token));
}

}  // namespace cql
