// cqlsim throughput: an in-process 1-node cqlsim (its io_context on its own thread) and one
// raw pipelined client connection built with the protocol encoders. The client prepares a
// single-row SELECT and runs N EXECUTEs with K in flight, then prints requests/s and the
// server thread's CPU time per request, as human lines and one JSON line.
//
//   cqlsim_throughput [--requests N] [--inflight K] [--v5] [--lz4]
//
// Exit status 0 when every request got a one-row RESULT, 1 otherwise.
#include <pthread.h>
#include <time.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "cql/protocol/compression.hpp"
#include "cql/protocol/frame.hpp"
#include "cql/protocol/requests.hpp"
#include "cql/protocol/responses.hpp"
#include "cql/protocol/segment.hpp"
#include "cqlsim/cluster.hpp"

namespace {

namespace asio = boost::asio;
namespace proto = cql::protocol;
using tcp = asio::ip::tcp;

struct options {
    std::size_t requests = 200000;
    std::size_t inflight = 256;
    bool v5 = false;
    bool lz4 = false;
};

[[noreturn]] void fail(const std::string& what) {
    std::fprintf(stderr, "cqlsim_throughput: %s\n", what.c_str());
    std::exit(1);
}

// One blocking client connection; frames are written in batches and read as they come.
class client {
  public:
    client(asio::io_context& io, const std::string& address, std::uint16_t port) : sock_(io) {
        sock_.connect(tcp::endpoint(asio::ip::make_address(address), port));
        sock_.set_option(tcp::no_delay(true));
        rbuf_.resize(1 << 20);
    }

    proto::protocol_version version = proto::protocol_version::v4;

    // Appends one request frame to the pending output.
    void add(const proto::request& m, std::int16_t stream) {
        frame_.clear();
        if (proto::encode_request_frame(frame_, version, stream, m)) fail("cannot encode");
        add_frame(frame_);
    }
    void add_frame(const proto::byte_buffer& frame) {
        if (!segmented_ && v4_lz4_) {
            compressed_.assign(frame.begin(), frame.begin() + proto::frame_header_size);
            compressed_[1] |= proto::frame_flags::compression;
            if (proto::compress_frame_body_lz4(
                    proto::bytes_view(frame).subspan(proto::frame_header_size), compressed_))
                fail("cannot compress");
            proto::patch_frame_body_length(compressed_, 0);
            out_.insert(out_.end(), compressed_.begin(), compressed_.end());
        } else {
            out_.insert(out_.end(), frame.begin(), frame.end());
        }
    }
    // Writes the pending output (in segments after the v5 handshake).
    void flush() {
        if (out_.empty()) return;
        if (segmented_) {
            wire_.clear();
            if (proto::encode_segments(out_, seg_compression_, wire_)) fail("cannot segment");
            asio::write(sock_, asio::buffer(wire_));
        } else {
            asio::write(sock_, asio::buffer(out_));
        }
        out_.clear();
    }

    // Reads once and calls on(header, response) for every complete frame.
    template <class F>
    void read(F&& on) {
        if (rend_ == rbuf_.size()) fail("read buffer full");
        boost::system::error_code ec;
        auto n = sock_.read_some(asio::buffer(rbuf_.data() + rend_, rbuf_.size() - rend_), ec);
        if (ec) fail("connection lost: " + ec.message());
        rend_ += n;
        auto take = [&](const proto::frame_view& f) {
            proto::frame_view body = f;
            if (f.header.has(proto::frame_flags::compression)) {
                inflated_.clear();
                if (proto::decompress_frame_body_lz4(f.body, inflated_)) fail("bad lz4 body");
                body.body = inflated_;
            }
            proto::response r;
            proto::body_prefix prefix;
            if (proto::decode_response(body, r, prefix)) fail("cannot decode a response");
            on(f.header, r);
        };
        std::size_t used = 0;
        if (segmented_) {
            if (segs_->decode(proto::bytes_view(rbuf_.data(), rend_), used, take))
                fail("bad segment");
        } else {
            while (used < rend_) {
                auto s = proto::split_frame(proto::bytes_view(rbuf_.data() + used, rend_ - used));
                if (s.error) fail("bad frame");
                if (s.consumed == 0) break;
                take(s.frame);
                used += s.consumed;
            }
        }
        std::memmove(rbuf_.data(), rbuf_.data() + used, rend_ - used);
        rend_ -= used;
    }

