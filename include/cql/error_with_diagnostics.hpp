#pragma once
/// \file
/// The exception a failed operation throws through a throwing completion token
/// (asio::use_awaitable, asio::use_future): a boost::system::system_error (so existing
/// `catch (const boost::system::system_error&)` code keeps working, and `e.code()` compares
/// with the enums) that also carries the cql::diagnostics of the failure, and whose what()
/// includes the server's message or the driver's explanation.
///
/// \code
///   try {
///       co_await s.async_execute(cql::statement("SELEC 1"), asio::use_awaitable);
///   } catch (const cql::error_with_diagnostics& e) {
///       // e.what(): "syntax error [cql.server:8192]: line 1:0 no viable alternative at
///       //            input 'SELEC' ([SELEC]...)"
///       // e.code() == cql::server_errc::syntax_error, e.diagnostics().message: the server's
///   }
/// \endcode

#include <string>
#include <utility>

#include <boost/system/system_error.hpp>

#include "cql/error.hpp"

namespace cql {

/// A boost::system::system_error with the cql::diagnostics of the failure; what() is
/// describe(code(), diagnostics()).
class error_with_diagnostics : public boost::system::system_error {
  public:
    /// The error `ec` with the details `diag`.
    error_with_diagnostics(const error_code& ec, cql::diagnostics diag)
        : boost::system::system_error(ec), diag_(std::move(diag)), what_(describe(ec, diag_)) {}

    /// The server's message and error fields, or the driver's explanation.
    const cql::diagnostics& diagnostics() const noexcept { return diag_; }
    /// The error's message, category and value, then the details: see describe().
    const char* what() const noexcept override { return what_.c_str(); }

  private:
    cql::diagnostics diag_;
    std::string what_;
};

}  // namespace cql
