// The admin endpoint: one text command per line (see sim/README.md).
#include "cqlsim/admin.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <charconv>
#include <cstdio>
#include <istream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "cql/protocol/frame.hpp"

namespace cqlsim {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

struct admin_error {
    std::string reason;
};

std::vector<std::string> tokenize(std::string_view line) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i])))
            ++i;
        if (i >= line.size()) break;
        std::string tok;
        while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) {
            if (line[i] == '"') {
                ++i;
                while (i < line.size() && line[i] != '"') {
                    if (line[i] == '\\' && i + 1 < line.size()) ++i;
                    tok += line[i++];
                }
                if (i >= line.size()) throw admin_error{"unterminated quote"};
                ++i;
            } else {
                tok += line[i++];
            }
        }
        out.push_back(std::move(tok));
    }
    return out;
}

std::int64_t parse_int(const std::string& s) {
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size()) throw admin_error{"not a number: " + s};
    return v;
}

// 1-based node number, or all_nodes for "*" / "all" when allowed.
std::size_t parse_node(cluster& c, const std::string& s, bool allow_all) {
    if (allow_all && (s == "*" || s == "all")) return cluster::all_nodes;
    auto n = parse_int(s);
    if (n < 1 || static_cast<std::size_t>(n) > c.size())
        throw admin_error{"no node " + s + " (nodes are 1.." + std::to_string(c.size()) + ")"};
    return static_cast<std::size_t>(n - 1);
}

std::chrono::milliseconds parse_duration(const std::string& s) {
    std::size_t digits = 0;
    while (digits < s.size() && std::isdigit(static_cast<unsigned char>(s[digits])))
        ++digits;
    if (digits == 0) throw admin_error{"not a duration: " + s};
    auto n = parse_int(s.substr(0, digits));
    auto unit = s.substr(digits);
    if (unit.empty() || unit == "ms") return std::chrono::milliseconds(n);
    if (unit == "s") return std::chrono::milliseconds(n * 1000);
    throw admin_error{"not a duration: " + s};
}

bool parse_bool(const std::string& s) {
    if (s == "true" || s == "1" || s == "yes") return true;
    if (s == "false" || s == "0" || s == "no") return false;
    throw admin_error{"not a boolean: " + s};
}

cql::protocol::consistency parse_consistency(std::string s) {
    for (auto& ch : s)
        ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    for (std::uint16_t i = 0; i <= 0x0A; ++i) {
        auto c = static_cast<cql::protocol::consistency>(i);
        if (cql::protocol::to_string(c) == s) return c;
    }
    throw admin_error{"not a consistency level: " + s};
}

std::string hex(const byte_buffer& b) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (auto x : b) {
        out += digits[x >> 4];
        out += digits[x & 15];
    }
    return out;
}

void expect_args(const std::vector<std::string>& t, std::size_t min, std::size_t max,
                 const char* usage) {
    if (t.size() < min || t.size() > max) throw admin_error{std::string("usage: ") + usage};
}

const char* help_text =
    "nodes | stop N | start N | restart N | remove N | add N | pause N | resume N |\n"
    "latency N 50ms |\n"
    "prime N|* \"REGEX\" KIND [times=K] [cl=LEVEL] [received=K] [block_for=K] [required=K]\n"
    "  [alive=K] [data_present=BOOL] [write_type=TYPE] [failures=K] [failure_code=N]\n"
    "  [message=\"TEXT\"] |\n"
    "unprime N|* | close-after N K | corrupt-crc N | wrong-stream N [K] | max-streams N K |\n"
    "clear N|* | log N | clear-log N|* | help | quit\n";

