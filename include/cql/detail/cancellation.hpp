#pragma once
// Per-operation cancellation of the session's operations: the handler's cancellation slot
// is handed to the driver, and cleared (on the handler's executor) right before the
// handler runs, so the driver never touches the slot after completion.

#include <type_traits>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>

namespace cql::detail {

template <class Handler>
struct clear_slot_then {
    Handler handler;
    boost::asio::cancellation_slot slot;
    template <class... Args>
    void operator()(Args&&... args) {
        slot.clear();
        std::move(handler)(std::forward<Args>(args)...);
    }
};
template <class Handler>
auto with_cancellation_slot(Handler&& h, const boost::asio::any_io_executor& ex,
                            boost::asio::cancellation_slot& slot) {
    slot = boost::asio::get_associated_cancellation_slot(h);
    auto hex = boost::asio::get_associated_executor(h, ex);
    return boost::asio::bind_executor(
        hex, clear_slot_then<std::decay_t<Handler>>{std::forward<Handler>(h), slot});
}
}  // namespace cql::detail
