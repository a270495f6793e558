// cqlcapture: records CQL connections byte for byte, as a loopback TCP proxy.
//
//   cqlcapture --listen ADDR:PORT --upstream ADDR:PORT --out DIR [--connections N]
//
// Every connection accepted on --listen is relayed to --upstream. What the client sent goes
// to DIR/connNN.client.bin and what the server sent to DIR/connNN.server.bin (NN: accept
// order, from 00), unchanged, with nothing added, as it passes. Once N connections were
// accepted and have closed, or on SIGINT/SIGTERM (open connections are then cut), it writes
// DIR/index.json (per connection: the file names and sizes, the first byte the client sent
// (its protocol version) and whether its STARTUP asked for LZ4) and exits 0.
//
// "listening on ADDR:PORT" on stdout says it is ready (PORT 0 picks a free port). Both
// addresses must be loopback: this is a tool for tests, nothing leaves the machine.
// Exit 2 for a bad command line or an unusable address or folder.

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "cql/protocol/stream_decoder.hpp"

namespace {

namespace asio = boost::asio;
namespace cp = cql::protocol;
using asio::ip::tcp;

struct options {
    tcp::endpoint listen;
    tcp::endpoint upstream;
    std::filesystem::path out;
    std::size_t connections = 0;  // 0: until a signal
};

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "cqlcapture: %s\n", what.c_str());
    std::exit(2);
}

// "A:P" or "[A]:P", loopback only.
tcp::endpoint parse_endpoint(std::string_view s, const char* what) {
    const auto colon = s.rfind(':');
    if (colon == std::string_view::npos) die(std::string("bad ") + what + ": " + std::string(s));
    auto host = s.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    boost::system::error_code ec;
    const auto addr = asio::ip::make_address(std::string(host), ec);
    char* end = nullptr;
    const std::string port_text(s.substr(colon + 1));
    const auto port = std::strtoul(port_text.c_str(), &end, 10);
    if (ec || port_text.empty() || *end || port > 65535)
        die(std::string("bad ") + what + ": " + std::string(s));
    if (!addr.is_loopback())
        die(std::string(what) + " must be a loopback address: " + std::string(s));
    return {addr, static_cast<std::uint16_t>(port)};
}

options parse_args(int argc, char** argv) {
    options o;
    bool have_listen = false, have_upstream = false;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        auto next = [&]() -> std::string_view {
            if (i + 1 >= argc) die(std::string("missing value after ") + std::string(a));
            return argv[++i];
        };
        if (a == "--listen") {
            o.listen = parse_endpoint(next(), "--listen");
            have_listen = true;
        } else if (a == "--upstream") {
            o.upstream = parse_endpoint(next(), "--upstream");
            have_upstream = true;
        } else if (a == "--out") {
            o.out = std::string(next());
        } else if (a == "--connections") {
            const std::string v(next());
            char* end = nullptr;
            o.connections = std::strtoul(v.c_str(), &end, 10);
            if (v.empty() || *end) die("bad --connections: " + v);
        } else {
            die("usage: cqlcapture --listen ADDR:PORT --upstream ADDR:PORT --out DIR "
                "[--connections N]");
        }
    }
    if (!have_listen || !have_upstream || o.out.empty())
        die("--listen, --upstream and --out are required");
    return o;
}

// One direction of one connection, written to its file as it passes.
struct direction_file {
    std::ofstream file;
    std::uint64_t bytes = 0;
};

// One relayed connection and what was seen of it.
struct relayed {
    relayed(asio::any_io_executor ex, tcp::socket c, int n)
        : number(n), client(std::move(c)), server(ex), startup_reader(cp::stream_side::client) {}

    std::string file_name(const char* side) const {
        char name[32];
        std::snprintf(name, sizeof name, "conn%02d.%s.bin", number, side);
        return name;
    }

    // Reads the client's frames up to its STARTUP, for the index's lz4_requested.
    void note_client_bytes(cp::bytes_view b) {
        if (first_version < 0 && !b.empty()) first_version = b[0];
        if (startup_seen || startup_reader.error()) return;
        (void)startup_reader.feed(b, [this](const cp::stream_frame& f) {
            if (f.frame.header.op == cp::opcode::startup) startup_seen = true;
        });
    }

    void close() {
        boost::system::error_code ignored;
        client.close(ignored);
        server.close(ignored);
    }

    int number;
    tcp::socket client;
    tcp::socket server;
    direction_file from_client;
    direction_file from_server;
    int first_version = -1;
    bool startup_seen = false;
    cp::stream_decoder startup_reader;
};

