// UUID generators (RFC 9562): versions 1, 4 and 7.
#include "cql/uuid.hpp"

#include <atomic>
#include <mutex>
#include <random>

namespace cql {

namespace {

std::uint64_t random64() {
    thread_local std::mt19937_64 gen([] {
        std::random_device rd;
        std::seed_seq seq{rd(), rd(), rd(), rd()};
        return std::mt19937_64(seq);
    }());
    return gen();
}

void put_be(uuid& u, std::size_t at, std::uint64_t v, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i)
        u[at + i] = static_cast<std::uint8_t>(v >> (8 * (n - 1 - i)));
}
std::uint64_t get_be(const uuid& u, std::size_t at, std::size_t n) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i)
        v = (v << 8) | u[at + i];
    return v;
}

void set_variant(uuid& u) {
    u[8] = static_cast<std::uint8_t>((u[8] & 0x3F) | 0x80);
}

// 100 ns ticks between 1582-10-15 and 1970-01-01.
constexpr std::uint64_t gregorian_offset = 0x01B21DD213814000ULL;

struct v1_state {
    std::mutex mutex;
    std::uint64_t last_ticks = 0;
    std::uint16_t clock_seq = static_cast<std::uint16_t>(random64() & 0x3FFF);
    std::uint64_t node = (random64() & 0xFFFFFFFFFFFFULL) | 0x010000000000ULL;  // multicast
};
v1_state& v1() {
    static v1_state s;
    return s;
}

uuid make_v1(std::uint64_t ticks, std::uint16_t clock_seq, std::uint64_t node) {
    uuid u{};
    put_be(u, 0, ticks & 0xFFFFFFFFULL, 4);              // time_low
    put_be(u, 4, (ticks >> 32) & 0xFFFF, 2);             // time_mid
    put_be(u, 6, ((ticks >> 48) & 0x0FFF) | 0x1000, 2);  // version 1 + time_high
    put_be(u, 8, clock_seq & 0x3FFF, 2);                 // clock sequence
    put_be(u, 10, node, 6);
    set_variant(u);
    return u;
}

std::uint64_t ticks_of(std::chrono::system_clock::time_point t) {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
    return static_cast<std::uint64_t>(ns / 100) + gregorian_offset;
}

}  // namespace

uuid uuid_v4() {
    uuid u{};
    put_be(u, 0, random64(), 8);
    put_be(u, 8, random64(), 8);
    u[6] = static_cast<std::uint8_t>((u[6] & 0x0F) | 0x40);
    set_variant(u);
    return u;
}

uuid timeuuid_now() {
    auto& s = v1();
    std::lock_guard lk(s.mutex);
    auto t = ticks_of(std::chrono::system_clock::now());
    if (t <= s.last_ticks) t = s.last_ticks + 1;  // strictly increasing within the process
    s.last_ticks = t;
    return make_v1(t, s.clock_seq, s.node);
}

uuid timeuuid_at(std::chrono::system_clock::time_point t) {
    auto& s = v1();
    return make_v1(ticks_of(t), s.clock_seq, s.node);
}

uuid uuid_v7() {
    static std::mutex mutex;
    static std::uint64_t last_ms = 0;
    static std::uint16_t counter = 0;
    std::uint64_t ms;
    std::uint16_t seq;
    {
        std::lock_guard lk(mutex);
        ms = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                            std::chrono::system_clock::now().time_since_epoch())
                                            .count());
        if (ms <= last_ms) {
            ms = last_ms;
            if (++counter > 0x0FFF) {  // counter exhausted: borrow the next millisecond
                ++ms;
                counter = static_cast<std::uint16_t>(random64() & 0x01FF);
            }
        } else {
            counter = static_cast<std::uint16_t>(random64() & 0x01FF);  // room to count up
        }
        last_ms = ms;
        seq = counter;
    }
    uuid u{};
    put_be(u, 0, ms & 0xFFFFFFFFFFFFULL, 6);
    put_be(u, 6, 0x7000u | (seq & 0x0FFFu), 2);
    put_be(u, 8, random64(), 8);
    set_variant(u);
    return u;
}

int uuid_version(const uuid& u) noexcept {
    return u[6] >> 4;
}

std::chrono::system_clock::time_point uuid_time(const uuid& u) noexcept {
    using namespace std::chrono;
    if (uuid_version(u) == 1) {
        std::uint64_t ticks =
            ((get_be(u, 6, 2) & 0x0FFF) << 48) | (get_be(u, 4, 2) << 32) | get_be(u, 0, 4);
        auto since = static_cast<std::int64_t>(ticks) - static_cast<std::int64_t>(gregorian_offset);
        return system_clock::time_point(
            duration_cast<system_clock::duration>(nanoseconds(since * 100)));
    }
    if (uuid_version(u) == 7)
        return system_clock::time_point(duration_cast<system_clock::duration>(
            milliseconds(static_cast<std::int64_t>(get_be(u, 0, 6)))));
    return system_clock::time_point{};
}

std::string to_string(const uuid& u) {
    static const char* digits = "0123456789abcdef";
    std::string s;
    s.reserve(36);
    for (std::size_t i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) s += '-';
        s += digits[u[i] >> 4];
        s += digits[u[i] & 15];
    }
    return s;
}

bool parse_uuid(std::string_view text, uuid& out) noexcept {
    if (text.size() != 36) return false;
    uuid u{};
    std::size_t n = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-') return false;
            continue;
        }
        int v;
        if (c >= '0' && c <= '9')
            v = c - '0';
        else if (c >= 'a' && c <= 'f')
            v = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            v = c - 'A' + 10;
        else
            return false;
        u[n / 2] = static_cast<std::uint8_t>(u[n / 2] | (n % 2 ? v : v << 4));
        ++n;
    }
    out = u;
    return true;
}

}  // namespace cql
