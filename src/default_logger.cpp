// The default logger: the driver's warnings on stderr unless the application says otherwise.
#include <cstdio>
#include <string>

#include "cql/cluster.hpp"

namespace cql {

void stderr_logger(cql::log_level level, std::string_view message) {
    // One fwrite per line: stdio locks the stream for it, so lines from several threads do
    // not interleave.
    std::string line = "cql-asio ";
    line += to_string(level);
    line += ": ";
    line += message;
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace cql
