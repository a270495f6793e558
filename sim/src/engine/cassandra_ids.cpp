// The ids Cassandra gives prepared statements and result metadata, computed as Cassandra 4.0
// does (drivers cache by them; the differential test compares them with a real node's):
//   prepared id        MD5 of the query text, prefixed with the session keyspace when the
//                      statement names a table without its keyspace
//   result metadata id MD5 over the columns: name, 0, marshal type name, 0, 0 each
#include <openssl/evp.h>

#include <string>

#include "cql/protocol/types.hpp"

#include "cqlsim/engine_impl.hpp"

namespace cqlsim {

namespace {

byte_buffer md5(std::string_view data) {
    byte_buffer out(16);
    unsigned int n = 0;
    EVP_Digest(data.data(), data.size(), out.data(), &n, EVP_md5(), nullptr);
    out.resize(n);
    return out;
}

}  // namespace

byte_buffer prepared_id(std::string_view keyspace, std::string_view cql) {
    std::string key(keyspace);
    key += cql;
    return md5(key);
}

byte_buffer metadata_id(const std::vector<column_spec>& cols) {
    std::string s;
    for (const auto& c : cols) {
        s += c.name;
        s += '\0';
        s += proto::to_marshal_class(c.type);  // AbstractType.toString()
        s += '\0';
        s += '\0';
    }
    return md5(s);
}

}  // namespace cqlsim
