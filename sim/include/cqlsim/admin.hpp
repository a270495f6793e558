#pragma once
// The admin endpoint of cqlsim: a line-based text protocol over TCP on loopback that
// drives a cluster's faults (see sim/README.md, "Admin endpoint"). Each request line
// gets a reply that ends with a line "ok" or "error <reason>" (the `log` and `nodes`
// commands print their data lines before "ok").

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "cqlsim/cluster.hpp"

namespace cqlsim {

// Runs one command line against `c`; returns the reply lines, each ending in '\n'.
// `quit` replies "bye\n" (the server then closes the connection).
std::string run_admin_command(cluster& c, std::string_view line);

class admin_server {
  public:
    // Listens on address:port (port 0: a free port) in its own thread.
    admin_server(cluster& c, std::string address = "127.0.0.1", std::uint16_t port = 0);
    ~admin_server();
    admin_server(const admin_server&) = delete;
    admin_server& operator=(const admin_server&) = delete;

    std::uint16_t port() const noexcept;
    void stop();

  private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace cqlsim