// Copies `from` to `to`, recording every byte; at the end of `from`, half-closes `to`.
asio::awaitable<void> pump(std::shared_ptr<relayed> r, bool client_side) {
    tcp::socket& from = client_side ? r->client : r->server;
    tcp::socket& to = client_side ? r->server : r->client;
    direction_file& out = client_side ? r->from_client : r->from_server;
    std::vector<std::uint8_t> buf(64 * 1024);
    auto tok = asio::as_tuple(asio::use_awaitable);
    for (;;) {
        auto [rec, n] = co_await from.async_read_some(asio::buffer(buf), tok);
        if (n > 0) {
            out.file.write(reinterpret_cast<const char*>(buf.data()),
                           static_cast<std::streamsize>(n));
            out.file.flush();
            out.bytes += n;
            if (client_side) r->note_client_bytes(cp::bytes_view(buf.data(), n));
            auto [wec, wn] = co_await asio::async_write(to, asio::buffer(buf.data(), n), tok);
            if (wec) {  // the other side is gone: nothing more can be relayed either way
                r->close();
                co_return;
            }
        }
        if (rec) break;
    }
    boost::system::error_code ignored;
    to.shutdown(tcp::socket::shutdown_send, ignored);
}

class proxy {
  public:
    proxy(asio::io_context& io, options o)
        : io_(io), opt_(std::move(o)), acceptor_(io), signals_(io, SIGINT, SIGTERM) {}

    void start() {
        boost::system::error_code ec;
        acceptor_.open(opt_.listen.protocol(), ec);
        if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
        if (!ec) acceptor_.bind(opt_.listen, ec);
        if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
        if (ec) die("cannot listen: " + ec.message());
        const auto at = acceptor_.local_endpoint();
        std::printf("listening on %s:%u\n", at.address().to_string().c_str(), at.port());
        std::fflush(stdout);
        signals_.async_wait([this](const boost::system::error_code& sec, int) {
            if (sec) return;
            boost::system::error_code ignored;
            acceptor_.close(ignored);
            for (auto& r : all_)
                r->close();
        });
        asio::co_spawn(io_, accept_loop(), asio::detached);
    }

    void write_index() const {
        std::ofstream idx(opt_.out / "index.json");
        idx << "[\n";
        for (std::size_t i = 0; i < all_.size(); ++i) {
            const auto& r = *all_[i];
            idx << " {\n  \"connection\": " << r.number << ",\n  \"client\": \""
                << r.file_name("client") << "\",\n  \"client_bytes\": " << r.from_client.bytes
                << ",\n  \"server\": \"" << r.file_name("server")
                << "\",\n  \"server_bytes\": " << r.from_server.bytes
                << ",\n  \"first_client_version_byte\": " << r.first_version
                << ",\n  \"lz4_requested\": "
                << (r.startup_reader.startup_asked_lz4() ? "true" : "false") << "\n }"
                << (i + 1 < all_.size() ? ",\n" : "\n");
        }
        idx << "]\n";
        if (!idx) die("cannot write " + (opt_.out / "index.json").string());
    }

  private:
    asio::awaitable<void> accept_loop() {
        auto tok = asio::as_tuple(asio::use_awaitable);
        while (opt_.connections == 0 || all_.size() < opt_.connections) {
            auto [ec, sock] = co_await acceptor_.async_accept(tok);
            if (ec) break;
            auto r = std::make_shared<relayed>(io_.get_executor(), std::move(sock),
                                               static_cast<int>(all_.size()));
            r->from_client.file.open(opt_.out / r->file_name("client"), std::ios::binary);
            r->from_server.file.open(opt_.out / r->file_name("server"), std::ios::binary);
            if (!r->from_client.file || !r->from_server.file)
                die("cannot write into " + opt_.out.string());
            all_.push_back(r);
            ++open_;
            asio::co_spawn(io_, relay(r), [this](std::exception_ptr) {
                --open_;
                finish_if_done();
            });
        }
        accepting_ = false;
        boost::system::error_code ignored;
        acceptor_.close(ignored);
        finish_if_done();
    }

    asio::awaitable<void> relay(std::shared_ptr<relayed> r) {
        using namespace asio::experimental::awaitable_operators;
        auto [ec] =
            co_await r->server.async_connect(opt_.upstream, asio::as_tuple(asio::use_awaitable));
        if (ec) {
            std::fprintf(stderr, "cqlcapture: connection %d: upstream: %s\n", r->number,
                         ec.message().c_str());
            r->close();
            co_return;
        }
        boost::system::error_code ignored;
        r->client.set_option(tcp::no_delay(true), ignored);
        r->server.set_option(tcp::no_delay(true), ignored);
        co_await (pump(r, true) && pump(r, false));
        r->close();
    }

    void finish_if_done() {
        if (!accepting_ && open_ == 0) signals_.cancel();
    }

    asio::io_context& io_;
    options opt_;
    tcp::acceptor acceptor_;
    asio::signal_set signals_;
    std::vector<std::shared_ptr<relayed>> all_;
    std::size_t open_ = 0;
    bool accepting_ = true;
};

}  // namespace

int main(int argc, char** argv) {
    options o = parse_args(argc, argv);
    std::error_code fec;
    std::filesystem::create_directories(o.out, fec);
    if (fec) die("cannot create " + o.out.string() + ": " + fec.message());
    asio::io_context io;
    proxy p(io, std::move(o));
    p.start();
    io.run();
    p.write_index();
    return 0;
}