    // One request, one response (setup only).
    template <class F>
    void request(const proto::request& m, F&& on) {
        add(m, 0);
        flush();
        bool got = false;
        while (!got)
            read([&](const proto::frame_header& h, const proto::response& r) {
                if (h.stream != 0) fail("unexpected stream");
                got = true;
                on(h, r);
            });
    }
    void expect_ok(const proto::request& m, const char* what) {
        request(m, [&](const proto::frame_header& h, const proto::response& r) {
            if (h.op == proto::opcode::error)
                fail(std::string(what) + ": " +
                     std::string(std::get<proto::error_response>(r).message));
        });
    }

    void handshake(bool v5, bool lz4) {
        version = v5 ? proto::protocol_version::v5 : proto::protocol_version::v4;
        std::vector<proto::string_pair> opts{{"CQL_VERSION", "3.0.0"}};
        if (lz4) opts.emplace_back("COMPRESSION", "lz4");
        request(proto::startup_request{opts}, [&](const proto::frame_header& h, const auto&) {
            if (h.op != proto::opcode::ready) fail("no READY");
        });
        if (v5) {
            segmented_ = true;
            seg_compression_ =
                lz4 ? proto::compression_algorithm::lz4 : proto::compression_algorithm::none;
            segs_.emplace(seg_compression_);
        } else {
            v4_lz4_ = lz4;
        }
    }

  private:
    tcp::socket sock_;
    bool v4_lz4_ = false;
    bool segmented_ = false;
    proto::compression_algorithm seg_compression_ = proto::compression_algorithm::none;
    std::optional<proto::segment_stream> segs_;
    proto::byte_buffer frame_, compressed_, out_, wire_, inflated_;
    proto::byte_buffer rbuf_;
    std::size_t rend_ = 0;
};

double thread_cpu_seconds(pthread_t t) {
    clockid_t id;
    if (pthread_getcpuclockid(t, &id) != 0) return -1;
    timespec ts{};
    if (clock_gettime(id, &ts) != 0) return -1;
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

options parse(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto number = [&]() -> std::size_t {
            if (i + 1 >= argc) fail("missing value after " + a);
            char* end = nullptr;
            auto v = std::strtoull(argv[++i], &end, 10);
            if (!end || *end != '\0' || v == 0) fail("bad value after " + a);
            return static_cast<std::size_t>(v);
        };
        if (a == "--requests" || a == "-n")
            o.requests = number();
        else if (a == "--inflight" || a == "-c")
            o.inflight = number();
        else if (a == "--v5")
            o.v5 = true;
        else if (a == "--lz4")
            o.lz4 = true;
        else
            fail("usage: cqlsim_throughput [--requests N] [--inflight K] [--v5] [--lz4]");
    }
    if (o.inflight > 32768) o.inflight = 32768;
    return o;
}

}  // namespace

