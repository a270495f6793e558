#pragma once
// The Asio configuration a program must share with cql-asio.
//
// BOOST_ASIO_NO_DEPRECATED changes the signatures of Asio functions (a synchronous operation
// taking an error_code& returns that error_code, or void with the macro), so every file of a
// program must agree on it, with cql-asio's too: whether compiled once into libcql_asio
// (BOOST_ASIO_SEPARATE_COMPILATION) or header-only, one definition of each function serves
// them all. cql-asio is built without it unless configured with CQL_ASIO_NO_DEPRECATED=ON
// (which then defines it, and CQL_ASIO_BUILT_WITH_NO_DEPRECATED, for every program using it).
// A program that defines it alone is refused here, where the mistake shows, instead of
// crashing at run time.

#if defined(BOOST_ASIO_NO_DEPRECATED) && !defined(CQL_ASIO_BUILT_WITH_NO_DEPRECATED)
#error \
    "cql-asio: BOOST_ASIO_NO_DEPRECATED is defined, but cql-asio was built without it, and it changes the signatures of Asio functions (every file of a program must agree). Do not define it, or build cql-asio with -DCQL_ASIO_NO_DEPRECATED=ON, which then defines it for every program using cql-asio."
#endif
