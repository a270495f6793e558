#pragma once
// The stream ids of one connection: which request each id in flight belongs to.
//
// Ids are handed out least recently freed first (a ring of free ids), so that a late or
// duplicate answer to an id finds it free (and is dropped) for as long as possible, instead
// of completing the request that took the id next. A request that gives up orphans its id:
// the id stays reserved until the late answer arrives. Slots are created as requests need
// them, up to max_streams.

#include <cstddef>
#include <cstdint>
#include <system_error>
#include <vector>

#include "cql/response.hpp"

namespace cql::detail {

// The completion of one request on a connection: its answer (a server ERROR: its code and
// the response), or the connection's failure. Called once, on the connection's executor.
class stream_callback {
  public:
    virtual void on_answer(std::error_code ec, response&& r) = 0;

  protected:
    ~stream_callback() = default;
};

class stream_table {
  public:
    explicit stream_table(std::uint32_t max_streams);

    // A free id, now active with `cb`; -1 when every id is in use.
    std::int16_t take(stream_callback* cb);
    // An answer to `id` arrived: returns the callback to call and frees the id; null when the
    // id was free (an answer to nothing) or orphaned (freed now, the late answer dropped).
    stream_callback* answer(std::int16_t id) noexcept;
    // The request of an active `id` gave up: the id waits for the late answer.
    void orphan(std::int16_t id) noexcept;
    // Frees every id; calls f(cb) for each active one (the connection failed).
    template <class F>
    void drain(F&& f) {
        for (std::size_t i = 0; i < slots_.size(); ++i) {
            auto& s = slots_[i];
            if (s.st == state::free) continue;
            auto* cb = s.cb;
            const bool active = s.st == state::active;
            release(static_cast<std::int16_t>(i));
            if (active && cb) f(cb);
        }
    }

    std::size_t in_use() const noexcept { return in_use_; }  // active + orphaned
    std::size_t orphans() const noexcept { return orphans_; }
    std::size_t active() const noexcept { return in_use_ - orphans_; }
    std::uint32_t capacity() const noexcept { return max_; }

  private:
    enum class state : std::uint8_t { free, active, orphaned };
    struct slot {
        stream_callback* cb = nullptr;
        state st = state::free;
    };
    void release(std::int16_t id) noexcept;

    std::uint32_t max_;
    std::vector<slot> slots_;
    std::vector<std::int16_t> ring_;  // free ids, oldest at head_
    std::size_t head_ = 0;
    std::size_t free_count_ = 0;
    std::size_t in_use_ = 0;
    std::size_t orphans_ = 0;
};

}  // namespace cql::detail
