// cqldump run as a child process on the fixtures, on corrupted copies and with bad usage.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

const std::string fixtures = std::string(CQL_FIXTURES_DIR) + "/cassandra-4.0-traffic/";

struct run_result {
    int exit_code = -1;
    std::string out;  // stdout
    std::string err;  // stderr
    std::vector<std::string> lines;
};

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

fs::path temp_dir() {
    auto d = fs::temp_directory_path() / ("cqldump-test-" + std::to_string(::getpid()));
    fs::create_directories(d);
    return d;
}

// Runs cqldump with `args` (already shell-quoted where needed).
run_result cqldump(const std::string& args) {
    static const fs::path dir = temp_dir();
    auto out_file = dir / "stdout.txt";
    auto err_file = dir / "stderr.txt";
    std::string cmd = std::string("'") + CQLDUMP_PATH + "' " + args + " >'" + out_file.string() +
                      "' 2>'" + err_file.string() + "'";
    int status = std::system(cmd.c_str());
    run_result r;
    REQUIRE(status != -1);
    REQUIRE(WIFEXITED(status));
    r.exit_code = WEXITSTATUS(status);
    r.out = slurp(out_file);
    r.err = slurp(err_file);
    std::istringstream lines(r.out);
    for (std::string l; std::getline(lines, l);)
        r.lines.push_back(l);
    return r;
}

std::string fixture(const std::string& name) {
    return "'" + fixtures + name + "'";
}

// A copy of a fixture, cut to `size` bytes and with `patches` applied, in a temp file.
std::string damaged_copy(const std::string& name, std::size_t size,
                         std::vector<std::pair<std::size_t, unsigned char>> patches) {
    auto data = slurp(fixtures + name);
    REQUIRE(size <= data.size());
    data.resize(size);
    for (auto [at, byte] : patches) {
        REQUIRE(at < data.size());
        data[at] = static_cast<char>(byte);
    }
    auto path = temp_dir() / ("damaged-" + name);
    std::ofstream(path, std::ios::binary).write(data.data(), static_cast<std::streamsize>(size));
    return "'" + path.string() + "'";
}

bool contains(const std::vector<std::string>& lines, const std::string& line) {
    for (const auto& l : lines)
        if (l == line) return true;
    return false;
}

}  // namespace

TEST_CASE("v4 client: the first frames of conn00") {
    auto r = cqldump("--from client " + fixture("conn00.client.bin"));
    CHECK(r.exit_code == 0);
    CHECK(r.err.empty());
    REQUIRE(r.lines.size() == 85);
    CHECK(r.lines[0] == "0 [0] OPTIONS");
    CHECK(r.lines[1] ==
          "9 [1] STARTUP {DRIVER_NAME: \"DataStax Python Driver\", DRIVER_VERSION: \"3.25.0\", "
          "CQL_VERSION: \"3.4.5\"}");
    CHECK(r.lines[2] == "101 [2] REGISTER [TOPOLOGY_CHANGE, STATUS_CHANGE, SCHEMA_CHANGE]");
    CHECK(r.lines[3] == "159 [3] QUERY ONE values=0 \"SELECT * FROM system.peers_v2\"");
    CHECK(r.lines[4] ==
          "204 [4] QUERY ONE values=0 \"SELECT * FROM system.local WHERE key='local'\"");
}

TEST_CASE("v4 server: SUPPORTED, READY, rows and events of conn00") {
    auto r = cqldump("--from server " + fixture("conn00.server.bin"));
    CHECK(r.exit_code == 0);
    REQUIRE(r.lines.size() == 95);
    CHECK(r.lines[0] ==
          "0 [0] SUPPORTED {PROTOCOL_VERSIONS: [3/v3, 4/v4, 5/v5, 6/v6-beta], COMPRESSION: "
          "[snappy, lz4], CQL_VERSION: [3.4.5]}");
    CHECK(r.lines[1] == "111 [1] READY");
    CHECK(r.lines[4] == "343 [4] RESULT rows columns=20 rows=1 has_more_pages=false");
    CHECK(contains(r.lines, "81746 [-1] EVENT SCHEMA_CHANGE DROPPED TABLE conf_v4.all_types"));
    CHECK(contains(r.lines, "82021 [-1] EVENT SCHEMA_CHANGE CREATED KEYSPACE conf_v4"));
}

TEST_CASE("v4 request connection: errors, prepared statements, batches, rows") {
    auto s = cqldump("--from server --rows " + fixture("conn01.server.bin"));
    CHECK(s.exit_code == 0);
    CHECK(contains(s.lines,
                   "286622 [133] ERROR 0x2000 SYNTAX_ERROR \"line 1:0 no viable "
                   "alternative at input 'SELEC' ([SELEC]...)\""));
    CHECK(contains(s.lines,
                   "286697 [134] ERROR 0x2200 INVALID \"table no_such_table does not "
                   "exist\""));
    CHECK(contains(s.lines,
                   "286746 [135] ERROR 0x2200 INVALID \"Invalid STRING constant (text) "
                   "for \\\"si\\\" of type smallint\""));
    CHECK(contains(s.lines,
                   "10686 [41] RESULT prepared id=94a0fabf93668966dd9d2fa564b16425 markers=3 "
                   "columns=0"));
    CHECK(contains(s.lines, "286069 [120] RESULT rows columns=1 rows=1 has_more_pages=false"));
    CHECK(contains(s.lines, "    (2500)"));
    CHECK(contains(s.lines, "    (false, 9, 1, 'first')"));
    CHECK(contains(s.lines, "286398 [125] RESULT void"));

    auto c = cqldump("--from client " + fixture("conn01.client.bin"));
    CHECK(c.exit_code == 0);
    REQUIRE(c.lines.size() == 136);
    CHECK(contains(c.lines,
                   "4121 [39] EXECUTE id=b874a9f924cb11e2694c66e7dc8d92b6 LOCAL_ONE "
                   "values=24 page_size=5000 timestamp=1795422515328879"));
    CHECK(contains(c.lines,
                   "4633 [42] BATCH LOGGED statements=500 ONE "
                   "timestamp=1795422515342535"));
    CHECK(contains(c.lines,
                   "470036 [133] QUERY LOCAL_ONE values=0 page_size=5000 "
                   "timestamp=1795422516754708 \"SELEC nonsense\""));
}

