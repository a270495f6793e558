// A program that uses Asio names BOOST_ASIO_NO_DEPRECATED removes (io_context::work,
// io_context::post, run(error_code&), reset()) next to cql-asio: linking cqlasio::cqlasio (or
// compiling with `pkg-config --cflags cqlasio`) must not take them away. Prints one line.
#include <cstdio>

#include <boost/asio/io_context.hpp>

#include <cql/cluster.hpp>

int main() {
    boost::asio::io_context io;
    int ran = 0;
    {
        boost::asio::io_context::work work(io);
        io.post([&] {
            ++ran;
            io.stop();
        });
        boost::system::error_code ec;
        io.run(ec);
        if (ec) return 1;
    }
    io.reset();
    io.post([&] { ++ran; });
    io.run();

    cql::cluster_config cfg;  // and the driver itself, in the same program
    cfg.contact_points = {"127.0.0.1"};
    cql::cluster cluster(io.get_executor(), cfg);
    std::printf("cqlasio deprecated asio names: %d handlers ran, logger %s\n", ran,
                cfg.logger ? "set" : "unset");
    return ran == 2 ? 0 : 1;
}
