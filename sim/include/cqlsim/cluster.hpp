#pragma once
// cqlsim on the wire: a cluster of N nodes, each a real CQL server (native protocol v3,
// v4 and v5; LZ4; optional TLS and password authentication) on a loopback address,
// all sharing one engine (engine.hpp). Faults are injected through the cluster object
// (below) or through the admin endpoint of the cqlsim binary (admin.hpp).
//
//   cqlsim::cluster_config cfg;
//   cfg.datacenters = cqlsim::parse_datacenters("dc1:2,dc2:1");
//   cfg.port = 0;                       // a free port per node
//   cqlsim::cluster c(cfg);
//   c.start();                          // runs on its own thread
//   auto ep = c.endpoint(0);            // where node 0 listens
//   c.stop_node(1); c.start_node(1);
//
// Threading: everything runs on one strand (of the cluster's own io_context and
// thread, or of the io_context given to the constructor). The fault and node API may
// be called from any thread: from outside the strand it posts and waits, so do not call
// it from a handler of a single-threaded io_context that the cluster also runs on
// (except from inside the strand, where it runs directly).
//
// Node indexes are 0-based here; the admin protocol and the binary number nodes from 1.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cqlsim/engine.hpp"
#include "cqlsim/faults.hpp"

namespace boost::asio {
class io_context;
}

namespace cqlsim {

struct datacenter_config {
    std::string name = "dc1";
    std::size_t nodes = 1;
    std::size_t racks = 1;  // nodes are spread over rack1..rackN round robin
};

// "dc1:2,dc2:1" -> {{"dc1",2},{"dc2",1}}; "3" -> {{"dc1",3}}. Empty on a syntax error.
std::vector<datacenter_config> parse_datacenters(std::string_view text);

struct user_credentials {
    std::string username;
    std::string password;
};

struct tls_config {
    // PEM text, or (when the *_file fields are set) paths of PEM files.
    std::string certificate_pem;
    std::string private_key_pem;
    std::string certificate_file;
    std::string private_key_file;
};

struct cluster_config {
    std::vector<datacenter_config> datacenters{datacenter_config{}};
    std::string cluster_name = "cqlsim";
    std::string release_version = "4.0.11";
    // Tokens per node. Evenly spaced over the ring (interleaved between nodes) unless
    // random_tokens, then drawn from a generator seeded with token_seed.
    std::size_t vnodes = 1;
    bool random_tokens = false;
    std::uint64_t token_seed = 42;
    // Node i listens on base_address + i (IPv4, last octets counted up) at `port`, or, with
    // single_address, on base_address at port + i. Port 0: a free port chosen per node
    // at start (see endpoint()).
    std::string base_address = "127.0.0.1";
    bool single_address = false;
    std::uint16_t port = 9042;
    // Non-empty: PasswordAuthenticator with these users.
    std::vector<user_credentials> users;
    std::optional<tls_config> tls;
    // Engine clock (microseconds since the epoch); empty: the system clock.
    std::function<std::int64_t()> clock_micros;
    std::size_t max_request_log = 100000;  // per node; oldest entries are dropped
};

struct node_endpoint {
    std::string address;
    std::uint16_t port = 0;
    std::string datacenter;
    std::string rack;
    bool up = false;
    bool paused = false;
    bool removed = false;  // remove_node(): not in system.peers / local topology
};

class cluster {
  public:
    // Own io_context, run by one thread from start() to stop().
    explicit cluster(cluster_config cfg);
    // Runs on `io` (the caller runs it). start() then only opens the listeners.
    cluster(boost::asio::io_context& io, cluster_config cfg);
    ~cluster();  // stop()
    cluster(const cluster&) = delete;
    cluster& operator=(const cluster&) = delete;

    // Binds every node (throws std::system_error if an address cannot be bound) and
    // starts serving. Idempotent.
    void start();
    // Closes listeners and connections, joins the own thread. Idempotent.
    void stop();

    std::size_t size() const noexcept;
    node_endpoint endpoint(std::size_t node) const;
    engine& get_engine() noexcept;
    const cluster_config& config() const noexcept;

    // ---- node life cycle ----
    // stop: closes the listener and resets its connections; registered connections of
    // the other nodes receive STATUS_CHANGE DOWN. start: listens again on the same
    // address and port, STATUS_CHANGE UP.
    void stop_node(std::size_t node);
    void start_node(std::size_t node);
    void restart_node(std::size_t node);
    // Decommission: stops the node (if up), drops it from the topology (system.peers) and
    // sends TOPOLOGY_CHANGE REMOVED_NODE (after STATUS_CHANGE DOWN) to the others.
    // add_node brings a removed node back: listener, topology, NEW_NODE then UP.
    void remove_node(std::size_t node);
    void add_node(std::size_t node);
    // Paused: connections are accepted but nothing is read or answered until resume.
    void pause_node(std::size_t node);
    void resume_node(std::size_t node);
    // Every QUERY/PREPARE/EXECUTE/BATCH response of the node is delayed by `d` (0: none).
    void set_latency(std::size_t node, std::chrono::milliseconds d);

    // ---- faults ----
    // node == all_nodes: every node.
    static constexpr std::size_t all_nodes = static_cast<std::size_t>(-1);
    void prime(std::size_t node, prime_rule rule);
    void clear_primes(std::size_t node);
    // The connection that serves the n-th QUERY/PREPARE/EXECUTE/BATCH from now on (n >= 1)
    // on the node is reset right after that response is written. 0 disarms.
    void close_connection_after(std::size_t node, std::uint64_t n);
    // The next v5 segment the node writes (on any connection) carries a wrong payload
    // CRC32.
    void corrupt_next_segment_crc(std::size_t node);
    // The next `count` responses to QUERY/PREPARE/EXECUTE/BATCH carry stream
    // (stream + 16384) mod 32768 instead of the client's.
    void reply_on_wrong_stream(std::size_t node, std::uint64_t count = 1);
    // At most `n` requests per connection in flight (only > 1 with latency); more get
    // OVERLOADED. 0: no cap.
    void cap_concurrent_streams(std::size_t node, std::size_t n);
    // Clears every fault of the node (primes, latency, pause, the one-shot faults).
    void clear_faults(std::size_t node);

    // ---- observation ----
    std::vector<request_log_entry> request_log(std::size_t node) const;
    void clear_request_log(std::size_t node);
    // Open client connections of a node.
    std::size_t connection_count(std::size_t node) const;

    // The implementation (sim/src/server); named here only so that its parts can name it.
    struct impl;

  private:
    std::shared_ptr<impl> impl_;
};

}  // namespace cqlsim