TEST_CASE("v5 with LZ4 segments: offsets inside segments, forced and wrong compression") {
    auto r = cqldump("--from server --segments " + fixture("conn04.server.bin"));
    CHECK(r.exit_code == 0);
    REQUIRE(r.lines.size() >= 6);
    CHECK(r.lines[1] == "111 [1] READY");
    CHECK(r.lines[2] == "120 segment payload=9 uncompressed=0 self_contained");
    CHECK(r.lines[3] == "120+0 [2] READY");
    CHECK(r.lines[4] == "141 segment payload=193 uncompressed=214 self_contained");
    CHECK(r.lines[5] == "141+0 [3] RESULT rows columns=12 rows=0 has_more_pages=false");

    auto automatic = cqldump("--from server " + fixture("conn05.server.bin"));
    auto forced = cqldump("--from server --compression lz4 " + fixture("conn05.server.bin"));
    CHECK(automatic.exit_code == 0);
    CHECK(forced.exit_code == 0);
    CHECK(automatic.out == forced.out);
    CHECK(contains(automatic.lines, "120+0 [2] RESULT schema_change DROPPED KEYSPACE conf_v5_lz4"));

    auto wrong = cqldump("--from server --compression none " + fixture("conn05.server.bin"));
    CHECK(wrong.exit_code == 1);
    CHECK(wrong.err == "error at offset 120: segment header CRC24 mismatch\n");
    CHECK(wrong.lines.size() == 2);  // the frames before the first segment

    auto client = cqldump("--from client " + fixture("conn02.client.bin"));
    CHECK(client.exit_code == 0);
    REQUIRE(client.lines.size() == 85);
    CHECK(client.lines[2] == "101+0 [2] REGISTER [TOPOLOGY_CHANGE, STATUS_CHANGE, SCHEMA_CHANGE]");
}

TEST_CASE("corrupted copies: exit 1 with the offset of the bad frame or segment") {
    // An opcode byte that does not exist, in the QUERY at 159.
    auto r = cqldump("--from client " + damaged_copy("conn00.client.bin", 7200, {{159 + 4, 0x04}}));
    CHECK(r.exit_code == 1);
    CHECK(r.err == "error at offset 159: unknown opcode\n");
    CHECK(r.lines.size() == 3);

    // Cut inside the REGISTER frame at 101.
    r = cqldump("--from client " + damaged_copy("conn00.client.bin", 150, {}));
    CHECK(r.exit_code == 1);
    CHECK(r.err == "error at offset 101: input truncated\n");

    // A request bit in the server's stream.
    r = cqldump("--from server " + damaged_copy("conn00.server.bin", 180977, {{111, 0x04}}));
    CHECK(r.exit_code == 1);
    CHECK(r.err == "error at offset 111: frame direction bit is wrong\n");

    // A payload byte of the second segment of conn02's client side (at 169: the QUERY).
    r = cqldump("--from client " + damaged_copy("conn02.client.bin", 8276, {{169 + 20, 'X'}}));
    CHECK(r.exit_code == 1);
    CHECK(r.err == "error at offset 169: segment payload CRC32 mismatch\n");

    // A message that does not parse: the QUERY's consistency replaced by 0xFFFF.
    auto data = slurp(fixtures + "conn00.client.bin");
    std::size_t at = 159 + 9 + 4 + 29;  // header, [long string] length, query text
    REQUIRE(data.substr(159 + 13, 29) == "SELECT * FROM system.peers_v2");
    r = cqldump("--from client " +
                damaged_copy("conn00.client.bin", 7200, {{at, 0xFF}, {at + 1, 0xFF}}));
    CHECK(r.exit_code == 1);
    CHECK(r.err == "error at offset 159: invalid field value\n");
}

TEST_CASE("bad usage exits 2") {
    CHECK(cqldump("").exit_code == 2);
    CHECK(cqldump(fixture("conn00.client.bin")).exit_code == 2);
    CHECK(cqldump("--from middle " + fixture("conn00.client.bin")).exit_code == 2);
    CHECK(cqldump("--from client --compression snappy " + fixture("conn00.client.bin")).exit_code ==
          2);
    CHECK(cqldump("--from client --bogus " + fixture("conn00.client.bin")).exit_code == 2);
    CHECK(cqldump("--from client /nonexistent/file.bin").exit_code == 2);
    auto r = cqldump("--from client");
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("usage: cqldump") != std::string::npos);
}
