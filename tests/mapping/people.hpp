#pragma once
// The structs the mapping's unit tests read and bind: a person with a user type (address)
// alone and in a list.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/describe/class.hpp>

namespace app {
struct address {
    std::string street;
    std::optional<std::int32_t> zip;
};
BOOST_DESCRIBE_STRUCT(address, (), (street, zip))

struct person {
    std::int32_t id;
    std::string name;
    std::optional<double> score;
    std::vector<address> addresses;
    std::optional<address> home;
};
BOOST_DESCRIBE_STRUCT(person, (), (id, name, score, addresses, home))
}  // namespace app
