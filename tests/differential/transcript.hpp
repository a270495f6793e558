#pragma once
// What a server answered, field by field, as lines of text: "v5 create_table answer: RESULT
// schema_change", "v5 select_all row[0].du: 1mo2d3s (01 04 ...)". Two servers answered alike
// when their transcripts are equal; compare() lists the fields that differ.

#include <string>
#include <vector>

#include "cql/response.hpp"

namespace differential {

struct transcript {
    std::vector<std::string> lines;
    std::vector<std::string> skipped;  // steps a server could not run, each with the reason

    // Every field of a response (an ERROR too): kind, flags, metadata, rows, warnings.
    void add(const std::string& step, const cql::response& r);
    // One line: "<step> <field>: <value>".
    void note(const std::string& step, const std::string& field, const std::string& value);
};

// Fields whose values may differ between the servers, with the reason: a line is left out of
// the comparison when its step (after the version) starts with `step` and its field with
// `field` ("create_", "warning" covers "v5 create_table warning[0]: ...").
struct allowed_difference {
    std::string step;
    std::string field;
    std::string reason;
};
using allowed_differences = std::vector<allowed_difference>;

// The lines that differ ("- expected" / "+ actual"), at most `limit` of them; a step that
// either side skipped is left out, and so are the allowed differences.
std::vector<std::string> compare(const transcript& expected, const transcript& actual,
                                 const allowed_differences& allowed, std::size_t limit = 40);

// One line per entry; read() is the inverse of write() (skipped steps: "# skipped <step>: why").
std::string write(const transcript& t);
transcript read(const std::string& text);

}  // namespace differential