int main(int argc, char** argv) {
    auto opt = parse(argc, argv);

    asio::io_context server_io(1);
    cqlsim::cluster_config cfg;
    cfg.datacenters = {{"dc1", 1, 1}};
    cfg.single_address = true;
    cfg.port = 0;

    cqlsim::cluster sim(server_io, cfg);
    sim.start();
    std::thread server([&] { server_io.run(); });

    int status = 0;
    {
        asio::io_context io;
        auto ep = sim.endpoint(0);
        client cl(io, ep.address, ep.port);
        cl.handshake(opt.v5, opt.lz4);
        cl.expect_ok(proto::query_request{"CREATE KEYSPACE bench WITH replication = "
                                          "{'class': 'SimpleStrategy', 'replication_factor': 1}",
                                          {}},
                     "create keyspace");
        cl.expect_ok(proto::query_request{"CREATE TABLE bench.kv (k int PRIMARY KEY, v text)", {}},
                     "create table");
        cl.expect_ok(proto::query_request{"INSERT INTO bench.kv (k, v) VALUES (1, 'hello')", {}},
                     "insert");
        proto::byte_buffer id, md_id;
        cl.request(proto::prepare_request{"SELECT k, v FROM bench.kv WHERE k = ?", {}},
                   [&](const proto::frame_header&, const proto::response& r) {
                       auto* p = std::get_if<proto::prepared_result>(&r);
                       if (!p) fail("PREPARE failed");
                       id.assign(p->id.begin(), p->id.end());
                       md_id.assign(p->result_metadata_id.begin(), p->result_metadata_id.end());
                   });

        const std::uint8_t key[4] = {0, 0, 0, 1};
        const proto::value_view values[1] = {proto::value_view::of(proto::bytes_view(key, 4))};
        proto::execute_request ex;
        ex.id = id;
        ex.result_metadata_id = md_id;
        ex.params.values = values;
        ex.params.skip_metadata = true;
        // One encoded EXECUTE whose stream id is patched per request (bytes 2-3).
        proto::byte_buffer frame;
        if (proto::encode_request_frame(frame, cl.version, 0, ex)) fail("cannot encode EXECUTE");
        auto send = [&](std::int16_t stream) {
            frame[2] = static_cast<std::uint8_t>(static_cast<std::uint16_t>(stream) >> 8);
            frame[3] = static_cast<std::uint8_t>(stream);
            cl.add_frame(frame);
        };

        std::size_t sent = 0, done = 0, errors = 0;
        double cpu0 = thread_cpu_seconds(server.native_handle());
        auto t0 = std::chrono::steady_clock::now();
        for (; sent < opt.inflight && sent < opt.requests; ++sent)
            send(static_cast<std::int16_t>(sent));
        cl.flush();
        while (done < opt.requests) {
            cl.read([&](const proto::frame_header& h, const proto::response& r) {
                ++done;
                auto* rows = std::get_if<proto::rows_result>(&r);
                if (!rows || rows->row_count != 1) {
                    if (errors++ == 0) {
                        if (auto* e = std::get_if<proto::error_response>(&r))
                            std::fprintf(stderr, "error response: %.*s\n",
                                         static_cast<int>(e->message.size()), e->message.data());
                        else
                            std::fprintf(stderr, "unexpected response (opcode %d)\n",
                                         static_cast<int>(h.op));
                    }
                }
                if (sent < opt.requests) {
                    send(h.stream);
                    ++sent;
                }
            });
            cl.flush();
        }
        auto t1 = std::chrono::steady_clock::now();
        double cpu1 = thread_cpu_seconds(server.native_handle());

        double secs = std::chrono::duration<double>(t1 - t0).count();
        double rps = static_cast<double>(done) / secs;
        double cpu_us =
            cpu0 >= 0 && cpu1 >= 0 ? (cpu1 - cpu0) * 1e6 / static_cast<double>(done) : -1;
        const char* proto_name = opt.v5 ? (opt.lz4 ? "v5+lz4" : "v5") : (opt.lz4 ? "v4+lz4" : "v4");
        std::printf("cqlsim_throughput: %zu EXECUTEs (single-row SELECT), %zu in flight, %s\n",
                    done, opt.inflight, proto_name);
        std::printf("  elapsed          %.3f s\n", secs);
        std::printf("  throughput       %.0f requests/s\n", rps);
        if (cpu_us >= 0)
            std::printf("  server CPU       %.2f us/request (%.0f requests per CPU-second)\n",
                        cpu_us, 1e6 / cpu_us);
        std::printf("  errors           %zu\n", errors);
        std::printf(
            "{\"benchmark\":\"cqlsim_throughput\",\"protocol\":\"%s\",\"requests\":%zu,"
            "\"inflight\":%zu,\"seconds\":%.6f,\"requests_per_second\":%.1f,"
            "\"server_cpu_us_per_request\":%.3f,\"errors\":%zu}\n",
            proto_name, done, opt.inflight, secs, rps, cpu_us, errors);
        if (errors) status = 1;
    }
    sim.stop();
    server.join();
    return status;
}
