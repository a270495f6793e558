#pragma once
/// \file
/// Load balancing: which hosts a request may go to, in which order (the query plan), and how
/// far each host is (local / remote / ignored: the cluster keeps pools to local and remote
/// hosts only).
///
/// Use by the cluster/session:
/// \code
///   policy->init(hosts, contact_points);            // once, before the first plan
///   policy->on_add(h) / on_remove(h) / on_up(h) / on_down(h);   // topology and state events
///   policy->on_token_map(map);                      // each new token_map snapshot
///   cql::query_plan plan;                           // lives with the request
///   policy->new_plan({keyspace, routing_key, consistency}, plan);
///   while (cql::host_ptr h = plan.next()) { ... try h ... }
/// \endcode
///
/// Policies are shared between threads: notifications and new_plan may run concurrently
/// (plans read immutable snapshots; round-robin indexes are atomics). One query_plan is used
/// by one request at a time (not thread-safe), and must not outlive the policy that made it.
/// A plan never yields a host that is down (checked when the host is yielded) nor a host
/// twice; for the built-in policies a plan allocates nothing (a small inline buffer holds its
/// state).

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "cql/host.hpp"
#include "cql/protocol/bytes.hpp"
#include "cql/protocol/version.hpp"
#include "cql/token_map.hpp"

namespace cql {

namespace detail {
// A shared_ptr that one thread may replace while others copy it, read on every request.
// (Not std::atomic<std::shared_ptr>: libstdc++ 12's lock bit is invisible to
// ThreadSanitizer, which reports races on every load/store pair. Not std::mutex: the
// critical sections are a few instructions, and a spin lock's release is a plain store.)
template <class T>
class guarded_shared_ptr {
  public:
    std::shared_ptr<T> load() const {
        lock();
        auto p = ptr_;
        unlock();
        return p;
    }
    // f(const T*) under the lock, without copying the shared_ptr: f must be short.
    template <class F>
    decltype(auto) visit(F&& f) const {
        struct unlocker {
            const guarded_shared_ptr* g;
            ~unlocker() { g->unlock(); }
        };
        lock();
        unlocker u{this};
        return std::forward<F>(f)(static_cast<T*>(ptr_.get()));
    }
    void store(std::shared_ptr<T> p) {
        lock();
        ptr_.swap(p);
        unlock();  // (the old value is released outside the lock)
    }

  private:
    void lock() const noexcept {
        for (int spins = 0; busy_.exchange(true, std::memory_order_acquire);) {
            if (++spins >= 64) {
                std::this_thread::yield();  // (the holder may have been preempted)
                spins = 0;
            }
        }
    }
    void unlock() const noexcept { busy_.store(false, std::memory_order_release); }

    mutable std::atomic<bool> busy_{false};
    std::shared_ptr<T> ptr_{};
};
}  // namespace detail

/// What a policy may know about one request.
struct routing_info {
    std::string_view keyspace{};         ///< the statement's keyspace, or the session's
    protocol::bytes_view routing_key{};  ///< serialized partition key (composite if several)
    std::optional<cql::token> token{};   ///< precomputed token; wins over routing_key
    protocol::consistency consistency = protocol::consistency::local_one;  ///< of the request
};

/// A host filter: true keeps the host. Called from any thread, concurrently: keep it pure.
using host_predicate = std::function<bool(const host&)>;

/// The hosts to try for one request, lazily. See the top of this file.
class query_plan {
  public:
    /// A lazy generator of hosts, for policy implementers. Returns nullptr at the end.
    class source {
      public:
        virtual ~source() = default;
        /// The next candidate (the plan skips those down, filtered or already yielded).
        virtual host_ptr next() = 0;
    };

    /// Bytes of the inline buffer for a source; larger sources are heap-allocated.
    static constexpr std::size_t inline_size = 128;
    static constexpr std::size_t max_first = 16;      ///< capacity of add_first()
    static constexpr std::size_t max_filters = 4;     ///< capacity of add_filter()
    static constexpr std::size_t max_keep_alive = 2;  ///< capacity of keep_alive()

