#include "cql/response.hpp"

#include "detail/thread_cache.hpp"

namespace cql {

namespace detail {
namespace {
// Per-thread cache of body buffers. Trivially destructible state plus a guard so that
// responses destroyed after the thread's cache (at thread or process exit) free normally.
// (Enough slots for the answers of hundreds of requests read at once, bounded in bytes.)
constexpr std::size_t cache_slots = 1024;
constexpr std::size_t max_cached_capacity = 256 * 1024;
constexpr std::size_t max_cached_bytes = 4 * 1024 * 1024;
struct body_cache {
    std::vector<protocol::byte_buffer> items;
    std::size_t bytes = 0;  // capacity held
    body_cache();
    ~body_cache();
};
thread_local bool cache_gone = false;
body_cache::body_cache() {
    items.reserve(cache_slots);
}
body_cache::~body_cache() {
    cache_gone = true;
}
body_cache* cache() noexcept {
    if (cache_gone) return nullptr;
    thread_local body_cache c;
    return &c;
}
// Small bodies (most answers: a few rows, a status) go to a thread_cache instead, balanced
// between threads: results are often dropped on another thread than the one that read them.
// (At most 1024 x 4 KiB per thread and 16 x 512 x 4 KiB in the depot.)
constexpr std::size_t max_small_capacity = 4096;
struct small_body_traits {
    using item = protocol::byte_buffer;
    static void dispose(protocol::byte_buffer&&) noexcept {}  // (freed by its destructor)
};
using small_bodies = thread_cache<small_body_traits>;
}  // namespace

protocol::byte_buffer take_body_buffer() noexcept {
    auto* c = cache();
    if (!c || c->items.empty()) {
        protocol::byte_buffer b;
        small_bodies::pop(b);
        return b;
    }
    auto b = std::move(c->items.back());
    c->items.pop_back();
    c->bytes -= b.capacity();
    return b;
}

void recycle_body_buffer(protocol::byte_buffer&& b) noexcept {
    if (b.capacity() == 0 || b.capacity() > max_cached_capacity) return;
    if (b.capacity() <= max_small_capacity) {
        b.clear();
        small_bodies::push(std::move(b));  // (when it cannot be kept, the caller frees it)
        return;
    }
    auto* c = cache();
    if (!c || c->items.size() >= cache_slots || c->bytes + b.capacity() > max_cached_bytes) return;
    b.clear();
    c->bytes += b.capacity();
    c->items.push_back(std::move(b));  // (capacity reserved: no allocation)
}
}  // namespace detail

response::~response() {
    detail::recycle_body_buffer(std::move(body_));
}

response& response::operator=(response&& o) noexcept {
    if (this != &o) {
        detail::recycle_body_buffer(std::move(body_));
        header_ = o.header_;
        body_ = std::move(o.body_);
        message_offset_ = o.message_offset_;
        prefix_ = std::move(o.prefix_);
        diag_ = std::move(o.diag_);
        filled_ = o.filled_;
    }
    return *this;
}

std::error_code response::assign(const protocol::frame_header& h, protocol::byte_buffer body) {
    header_ = h;
    detail::recycle_body_buffer(std::move(body_));
    body_ = std::move(body);
    header_.body_length = static_cast<std::uint32_t>(body_.size());
    prefix_ = {};
    diag_.clear();
    filled_ = true;
    message_offset_ = 0;
    protocol::byte_reader r(body_);
    protocol::read_body_prefix(r, header_, prefix_);
    if (!r.ok()) return r.error();
    message_offset_ = r.position();
    if (header_.op == protocol::opcode::error)
        return decode_error_body(message(), header_.version, diag_);
    return {};
}

}  // namespace cql
