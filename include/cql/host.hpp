#pragma once
/// \file
/// One node of the cluster as the driver sees it: where to reach it, where it lives in the
/// topology (datacenter, rack, tokens), whether it is up, and how fast it has been answering.
///
/// Hosts are shared (host_ptr = std::shared_ptr<host>) between the cluster metadata, the token
/// map, the load balancing policies and the query plans. Everything but the up/down state and
/// the latency tracker is fixed at construction: when a known node changes datacenter, rack or
/// tokens, the cluster creates a new host object (on_remove(old), on_add(new)).
///
/// No Asio here: addresses are text ("10.0.0.1", "::1") plus a port.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cql/protocol/bytes.hpp"

namespace cql {

using token = std::int64_t;  ///< a Murmur3Partitioner token

/// Where a host accepts CQL connections.
struct host_endpoint {
    std::string address{};      ///< numeric IPv4 or IPv6 text, or a name (contact points)
    std::uint16_t port = 9042;  ///< the native transport port

    /// "10.0.0.1:9042", "[::1]:9042".
    std::string to_string() const;
    /// From an [inet]/[inetaddr] value (system.peers, events); empty address when size is not 4
    /// or 16.
    static host_endpoint from_inet(const protocol::inet_address& a, std::uint16_t port);

    friend bool operator==(const host_endpoint&, const host_endpoint&) = default;
};

/// How far a host is from the client, as a load balancing policy decides it: the cluster keeps
/// connection pools to local and remote hosts, none to ignored ones.
enum class host_distance : std::uint8_t { local, remote, ignored };

/// Exponentially weighted average of a host's response times, decaying with time (a sample
/// counts more the longer it has been since the previous one):
/// \code
///   w = exp(-(now - last) / scale);  average = w * average + (1 - w) * sample.
/// \endcode
/// Updates from several threads are lock-free and may, under a race, lose a sample: this is
/// a heuristic for "avoid slow replicas", not a metric.
class latency_tracker {
  public:
    using clock = std::chrono::steady_clock;  ///< the clock of record() and last_update

    /// The state at one instant (the three fields are read separately, so a snapshot taken
    /// during a concurrent record() may mix two updates).
    struct snapshot {
        std::chrono::nanoseconds average{0};  ///< the weighted average response time
        std::uint64_t samples = 0;            ///< 0: nothing measured (average meaningless)
        clock::time_point last_update{};      ///< when the last sample was recorded
    };

    /// `scale` is the decay time constant: after `scale` without samples the old average
    /// weighs e^-1 against a new sample. Non-positive values are taken as 1 ns.
    explicit latency_tracker(std::chrono::nanoseconds scale = std::chrono::milliseconds(100))
        : scale_ns_(scale.count() > 0 ? scale.count() : 1) {}

    /// Adds one response time, measured at `now`. The driver records every request that
    /// got an answer from the host (server errors included, client errors excluded) when
    /// the load balancing policy of its profile reads latencies
    /// (load_balancing_policy::reads_latencies()).
    void record(std::chrono::nanoseconds latency, clock::time_point now = clock::now()) noexcept;
    /// The current average, sample count and time of the last update.
    snapshot get() const noexcept;
    /// Forgets every sample (samples becomes 0).
    void reset() noexcept;

  private:
    std::int64_t scale_ns_{};
    std::atomic<std::int64_t> average_ns_{0};
    std::atomic<std::uint64_t> samples_{0};
    std::atomic<std::int64_t> last_ns_{0};  // time_since_epoch of the last update
};

/// What the cluster learns about a node (system.local / system.peers, or a contact point).
struct host_info {
    host_endpoint endpoint{};        ///< where to connect (rpc_address / native address and port)
    std::string datacenter{};        ///< data_center column; empty when unknown
    std::string rack{};              ///< rack column; empty when unknown
    protocol::uuid_bytes host_id{};  ///< the node's host_id (all zero when unknown)
    std::vector<token> tokens{};     ///< the node's Murmur3 tokens (empty: not on the ring)
    std::string release_version{};   ///< the server version, e.g. "5.0.2"
};

/// A node of the cluster: its fixed host_info plus the mutable up/down state and latency.
/// Not copyable (it is identified by address: compare host_ptr, not values). Policies and
/// query plans get hosts from the cluster; tests and custom policies build them with
/// make_host(). Every member is safe to call from any thread.
class host {
  public:
    /// A host that starts up, with no latency samples.
    explicit host(host_info info) : info_(std::move(info)) {}
    host(const host&) = delete;
    host& operator=(const host&) = delete;

    /// Where the host accepts CQL connections.
    const host_endpoint& endpoint() const noexcept { return info_.endpoint; }
    /// endpoint().address: numeric address text (or the contact point's name).
    const std::string& address() const noexcept { return info_.endpoint.address; }
    /// endpoint().port.
    std::uint16_t port() const noexcept { return info_.endpoint.port; }
    /// The host's datacenter (empty when unknown); what dc_aware_policy compares with.
    const std::string& datacenter() const noexcept { return info_.datacenter; }
    /// The host's rack (empty when unknown).
    const std::string& rack() const noexcept { return info_.rack; }
    /// The node's host_id from system.local / system.peers.
    const protocol::uuid_bytes& host_id() const noexcept { return info_.host_id; }
    /// The node's tokens, as announced by the server.
    const std::vector<token>& tokens() const noexcept { return info_.tokens; }
    /// The server's release version.
    const std::string& release_version() const noexcept { return info_.release_version; }
    /// Everything above at once.
    const host_info& info() const noexcept { return info_; }

    /// Set by the cluster (control connection events, pool failures); read by query plans.
    /// A new host starts up.
    bool is_up() const noexcept { return up_.load(std::memory_order_acquire); }
    /// Marks the host up or down. The cluster calls it (and then tells the load balancing
    /// policies); call it yourself only on hosts you made, e.g. to test a policy.
    void set_up(bool up) noexcept { up_.store(up, std::memory_order_release); }

    /// The host's response times, recorded by the session, read by latency-aware policies.
    latency_tracker& latency() noexcept { return latency_; }
    /// \copydoc latency()
    const latency_tracker& latency() const noexcept { return latency_; }

  private:
    const host_info info_{};
    std::atomic<bool> up_{true};
    latency_tracker latency_{};
};

/// How hosts are shared: between the cluster, its token maps, the policies and query plans.
using host_ptr = std::shared_ptr<host>;

/// A new shared host (std::make_shared<host>(info)).
inline host_ptr make_host(host_info info) {
    return std::make_shared<host>(std::move(info));
}

}  // namespace cql