    /// An empty plan: next() returns nullptr until a policy's new_plan() fills it.
    query_plan() = default;
    query_plan(const query_plan&) = delete;
    query_plan& operator=(const query_plan&) = delete;
    ~query_plan() { reset(); }

    /// The next host to try, nullptr when the plan is exhausted.
    host_ptr next();

    /// Empties the plan (for reuse).
    void reset() noexcept;

    // --- For policy implementers -------------------------------------------------------
    /// Installs the generator, constructed from `args` (in the inline buffer when it fits,
    /// else on the heap), replacing any previous one. For policy implementers.
    template <class Source, class... Args>
    Source& emplace_source(Args&&... args) {
        static_assert(std::is_base_of_v<source, Source>);
        destroy_source();
        if constexpr (sizeof(Source) <= inline_size &&
                      alignof(Source) <= alignof(std::max_align_t)) {
            auto* s = ::new (static_cast<void*>(storage_)) Source(std::forward<Args>(args)...);
            source_ = s;
            inline_ = true;
            return *s;
        } else {
            auto* s = new Source(std::forward<Args>(args)...);
            source_ = s;
            inline_ = false;
            return *s;
        }
    }
    /// Hosts yielded before the source's (e.g. replicas), in this order; the source's hosts
    /// that are among them are skipped. At most max_first (more are ignored). The pointee
    /// must outlive the plan (use keep_alive).
    void add_first(const host_ptr* h) noexcept {
        if (h && *h && first_count_ < max_first) first_[first_count_++] = h;
    }
    std::size_t first_count() const noexcept { return first_count_; }  ///< hosts added first
    /// Holds an object (a snapshot the first hosts point into) as long as the plan lives
    /// (at most max_keep_alive; returns false when there is no room).
    bool keep_alive(std::shared_ptr<const void> p) noexcept {
        if (keep_alive_count_ >= max_keep_alive) return false;
        keep_alive_[keep_alive_count_++] = std::move(p);
        return true;
    }
    /// Hosts for which the predicate is false are skipped (at most max_filters; the pointee
    /// must outlive the plan). Returns false when there is no room.
    bool add_filter(const host_predicate* f) noexcept {
        if (!f || filter_count_ >= max_filters) return false;
        filters_[filter_count_++] = f;
        return true;
    }

  private:
    bool accept(const host& h) const;
    bool in_first(const host* h) const noexcept;
    void destroy_source() noexcept;

    alignas(std::max_align_t) unsigned char storage_[inline_size];
    source* source_ = nullptr;
    bool inline_ = false;
    std::uint8_t first_count_ = 0;
    std::uint8_t first_pos_ = 0;
    std::uint8_t filter_count_ = 0;
    std::uint8_t keep_alive_count_ = 0;
    const host_ptr* first_[max_first] = {};
    const host_predicate* filters_[max_filters] = {};
    std::shared_ptr<const void> keep_alive_[max_keep_alive];
};

/// Chooses and orders the hosts of each request (see the file description for how the
/// cluster drives it and the thread-safety rules). Implement it to route requests your way;
/// the built-in ones are dc_aware_policy, token_aware_policy and filtering_policy, composed
/// by make_default_load_balancing(). Set it in execution_profile::load_balancing.
class load_balancing_policy {
  public:
    virtual ~load_balancing_policy() = default;

    /// Once, before the first plan: the hosts known so far, and the contact point the
    /// control connection reached (as a host; dc_aware_policy takes its datacenter as the
    /// local one when none is set).
    virtual void init(std::span<const host_ptr> hosts,
                      std::span<const host_ptr> contact_points) = 0;
    /// How far `h` is: the cluster keeps pools to local and remote hosts, none to ignored
    /// ones, and asks again after each topology event. Called from any thread.
    virtual host_distance distance(const host& h) const = 0;
    /// Fills `plan` (empty on entry) with the hosts to try for a request described by
    /// `info`, best first. Called concurrently from any thread, once per request (and per
    /// page): keep it cheap and allocation-free.
    virtual void new_plan(const routing_info& info, query_plan& plan) const = 0;

