#pragma once
// What a pool needs of a connection: the socket connection (connection.hpp), or a test's
// mock, so that pools are tested without sockets.

#include <chrono>
#include <cstdint>
#include <system_error>

#include "cql/error.hpp"
#include "cql/protocol/bytes.hpp"
#include "cql/protocol/version.hpp"
#include "detail/stream_table.hpp"
#include "detail/unique_function.hpp"

namespace cql::detail {

class pool_connection {
  public:
    virtual ~pool_connection() = default;

    // Connects and shakes hands; `done` is called once, on the connection's executor.
    virtual void open(unique_function<void(std::error_code)> done) = 0;
    virtual bool is_ready() const noexcept = 0;
    // Fails every request in flight with `why` and closes (also while connecting).
    virtual void shutdown(std::error_code why) = 0;
    // Details of a failed connect or of what made the connection fail.
    virtual const diagnostics& connect_diagnostics() const noexcept = 0;

    // The engine's side (see channel in engine.hpp).
    virtual std::error_code send(stream_callback* cb, protocol::bytes_view frame,
                                 std::int16_t& id) = 0;
    virtual void abandon(std::int16_t id) noexcept = 0;
    virtual protocol::protocol_version version() const noexcept = 0;
    virtual std::chrono::steady_clock::time_point last_read() const noexcept = 0;
};

}  // namespace cql::detail