std::string run(cluster& c, const std::vector<std::string>& t) {
    const auto& cmd = t[0];
    std::ostringstream out;
    if (cmd == "help") {
        out << help_text;
    } else if (cmd == "nodes") {
        for (std::size_t i = 0; i < c.size(); ++i) {
            auto e = c.endpoint(i);
            out << "node " << (i + 1) << ' ' << e.address << ':' << e.port << ' ' << e.datacenter
                << ' ' << e.rack << ' ' << (e.up ? "up" : "down") << (e.paused ? " paused" : "")
                << (e.removed ? " removed" : "") << '\n';
        }
    } else if (cmd == "stop" || cmd == "start" || cmd == "restart" || cmd == "pause" ||
               cmd == "resume" || cmd == "corrupt-crc" || cmd == "remove" || cmd == "add") {
        expect_args(t, 2, 2, (cmd + " N").c_str());
        auto n = parse_node(c, t[1], cmd == "corrupt-crc");
        if (cmd == "stop") c.stop_node(n);
        if (cmd == "start") c.start_node(n);
        if (cmd == "restart") c.restart_node(n);
        if (cmd == "pause") c.pause_node(n);
        if (cmd == "resume") c.resume_node(n);
        if (cmd == "corrupt-crc") c.corrupt_next_segment_crc(n);
        if (cmd == "remove") c.remove_node(n);
        if (cmd == "add") c.add_node(n);
    } else if (cmd == "latency") {
        expect_args(t, 3, 3, "latency N DURATION");
        auto n = parse_node(c, t[1], true);
        auto d = parse_duration(t[2]);
        if (n == cluster::all_nodes) {
            for (std::size_t i = 0; i < c.size(); ++i)
                c.set_latency(i, d);
        } else {
            c.set_latency(n, d);
        }
    } else if (cmd == "prime") {
        if (t.size() < 4) throw admin_error{"usage: prime N \"REGEX\" KIND [key=value...]"};
        auto n = parse_node(c, t[1], true);
        prime_rule r;
        r.pattern = t[2];
        auto kind = parse_error_kind(t[3]);
        if (!kind) throw admin_error{"unknown error kind: " + t[3]};
        r.error.code = *kind;
        for (std::size_t i = 4; i < t.size(); ++i) {
            auto eq = t[i].find('=');
            if (eq == std::string::npos) throw admin_error{"expected key=value: " + t[i]};
            auto k = t[i].substr(0, eq);
            auto v = t[i].substr(eq + 1);
            if (k == "times")
                r.times = parse_int(v);
            else if (k == "cl")
                r.error.consistency = parse_consistency(v);
            else if (k == "received")
                r.error.received = static_cast<std::int32_t>(parse_int(v));
            else if (k == "block_for")
                r.error.block_for = static_cast<std::int32_t>(parse_int(v));
            else if (k == "required")
                r.error.required = static_cast<std::int32_t>(parse_int(v));
            else if (k == "alive")
                r.error.alive = static_cast<std::int32_t>(parse_int(v));
            else if (k == "data_present")
                r.error.data_present = parse_bool(v);
            else if (k == "write_type")
                r.error.write_type = v;
            else if (k == "failures")
                r.error.num_failures = static_cast<std::int32_t>(parse_int(v));
            else if (k == "failure_code")
                r.error.failure_code = static_cast<std::uint16_t>(parse_int(v));
            else if (k == "message")
                r.error.message = v;
            else
                throw admin_error{"unknown option: " + k};
        }
        try {
            c.prime(n, std::move(r));
        } catch (const std::regex_error& e) {
            throw admin_error{std::string("bad regex: ") + e.what()};
        }
    } else if (cmd == "unprime") {
        expect_args(t, 2, 2, "unprime N");
        c.clear_primes(parse_node(c, t[1], true));
    } else if (cmd == "close-after") {
        expect_args(t, 3, 3, "close-after N COUNT");
        auto k = parse_int(t[2]);
        if (k < 0) throw admin_error{"count must be >= 0"};
        c.close_connection_after(parse_node(c, t[1], true), static_cast<std::uint64_t>(k));
    } else if (cmd == "wrong-stream") {
        expect_args(t, 2, 3, "wrong-stream N [COUNT]");
        auto k = t.size() == 3 ? parse_int(t[2]) : 1;
        if (k < 0) throw admin_error{"count must be >= 0"};
        c.reply_on_wrong_stream(parse_node(c, t[1], true), static_cast<std::uint64_t>(k));
    } else if (cmd == "max-streams") {
        expect_args(t, 3, 3, "max-streams N COUNT");
        auto k = parse_int(t[2]);
        if (k < 0) throw admin_error{"count must be >= 0"};
        c.cap_concurrent_streams(parse_node(c, t[1], true), static_cast<std::size_t>(k));
    } else if (cmd == "clear") {
        expect_args(t, 2, 2, "clear N");
        c.clear_faults(parse_node(c, t[1], true));
    } else if (cmd == "log") {
        expect_args(t, 2, 2, "log N");
        for (const auto& e : c.request_log(parse_node(c, t[1], false))) {
            auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                          e.timestamp.time_since_epoch())
                          .count();
            out << "op=" << cql::protocol::to_string(e.op) << " conn=" << e.connection
                << " stream=" << e.stream << " cl=" << cql::protocol::to_string(e.consistency)
                << " values=" << e.values << " ts=" << us;
            if (!e.prepared_id.empty()) out << " id=" << hex(e.prepared_id);
            if (!e.query.empty()) out << " query=" << e.query;
            out << '\n';
        }
    } else if (cmd == "clear-log") {
        expect_args(t, 2, 2, "clear-log N");
        c.clear_request_log(parse_node(c, t[1], true));
    } else {
        throw admin_error{"unknown command: " + cmd + " (try help)"};
    }
    out << "ok\n";
    return out.str();
}

}  // namespace

