// cqlcapture run as a child process between the driver's connection and an in-process cqlsim:
// the files it writes must hold both directions exactly (they decode frame by frame, LZ4
// bodies included), index.json must describe them, and it must stop by itself after
// --connections N, on SIGTERM, and refuse addresses off the loopback.
#include <catch2/catch.hpp>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "../support/io_runner.hpp"
#include "cql/protocol/stream_decoder.hpp"
#include "cqlsim/cluster.hpp"
#include "detail/connection.hpp"

extern char** environ;

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace fs = std::filesystem;
namespace p = cql::protocol;
using cql::test::io_runner;

namespace {

std::string slurp(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

fs::path fresh_dir(const std::string& name) {
    auto d =
        fs::temp_directory_path() / ("cqlcapture-test-" + std::to_string(::getpid()) + "-" + name);
    fs::remove_all(d);
    return d;
}

// cqlcapture as a child process, its stdout on a pipe.
class capture_process {
  public:
    explicit capture_process(std::vector<std::string> args) {
        args.insert(args.begin(), CQLCAPTURE_PATH);
        std::vector<char*> argv;
        for (auto& a : args)
            argv.push_back(a.data());
        argv.push_back(nullptr);
        int fds[2];
        REQUIRE(::pipe(fds) == 0);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
        posix_spawn_file_actions_addclose(&actions, fds[0]);
        const int rc =
            ::posix_spawn(&pid_, CQLCAPTURE_PATH, &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        ::close(fds[1]);
        out_ = ::fdopen(fds[0], "r");
        REQUIRE(rc == 0);
    }
    ~capture_process() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        if (out_) std::fclose(out_);
    }

    // The first line it prints ("" at end of output).
    std::string first_line() {
        char line[256];
        if (!std::fgets(line, sizeof line, out_)) return "";
        return line;
    }
    // The port of its "listening on ADDR:PORT" line.
    std::uint16_t listening_port() {
        const auto line = first_line();
        INFO("cqlcapture said: " << line);
        REQUIRE(line.rfind("listening on ", 0) == 0);
        return static_cast<std::uint16_t>(std::stoul(line.substr(line.rfind(':') + 1)));
    }
    void signal(int sig) { REQUIRE(::kill(pid_, sig) == 0); }
    // Waits (bounded) for its exit; returns its exit status (-1: still running, killed).
    int wait_exit(std::chrono::milliseconds limit = 10s) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        int status = 0;
        while (std::chrono::steady_clock::now() < deadline) {
            const pid_t r = ::waitpid(pid_, &status, WNOHANG);
            if (r == pid_) {
                pid_ = -1;
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
            std::this_thread::sleep_for(10ms);
        }
        return -1;
    }

  private:
    pid_t pid_ = -1;
    std::FILE* out_ = nullptr;
};

// Connects with v4 + LZ4 through the proxy, runs one query, closes.
void one_session(std::uint16_t port) {
    io_runner client;
    cql::detail::connection_config cfg;
    cfg.port = port;
    cfg.version = p::protocol_version::v4;
    cfg.compression = cql::compression::lz4;
    cfg.heartbeat_interval = 0ms;
    auto c = cql::detail::connection::create(client.io.get_executor(), cfg);
    auto connected = c->async_connect(asio::use_future);
    REQUIRE(connected.wait_for(20s) == std::future_status::ready);
    REQUIRE_NOTHROW(connected.get());
    p::query_request q;
    q.query = "SELECT release_version FROM system.local";
    auto answered = c->async_request(q, asio::use_future);
    REQUIRE(answered.wait_for(20s) == std::future_status::ready);
    CHECK(answered.get().opcode() == p::opcode::result);
    c->close();
}

std::vector<p::frame_header> frames_of(const fs::path& file, p::stream_side side) {
    std::vector<p::frame_header> out;
    p::stream_decoder d(side);
    const auto bytes = slurp(file);
    auto ec =
        d.feed(p::bytes_view(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()),
               [&](const p::stream_frame& f) { out.push_back(f.frame.header); });
    REQUIRE_FALSE(ec);
    REQUIRE_FALSE(d.finish());
    return out;
}

}  // namespace

TEST_CASE("cqlcapture records both directions byte for byte and indexes them") {
    cqlsim::cluster_config sc;
    sc.datacenters = cqlsim::parse_datacenters("dc1:1");
    sc.port = 0;
    cqlsim::cluster sim(sc);
    sim.start();
    const auto ep = sim.endpoint(0);
    const auto dir = fresh_dir("session");

    capture_process proxy({"--listen", "127.0.0.1:0", "--upstream",
                           ep.address + ":" + std::to_string(ep.port), "--out", dir.string(),
                           "--connections", "1"});
    one_session(proxy.listening_port());
    REQUIRE(proxy.wait_exit() == 0);  // by itself, once its one connection closed

    const auto client = frames_of(dir / "conn00.client.bin", p::stream_side::client);
    REQUIRE(client.size() == 3);
    CHECK(client[0].op == p::opcode::options);
    CHECK(client[1].op == p::opcode::startup);
    CHECK(client[2].op == p::opcode::query);
    const auto server = frames_of(dir / "conn00.server.bin", p::stream_side::server);
    REQUIRE(server.size() == 3);
    CHECK(server[0].op == p::opcode::supported);
    CHECK(server[1].op == p::opcode::ready);
    CHECK(server[2].op == p::opcode::result);
    CHECK(server[2].has(p::frame_flags::compression));

    const auto index = slurp(dir / "index.json");
    const auto client_size = std::to_string(fs::file_size(dir / "conn00.client.bin"));
    const auto server_size = std::to_string(fs::file_size(dir / "conn00.server.bin"));
    CHECK(index.find("\"client_bytes\": " + client_size + ",") != std::string::npos);
    CHECK(index.find("\"server_bytes\": " + server_size + ",") != std::string::npos);
    CHECK(index.find("\"first_client_version_byte\": 4,") != std::string::npos);
    CHECK(index.find("\"lz4_requested\": true") != std::string::npos);
    CHECK(index.find("conn01") == std::string::npos);
    fs::remove_all(dir);
}

TEST_CASE("cqlcapture stops on SIGTERM and still writes its index") {
    const auto dir = fresh_dir("signal");
    capture_process proxy(
        {"--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:9", "--out", dir.string()});
    (void)proxy.listening_port();
    proxy.signal(SIGTERM);
    REQUIRE(proxy.wait_exit() == 0);
    CHECK(slurp(dir / "index.json") == "[\n]\n");
    fs::remove_all(dir);
}

TEST_CASE("cqlcapture refuses addresses off the loopback") {
    const auto dir = fresh_dir("refused");
    capture_process proxy(
        {"--listen", "10.1.2.3:9042", "--upstream", "127.0.0.1:9042", "--out", dir.string()});
    CHECK(proxy.first_line() == "");
    CHECK(proxy.wait_exit() == 2);
    CHECK_FALSE(fs::exists(dir));
}