    /// A host joined the cluster (or was discovered); it starts up.
    virtual void on_add(const host_ptr& h) = 0;
    /// A host left the cluster (or changed and is re-added as a new object).
    virtual void on_remove(const host_ptr& h) = 0;
    /// A host came back up (plans check host::is_up() themselves; this is for bookkeeping).
    virtual void on_up(const host_ptr&) {}
    /// A host went down.
    virtual void on_down(const host_ptr&) {}
    /// A new token map snapshot (topology or keyspace replication changed).
    virtual void on_token_map(std::shared_ptr<const token_map>) {}
    /// Whether the plans read the hosts' response times (host::latency()): the driver
    /// measures the requests this policy routes only then. True unless a policy says it
    /// does not; the built-in ones read them for token_aware_options::avoid_slow_replicas.
    virtual bool reads_latencies() const noexcept { return true; }
};

// ----------------------------------------------------------------------------------------
// Datacenter-aware round robin: hosts of the local datacenter in turn (those of the local
// rack first when one is set), then, when allowed, up to used_hosts_per_remote_dc hosts of
// each other datacenter (datacenters by name, hosts in the order they were added).

/// Settings of dc_aware_policy.
struct dc_aware_options {
    std::string local_dc{};    ///< empty: the datacenter of the first contact point at init()
    std::string local_rack{};  ///< non-empty: hosts of this rack (in the local DC) first
    /// Hosts per remote datacenter that get pools (distance remote) and appear in plans; the
    /// first that are up (or the host asked about) in the order hosts were added.
    int used_hosts_per_remote_dc = 0;
    /// With LOCAL_ONE / LOCAL_QUORUM / LOCAL_SERIAL, remote hosts are left out unless this is set.
    bool allow_remote_dcs_for_local_consistency = false;
    host_predicate filter{};  ///< hosts for which this is false are ignored (distance, plans)
};

/// Datacenter-aware round robin: hosts of the local datacenter in turn (those of the local
/// rack first when one is set), then, when allowed, up to used_hosts_per_remote_dc hosts of
/// each other datacenter (datacenters by name, hosts in the order they were added). Plans
/// read an immutable snapshot; host events rebuild it under a mutex.
class dc_aware_policy : public load_balancing_policy {
  public:
    /// A policy with the given options; the local datacenter may be left to init().
    explicit dc_aware_policy(dc_aware_options opts = {});
    ~dc_aware_policy() override;

    void init(std::span<const host_ptr> hosts, std::span<const host_ptr> contact_points) override;
    host_distance distance(const host& h) const override;
    void new_plan(const routing_info& info, query_plan& plan) const override;
    void on_add(const host_ptr& h) override;
    void on_remove(const host_ptr& h) override;
    bool reads_latencies() const noexcept override { return false; }

    /// The local datacenter in use (configured or inferred; empty while unknown: then every
    /// host counts as local).
    std::string local_dc() const;

    struct snapshot;  ///< the immutable state plans read (internal)

  private:
    void rebuild_locked();

    dc_aware_options opts_{};
    mutable std::mutex mutex_{};     // writers
    std::string local_dc_{};         // guarded by mutex_
    std::vector<host_ptr> hosts_{};  // guarded by mutex_, insertion order
    detail::guarded_shared_ptr<const snapshot> snapshot_{};
    mutable std::atomic<std::size_t> index_{0};
};

// ----------------------------------------------------------------------------------------
// Token awareness over any child policy: the replicas of the request's token that the child
// calls local (and that are up) first, then the child's plan without them.

/// Settings of token_aware_policy.
struct token_aware_options {
    bool shuffle_replicas = true;  ///< spread the load over the replicas (else primary first)
    std::string local_rack{};      ///< non-empty: replicas in this rack before the others
    /// Replicas that answered much slower than the best one lately go after the others:
    /// slow = at least min_samples measured, last measured within sample_validity, and
    /// average > slow_ratio * the smallest such average among the replicas.
    bool avoid_slow_replicas = false;
    double slow_ratio = 2.0;         ///< see avoid_slow_replicas
    std::uint64_t min_samples = 50;  ///< see avoid_slow_replicas
    std::chrono::nanoseconds sample_validity = std::chrono::seconds(10);  ///< see above
    std::function<std::chrono::steady_clock::time_point()> clock{};  ///< default steady_clock::now
    std::uint64_t seed = 0;                                          ///< shuffle seed; 0: random
};

/// Token awareness over any child policy: the replicas of the request's token that the child
/// calls local (and that are up) first, then the child's plan without them. Requests without
/// a keyspace or routing key (or with a keyspace the token map does not know) get the
/// child's plan unchanged. Needs cluster metadata (the token map) to do anything.
class token_aware_policy : public load_balancing_policy {
  public:
    /// Wraps `child` (which must not be null); host events are forwarded to it.
    token_aware_policy(std::shared_ptr<load_balancing_policy> child, token_aware_options opts = {});

