#pragma once
/// \file
/// Failure details that travel with the error, without a cql::diagnostics of your own to keep
/// alive:
///
///  - asio::use_awaitable and asio::use_future throw cql::error_with_diagnostics, whose
///    what() names the error and carries the server's message (or the driver's explanation);
///  - a callback taking a third parameter `const cql::diagnostics&` receives the details;
///  - cql::with_diagnostics(token) appends them to any other token's completion
///    (`void(cql::error_code, T, cql::diagnostics)`), e.g. with asio::as_tuple.
///
/// \code
///   // throws cql::error_with_diagnostics: "syntax error [cql.server:8192]: line 1:0 ..."
///   co_await s.async_execute(cql::statement("SELEC 1"), asio::use_awaitable);
///
///   s.async_execute(stmt, [](cql::error_code ec, cql::result r, const cql::diagnostics& d) {
///       if (ec) std::fprintf(stderr, "%s\n", cql::describe(ec, d).c_str());
///   });
///
///   auto [ec, r, d] = co_await s.async_execute(
///       stmt, cql::with_diagnostics(asio::as_tuple(asio::use_awaitable)));
/// \endcode
///
/// Every other token (asio::as_tuple(use_awaitable), asio::deferred, two-argument callbacks)
/// completes with `void(cql::error_code, T)` as before; pass a cql::diagnostics& to the
/// operation for the details then. When you pass one and the token carries the details too,
/// both get them. The session's and cluster's operations support this (async_execute,
/// async_batch, async_prepare, async_connect).

#include <exception>
#include <memory>
#include <type_traits>
#include <utility>

#include <boost/asio/associator.hpp>
#include <boost/asio/async_result.hpp>

#include "cql/detail/op_completion.hpp"
#include "cql/error.hpp"
#include "cql/error_with_diagnostics.hpp"

namespace cql {

/// A completion token adapter: the operation completes with its arguments and then the
/// cql::diagnostics of the failure (empty on success). Made by with_diagnostics().
template <class Token>
struct with_diagnostics_t {
    Token token;  ///< the token that receives `(cql::error_code, T..., cql::diagnostics)`
};

/// Adapts `tok` to receive the diagnostics as one more completion argument:
/// `cql::with_diagnostics(asio::as_tuple(asio::use_awaitable))` gives a
/// `std::tuple<cql::error_code, T, cql::diagnostics>`.
template <class Token>
with_diagnostics_t<std::decay_t<Token>> with_diagnostics(Token&& tok) {
    return {std::forward<Token>(tok)};
}

/// \cond internal
}  // namespace cql

// The two tokens that throw, declared only: their headers (coroutines, std::future) cost
// ~0.08 s of the ~1.1 s a file including cql/cluster.hpp took (g++ 12), and a program that
// uses a token includes its header anyway.
namespace boost::asio {
template <typename Executor>
struct use_awaitable_t;
template <typename Allocator>
class use_future_t;
}  // namespace boost::asio

namespace cql {
namespace detail {

// How an operation reports the diagnostics to its token.
enum class diag_mode {
    none,       // void(error_code, Ts...): the token gets the code only
    exception,  // void(std::exception_ptr, Ts...): an error_with_diagnostics
    appended,   // void(error_code, Ts..., diagnostics)
};

template <class Token>
struct is_with_diagnostics : std::false_type {};
template <class Token>
struct is_with_diagnostics<with_diagnostics_t<Token>> : std::true_type {};
template <class Token>
struct throws_on_error : std::false_type {};
template <class Executor>
struct throws_on_error<boost::asio::use_awaitable_t<Executor>> : std::true_type {};
template <class Allocator>
struct throws_on_error<boost::asio::use_future_t<Allocator>> : std::true_type {};

template <class Token, class... Ts>
constexpr diag_mode diag_mode_of() {
    using T = std::decay_t<Token>;
    if constexpr (is_with_diagnostics<T>::value)
        return diag_mode::appended;
    else if constexpr (throws_on_error<T>::value)
        return diag_mode::exception;
    else if constexpr (std::is_invocable_v<T, error_code, Ts..., const diagnostics&> &&
                       !std::is_invocable_v<T, error_code, Ts...>)
        return diag_mode::appended;  // a callback with a diagnostics parameter
    else
        return diag_mode::none;
}

template <diag_mode Mode, class... Ts>
struct diag_signature {
    using type = void(error_code, Ts...);
};
template <class... Ts>
struct diag_signature<diag_mode::exception, Ts...> {
    using type = void(std::exception_ptr, Ts...);
};
template <class... Ts>
struct diag_signature<diag_mode::appended, Ts...> {
    using type = void(error_code, Ts..., diagnostics);
};

// The token async_initiate gets: with_diagnostics_t is unwrapped.
template <class Token>
decltype(auto) inner_token(Token&& tok) {
    if constexpr (is_with_diagnostics<std::decay_t<Token>>::value)
        return (std::forward<Token>(tok).token);
    else
        return std::forward<Token>(tok);
}

// The diagnostics an operation fills: the caller's, or one of its own (a recycled block: no
// heap allocation per operation in steady state) that lives until the completion.
class kept_diagnostics {
  public:
    explicit kept_diagnostics(diagnostics* callers) : p_(callers) {
        if (!p_) {
            p_ = ::new (allocate_completion(sizeof(diagnostics))) diagnostics();
            owned_ = true;
        }
    }
    kept_diagnostics(kept_diagnostics&& o) noexcept
        : p_(std::exchange(o.p_, nullptr)), owned_(std::exchange(o.owned_, false)) {}
    kept_diagnostics& operator=(kept_diagnostics&&) = delete;
    ~kept_diagnostics() {
        if (owned_) {
            p_->~diagnostics();
            deallocate_completion(p_, sizeof(diagnostics));
        }
    }
    diagnostics* get() const noexcept { return p_; }
    // The details for the handler: moved out of our own, copied from the caller's.
    diagnostics take() { return owned_ ? std::move(*p_) : *p_; }

