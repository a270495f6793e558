#pragma once
// A hand-written recursive-descent parser for the CQL that drivers and applications use.
// Keywords are case-insensitive; comments (--, //, /* */) are skipped.

#include <string>
#include <string_view>
#include <variant>

#include "cqlsim/ast.hpp"

namespace cqlsim {

struct syntax_error {
    std::string message;  // "line 1:7 no viable alternative at input 'x'" style
};

// Parses exactly one statement (an optional trailing ';' is accepted).
std::variant<ast::parsed_statement, syntax_error> parse(std::string_view cql);

// Lower-cases an unquoted identifier the way Cassandra does (ASCII only).
std::string fold_identifier(std::string_view id);

}  // namespace cqlsim