std::string run_admin_command(cluster& c, std::string_view line) {
    try {
        auto t = tokenize(line);
        if (t.empty()) return "ok\n";
        if (t[0] == "quit" || t[0] == "exit") return "bye\n";
        return run(c, t);
    } catch (const admin_error& e) {
        return "error " + e.reason + "\n";
    } catch (const std::exception& e) {
        return std::string("error ") + e.what() + "\n";
    }
}

// ---- the TCP endpoint ----

struct admin_server::impl {
    cluster& c;
    asio::io_context io{1};
    tcp::acceptor acceptor{io};
    std::thread thread;

    explicit impl(cluster& cl) : c(cl) {}

    struct session : std::enable_shared_from_this<session> {
        impl& owner;
        tcp::socket sock;
        asio::streambuf in;
        std::string reply;
        session(impl& o, tcp::socket s) : owner(o), sock(std::move(s)) {}

        void read() {
            asio::async_read_until(
                sock, in, '\n',
                [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                    if (ec) return;
                    std::istream is(&self->in);
                    std::string line;
                    std::getline(is, line);
                    if (!line.empty() && line.back() == '\r') line.pop_back();
                    self->reply = run_admin_command(self->owner.c, line);
                    bool quit = self->reply == "bye\n";
                    asio::async_write(self->sock, asio::buffer(self->reply),
                                      [self, quit](boost::system::error_code wec, std::size_t) {
                                          if (wec || quit) return;
                                          self->read();
                                      });
                });
        }
    };

    void accept() {
        acceptor.async_accept([this](boost::system::error_code ec, tcp::socket s) {
            if (ec) return;
            std::make_shared<session>(*this, std::move(s))->read();
            accept();
        });
    }
};

admin_server::admin_server(cluster& c, std::string address, std::uint16_t port)
    : impl_(std::make_unique<impl>(c)) {
    tcp::endpoint ep(asio::ip::make_address(address), port);
    impl_->acceptor.open(ep.protocol());
    impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
    impl_->acceptor.bind(ep);
    impl_->acceptor.listen();
    impl_->accept();
    impl_->thread = std::thread([this] { impl_->io.run(); });
}

admin_server::~admin_server() {
    stop();
}

std::uint16_t admin_server::port() const noexcept {
    boost::system::error_code ec;
    auto ep = impl_->acceptor.local_endpoint(ec);
    return ec ? 0 : ep.port();
}

void admin_server::stop() {
    if (!impl_->thread.joinable()) return;
    impl_->io.stop();
    impl_->thread.join();
}

}  // namespace cqlsim