  private:
    diagnostics* p_ = nullptr;
    bool owned_ = false;
};

// Completes `handler` (of the signature of Mode) from the operation's (error_code, Ts...).
template <diag_mode Mode, class Handler>
struct diagnostics_reporter {
    Handler handler;
    kept_diagnostics diag;

    template <class... Ts>
    void operator()(error_code ec, Ts&&... vs) {
        if constexpr (Mode == diag_mode::exception) {
            std::exception_ptr e;
            if (ec) e = std::make_exception_ptr(error_with_diagnostics(ec, diag.take()));
            std::move(handler)(std::move(e), std::forward<Ts>(vs)...);
        } else {
            diagnostics d = ec ? diag.take() : diagnostics{};
            std::move(handler)(ec, std::forward<Ts>(vs)..., std::move(d));
        }
    }
};

template <diag_mode Mode, class Handler>
diagnostics_reporter<Mode, std::decay_t<Handler>> report_diagnostics(Handler&& h,
                                                                     kept_diagnostics d) {
    return {std::forward<Handler>(h), std::move(d)};
}

// async_initiate with a handler of the signature of Mode, wrapped for `start`.
template <diag_mode Mode, class... Ts, class Token, class Start, class Prepared>
auto initiate_reporting(Token&& tok, Start start, Prepared prepared, kept_diagnostics kept) {
    return boost::asio::async_initiate<Token, typename diag_signature<Mode, Ts...>::type>(
        [start = std::move(start)](auto handler, Prepared p, kept_diagnostics k) mutable {
            start(report_diagnostics<Mode>(std::move(handler), std::move(k)), std::move(p));
        },
        tok, std::move(prepared), std::move(kept));
}

// Initiates an operation that completes with (error_code, Ts...) and fills a diagnostics*:
// `prepare(diagnostics*)` runs now (e.g. encodes the request) and its value is handed to
// `start(handler, value)` at initiation. Tokens that carry the diagnostics get a handler of
// their own signature wrapped into one of (error_code, Ts...), and the diagnostics to fill:
// the caller's, or one kept until the completion.
template <class... Ts, class Token, class Prepare, class Start>
auto initiate_with_diagnostics(Token&& tok, diagnostics* diag, Prepare&& prepare, Start start) {
    constexpr auto mode = diag_mode_of<Token, Ts...>();
    if constexpr (mode == diag_mode::none) {
        return boost::asio::async_initiate<Token, void(error_code, Ts...)>(
            [start = std::move(start)](auto handler, auto prepared) mutable {
                start(std::move(handler), std::move(prepared));
            },
            tok, prepare(diag));
    } else {
        kept_diagnostics kept(diag);
        auto prepared = prepare(kept.get());
        return initiate_reporting<mode, Ts...>(inner_token(std::forward<Token>(tok)),
                                               std::move(start), std::move(prepared),
                                               std::move(kept));
    }
}

}  // namespace detail
/// \endcond

}  // namespace cql

/// \cond internal
// The reporter is invisible to Asio: its executor, allocator and cancellation slot are the
// wrapped handler's.
template <template <class, class> class Associator, cql::detail::diag_mode Mode, class Handler,
          class DefaultCandidate>
struct boost::asio::associator<Associator, cql::detail::diagnostics_reporter<Mode, Handler>,
                               DefaultCandidate> : Associator<Handler, DefaultCandidate> {
    static typename Associator<Handler, DefaultCandidate>::type get(
        const cql::detail::diagnostics_reporter<Mode, Handler>& h) noexcept {
        return Associator<Handler, DefaultCandidate>::get(h.handler);
    }
    static auto get(const cql::detail::diagnostics_reporter<Mode, Handler>& h,
                    const DefaultCandidate& c) noexcept
        -> decltype(Associator<Handler, DefaultCandidate>::get(h.handler, c)) {
        return Associator<Handler, DefaultCandidate>::get(h.handler, c);
    }
};
/// \endcond
