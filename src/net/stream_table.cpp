#include "detail/stream_table.hpp"

#include <algorithm>

namespace cql::detail {

namespace {
constexpr std::uint32_t max_stream_ids = 32768;  // stream ids are non-negative [short]s
constexpr std::size_t initial_slots = 64;
}  // namespace

stream_table::stream_table(std::uint32_t max_streams)
    : max_(std::clamp<std::uint32_t>(max_streams, 1, max_stream_ids)) {
    slots_.reserve(std::min<std::size_t>(initial_slots, max_));
}

std::int16_t stream_table::take(stream_callback* cb) {
    std::int16_t id = -1;
    if (free_count_ > 0) {
        id = ring_[head_];
        head_ = (head_ + 1) % ring_.size();
        --free_count_;
    } else if (slots_.size() < max_) {
        id = static_cast<std::int16_t>(slots_.size());
        slots_.emplace_back();
        // The ring is empty here, so it can grow without moving anything: it must hold
        // every id that exists.
        if (ring_.size() < slots_.size()) {
            ring_.resize(std::min<std::size_t>(std::max(ring_.size() * 2, initial_slots), max_));
            head_ = 0;
        }
    } else {
        return -1;
    }
    auto& s = slots_[static_cast<std::size_t>(id)];
    s.cb = cb;
    s.st = state::active;
    ++in_use_;
    return id;
}

void stream_table::release(std::int16_t id) noexcept {
    auto& s = slots_[static_cast<std::size_t>(id)];
    if (s.st == state::orphaned) --orphans_;
    s.st = state::free;
    s.cb = nullptr;
    --in_use_;
    ring_[(head_ + free_count_) % ring_.size()] = id;
    ++free_count_;
}

stream_callback* stream_table::answer(std::int16_t id) noexcept {
    if (id < 0 || static_cast<std::size_t>(id) >= slots_.size()) return nullptr;
    auto& s = slots_[static_cast<std::size_t>(id)];
    if (s.st == state::free) return nullptr;
    auto* cb = s.st == state::active ? s.cb : nullptr;
    release(id);
    return cb;
}

void stream_table::orphan(std::int16_t id) noexcept {
    if (id < 0 || static_cast<std::size_t>(id) >= slots_.size()) return;
    auto& s = slots_[static_cast<std::size_t>(id)];
    if (s.st != state::active) return;
    s.st = state::orphaned;
    s.cb = nullptr;
    ++orphans_;
}

}  // namespace cql::detail
