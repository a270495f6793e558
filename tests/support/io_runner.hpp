#pragma once
// An io_context run by a thread of its own until destroyed (also when a REQUIRE throws),
// for tests that wait on futures from the test's thread.

#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

namespace cql::test {

struct io_runner {
    boost::asio::io_context io;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work =
        boost::asio::make_work_guard(io);
    std::thread thread{[this] { io.run(); }};

    ~io_runner() {
        work.reset();
        io.stop();
        thread.join();
    }
};

}  // namespace cql::test
