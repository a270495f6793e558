#pragma once
// Private parts of cqlsim's server: the cluster's state, one node, one client connection.
// Everything here runs on the cluster's strand.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "cql/protocol/compression.hpp"
#include "cql/protocol/frame.hpp"
#include "cql/protocol/requests.hpp"
#include "cql/protocol/responses.hpp"
#include "cql/protocol/segment.hpp"
#include "cql/protocol/stream_decoder.hpp"
#include "cqlsim/cluster.hpp"
#include "cqlsim/engine.hpp"
#include "cqlsim/faults.hpp"

namespace cqlsim {

namespace asio = boost::asio;
namespace proto = cql::protocol;
using tcp = asio::ip::tcp;
using strand_type = asio::strand<asio::io_context::executor_type>;

class connection;

// Hash for lookups by string_view without building a std::string.
struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
        return std::hash<std::string_view>{}(s);
    }
};

struct compiled_prime {
    prime_rule rule;
    std::regex re;
};

struct node_state {
    std::size_t index = 0;
    std::string address;
    std::uint16_t port = 0;
    std::string datacenter;
    std::string rack;
    std::vector<std::string> tokens;

    std::optional<tcp::acceptor> acceptor;
    bool up = false;
    bool removed = false;            // decommissioned: not in the topology
    std::size_t topology_index = 0;  // index in the engine's topology (session_state::node)
    bool paused = false;
    std::chrono::milliseconds latency{0};
    std::vector<compiled_prime> primes;
    std::uint64_t close_after = 0;  // 0: disarmed
    bool corrupt_next_crc = false;
    std::uint64_t wrong_stream = 0;
    std::size_t stream_cap = 0;

    std::deque<request_log_entry> log;
    std::set<std::shared_ptr<connection>> connections;
    std::uint64_t next_connection_id = 1;
};

// Bits of the events a connection REGISTERed for.
namespace event_mask {
inline constexpr unsigned topology = 1;
inline constexpr unsigned status = 2;
inline constexpr unsigned schema = 4;
}  // namespace event_mask

}  // namespace cqlsim

struct cqlsim::cluster::impl : std::enable_shared_from_this<cqlsim::cluster::impl> {
    impl(asio::io_context* external, cluster_config c);

    cluster_config cfg;
    std::unique_ptr<asio::io_context> own_io;
    asio::io_context* io = nullptr;
    strand_type strand;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
    std::thread thread;
    bool started = false;
    std::unique_ptr<asio::ssl::context> ssl;
    engine eng;
    std::vector<std::unique_ptr<node_state>> nodes;
    // Prepared id (as a string of bytes) -> query text, for primes and the request log.
    std::unordered_map<std::string, std::string, string_hash, std::equal_to<>> prepared_texts;
    const std::string* prepared_text(proto::bytes_view id) const;

    // Runs f on the strand and waits for it (directly when already on it or not started).
    void sync(const std::function<void()>& f);

    void open_listener(node_state& n);  // throws std::system_error
    void do_accept(node_state& n);
    void close_node(node_state& n);
    void update_topology();
    void broadcast_status(const node_state& about, bool up);
    void broadcast_topology(const node_state& about, bool added);
    void broadcast_schema(const schema_change_result& c);
    void log_request(node_state& n, request_log_entry e);
    node_state& node_at(std::size_t i);
};

namespace cqlsim {

// One client connection: TCP or TLS, frames then (v5) segments, optional LZ4.
class connection : public std::enable_shared_from_this<connection> {
  public:
    connection(std::shared_ptr<cluster::impl> c, node_state& n, tcp::socket s, std::uint64_t id);
    void start();
    // reset: RST instead of FIN (SO_LINGER 0).
    void close(bool reset);
    void resume();  // the node was resumed
    bool wants(unsigned mask) const noexcept { return (events_ & mask) != 0; }
    bool ready() const noexcept { return state_ == state::ready; }
    template <class Event>
    void send_event(const Event& ev);

  private:
    enum class state { startup, authenticating, ready };

    void do_read();
    void process();                               // decodes what was read, then writes
    void receive();                               // the client's frames at the front of rbuf_
    bool reject_version(proto::bytes_view data);  // false: need more bytes
    std::error_code handle_frame(const proto::stream_frame& f);
    void handle_request(const proto::frame_header& h, proto::decoded_request& req);
    void handle_startup(std::int16_t stream, const proto::startup_request& m);
    void handle_auth(std::int16_t stream, const proto::auth_response_request& m);
    void handle_data(std::int16_t stream, proto::decoded_request& req);
    bool apply_prime(std::int16_t stream, const std::string& text, proto::bytes_view id,
                     proto::consistency cl);
    void write_result(std::int16_t stream, const result& r, bool skip_metadata,
                      std::optional<proto::bytes_view> client_metadata_id);
    void write_error(std::int16_t stream, proto::error_code code, std::string_view message,
                     const proto::error_details& details = {}, bool data = false);
    void fill_options(const proto::query_parameters& p);

    // Sends the frame in scratch_ (uncompressed): compression, faults, latency.
    void emit(bool data_response, bool close_after = false);
    void append_out(const proto::byte_buffer& frame, bool close_after);
    void flush();
    void on_closed();

    template <class F>
    void read_some(asio::mutable_buffer b, F&& f);
    template <class F>
    void write_all(asio::const_buffer b, F&& f);

    std::shared_ptr<cluster::impl> cluster_;
    node_state& node_;
    std::uint64_t id_;
    tcp::socket sock_;
    std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls_;

    state state_ = state::startup;
    // The client's bytes, decoded in place in rbuf_. Told of the v5 switch and of LZ4 by
    // handle_startup (cqlsim knows them, no guessing); faults of one frame are answered on
    // its stream, as Cassandra does, instead of stopping the connection.
    proto::stream_decoder decoder_{proto::stream_side::client,
                                   proto::compression_choice::none,
                                   proto::default_max_body_size,
                                   {proto::segment_switch::told, proto::frame_faults::report}};
    // decoder_.version() at the last frame (unset while only frames from the wrong side came).
    std::optional<proto::protocol_version> version_;
    bool v4_lz4_ = false;     // v3/v4 frame body compression of the answers
    bool segmented_ = false;  // v5 answers in segments, after READY / AUTHENTICATE
    proto::compression_algorithm seg_compression_ = proto::compression_algorithm::none;
    unsigned events_ = 0;
    session_state session_;

    proto::byte_buffer rbuf_;
    std::size_t rbeg_ = 0, rend_ = 0;
    bool reading_ = false;
    bool writing_ = false;
    bool closed_ = false;
    bool closing_ = false;  // stop handling requests, close once the output is written
    bool reset_on_close_ = false;
    std::size_t in_flight_ = 0;  // delayed responses not yet sent

    proto::byte_buffer scratch_;     // one response frame being built
    proto::byte_buffer compressed_;  // v4 LZ4
    proto::byte_buffer out_frames_;  // frames waiting to be put in segments
    proto::byte_buffer out_raw_;     // bytes ready to go
    proto::byte_buffer write_buf_;   // bytes being written
    proto::decoded_request req_;
    query_options opts_;
    std::vector<batch_entry> batch_;
    std::list<std::shared_ptr<asio::steady_timer>> timers_;
};

template <class Event>
void connection::send_event(const Event& ev) {
    if (closed_ || closing_ || state_ != state::ready || !version_) return;
    scratch_.clear();
    proto::encode_response_frame(scratch_, *version_, -1, ev);
    emit(false);
    flush();
}

}  // namespace cqlsim