    void init(std::span<const host_ptr> hosts, std::span<const host_ptr> contact_points) override;
    host_distance distance(const host& h) const override;
    void new_plan(const routing_info& info, query_plan& plan) const override;
    void on_add(const host_ptr& h) override;
    void on_remove(const host_ptr& h) override;
    void on_up(const host_ptr& h) override;
    void on_down(const host_ptr& h) override;
    void on_token_map(std::shared_ptr<const token_map> map) override;
    bool reads_latencies() const noexcept override;

    /// The wrapped policy.
    const std::shared_ptr<load_balancing_policy>& child() const noexcept { return child_; }

  private:
    std::shared_ptr<load_balancing_policy> child_{};
    token_aware_options opts_{};
    detail::guarded_shared_ptr<const token_map> map_{};
    mutable std::atomic<std::uint64_t> counter_{};
};

// ----------------------------------------------------------------------------------------
// Host filters over any child policy: hosts for which the predicate is false are ignored.

/// Host filters over any child policy: hosts for which `allow` is false are ignored (distance
/// ignored, never in plans, never given to the child by init, on_add, on_up or on_down).
class filtering_policy : public load_balancing_policy {
  public:
    /// Wraps `child` (which must not be null) with the filter `allow`.
    filtering_policy(std::shared_ptr<load_balancing_policy> child, host_predicate allow);

    void init(std::span<const host_ptr> hosts, std::span<const host_ptr> contact_points) override;
    host_distance distance(const host& h) const override;
    void new_plan(const routing_info& info, query_plan& plan) const override;
    void on_add(const host_ptr& h) override;
    void on_remove(const host_ptr& h) override;
    void on_up(const host_ptr& h) override;
    void on_down(const host_ptr& h) override;
    void on_token_map(std::shared_ptr<const token_map> map) override;
    bool reads_latencies() const noexcept override { return child_->reads_latencies(); }

  private:
    std::shared_ptr<load_balancing_policy> child_{};
    host_predicate allow_{};
};

/// A filter keeping only the hosts at these endpoints (address and port compared exactly).
host_predicate allow_endpoints(std::vector<host_endpoint> endpoints);
/// A filter keeping every host but those at these endpoints.
host_predicate deny_endpoints(std::vector<host_endpoint> endpoints);
/// A filter keeping only the hosts of these datacenters.
host_predicate allow_datacenters(std::vector<std::string> dcs);

/// The settings of make_default_load_balancing(): token_aware(dc_aware(...)).
struct default_load_balancing_options {
    dc_aware_options dc{};        ///< of the dc_aware_policy
    token_aware_options token{};  ///< of the token_aware_policy
    bool token_aware = true;      ///< false: the dc_aware_policy alone
};
/// The policy of the default execution profile: token_aware_policy over dc_aware_policy (or
/// dc_aware_policy alone). When cluster_config::profiles is unset, the cluster makes one with
/// cluster_config::local_datacenter as opts.dc.local_dc; profiles you build yourself do not
/// get local_datacenter (their dc_aware_policy infers it from the first contact point unless
/// you set opts.dc.local_dc).
std::shared_ptr<load_balancing_policy> make_default_load_balancing(
    default_load_balancing_options opts = {});

/// True for LOCAL_ONE, LOCAL_QUORUM and LOCAL_SERIAL.
constexpr bool is_dc_local(protocol::consistency c) noexcept {
    return c == protocol::consistency::local_one || c == protocol::consistency::local_quorum ||
           c == protocol::consistency::local_serial;
}

}  // namespace cql
