#pragma once
// One node of the cluster as the driver sees it: where to reach it, where it lives in the
// topology (datacenter, rack, tokens), whether it is up, and how fast it has been answering.
//
// Hosts are shared (host_ptr = std::shared_ptr<host>) between the cluster metadata, the token
// map, the load balancing policies and the query plans. Everything but the up/down state and
// the latency tracker is fixed at construction: when a known node changes datacenter, rack or
// tokens, the cluster creates a new host object (on_remove(old), on_add(new)).
//
// No Asio here: addresses are text ("10.0.0.1", "::1") plus a port.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cql/protocol/bytes.hpp"

namespace cql {

using token = std::int64_t;  // a Murmur3Partitioner token

// Where a host accepts CQL connections.
struct host_endpoint {
    std::string address{};  // numeric IPv4 or IPv6 text, or a name (contact points)
    std::uint16_t port = 9042;

    // "10.0.0.1:9042", "[::1]:9042".
    std::string to_string() const;
    // From an [inet]/[inetaddr] value (system.peers, events); empty address when size is not 4
    // or 16.
    static host_endpoint from_inet(const protocol::inet_address& a, std::uint16_t port);

    friend bool operator==(const host_endpoint&, const host_endpoint&) = default;
};

// How far a host is from the client, as a load balancing policy decides it: the cluster keeps
// connection pools to local and remote hosts, none to ignored ones.
enum class host_distance : std::uint8_t { local, remote, ignored };

// Exponentially weighted average of a host's response times, decaying with time (a sample
// counts more the longer it has been since the previous one):
//   w = exp(-(now - last) / scale);  average = w * average + (1 - w) * sample.
// Updates from several threads are lock-free and may, under a race, lose a sample: this is
// a heuristic for "avoid slow replicas", not a metric.
class latency_tracker {
  public:
    using clock = std::chrono::steady_clock;

    struct snapshot {
        std::chrono::nanoseconds average{0};
        std::uint64_t samples = 0;  // 0: nothing measured (average meaningless)
        clock::time_point last_update{};
    };

    explicit latency_tracker(std::chrono::nanoseconds scale = std::chrono::milliseconds(100))
        : scale_ns_(scale.count() > 0 ? scale.count() : 1) {}

    void record(std::chrono::nanoseconds latency, clock::time_point now = clock::now()) noexcept;
    snapshot get() const noexcept;
    void reset() noexcept;

  private:
    std::int64_t scale_ns_{};
    std::atomic<std::int64_t> average_ns_{0};
    std::atomic<std::uint64_t> samples_{0};
    std::atomic<std::int64_t> last_ns_{0};  // time_since_epoch of the last update
};

// What the cluster learns about a node (system.local / system.peers, or a contact point).
struct host_info {
    host_endpoint endpoint{};
    std::string datacenter{};
    std::string rack{};
    protocol::uuid_bytes host_id{};
    std::vector<token> tokens{};
    std::string release_version{};
};

class host {
  public:
    explicit host(host_info info) : info_(std::move(info)) {}
    host(const host&) = delete;
    host& operator=(const host&) = delete;

    const host_endpoint& endpoint() const noexcept { return info_.endpoint; }
    const std::string& address() const noexcept { return info_.endpoint.address; }
    std::uint16_t port() const noexcept { return info_.endpoint.port; }
    const std::string& datacenter() const noexcept { return info_.datacenter; }
    const std::string& rack() const noexcept { return info_.rack; }
    const protocol::uuid_bytes& host_id() const noexcept { return info_.host_id; }
    const std::vector<token>& tokens() const noexcept { return info_.tokens; }
    const std::string& release_version() const noexcept { return info_.release_version; }
    const host_info& info() const noexcept { return info_; }

    // Set by the cluster (control connection events, pool failures); read by query plans.
    // A new host starts up.
    bool is_up() const noexcept { return up_.load(std::memory_order_acquire); }
    void set_up(bool up) noexcept { up_.store(up, std::memory_order_release); }

    latency_tracker& latency() noexcept { return latency_; }
    const latency_tracker& latency() const noexcept { return latency_; }

  private:
    const host_info info_{};
    std::atomic<bool> up_{true};
    latency_tracker latency_{};
};

using host_ptr = std::shared_ptr<host>;

inline host_ptr make_host(host_info info) {
    return std::make_shared<host>(std::move(info));
}

}  // namespace cql
