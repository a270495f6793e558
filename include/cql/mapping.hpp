#pragma once
/// \file
/// Object mapping: rows as structs, structs as user types and bound values, table models,
/// generated DDL and schema sync, a typed query builder and mapped streams. docs/mapping.md
/// is the guide.

#include "cql/mapping/bind.hpp"
#include "cql/mapping/cql_types.hpp"
#include "cql/mapping/errc.hpp"
#include "cql/mapping/mapper.hpp"
#include "cql/mapping/model.hpp"
#include "cql/mapping/query.hpp"
#include "cql/mapping/reflect.hpp"
#include "cql/mapping/row.hpp"
#include "cql/mapping/schema.hpp"
#include "cql/mapping/stream.hpp"
#include "cql/mapping/struct_codec.hpp"
