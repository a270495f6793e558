#pragma once
/// \file
/// Dates and times: the CQL timestamp, date, time and duration types in cql::, with their
/// std::chrono counterparts bound and read directly.
///
///   CQL        cql::        std::chrono (bind and read)
///   timestamp  timestamp    std::chrono::system_clock::time_point, sys_time<milliseconds>
///                           (any sys_time of at least millisecond precision; binding rounds
///                           down to the millisecond, as the column stores)
///   date       date         std::chrono::sys_days, std::chrono::year_month_day (years
///                           -32767..32767; a date beyond reads as an error)
///   time       time_of_day  std::chrono::hh_mm_ss<std::chrono::nanoseconds>
///   duration   duration     (cql::duration::from(std::chrono::minutes(90)),
///                           d.to_nanoseconds())
///
/// \code
///   using namespace std::chrono;
///   s.async_execute(cql::statement("INSERT INTO ks.ev (k, at, day) VALUES (?, ?, ?)", 1,
///                                  system_clock::now(), year_month_day{2024y / March / 5}), tok);
///   auto at = row.get<system_clock::time_point>("at");
///   auto day = row.get<sys_days>("day");
/// \endcode

#include <chrono>
#include <cstdint>
#include <ratio>
#include <system_error>

#include "cql/protocol/bytes.hpp"
#include "cql/protocol/cells.hpp"
#include "cql/protocol/value.hpp"

namespace cql {

/// timestamp: milliseconds since the Unix epoch; from(sys_time<milliseconds>),
/// to_time_point().
using timestamp = protocol::cql_timestamp;
/// date: days since 1970-01-01 (as the wire holds them); from(sys_days), to_sys_days().
using date = protocol::cql_date;
/// time: nanoseconds since midnight; from(nanoseconds), since_midnight().
using time_of_day = protocol::cql_time;
/// duration: months, days and nanoseconds; from(any std::chrono duration), to_nanoseconds().
using duration = protocol::cql_duration;

}  // namespace cql

/// \cond internal
// A system_clock time point of at least millisecond precision is a timestamp.
template <class Duration>
requires std::ratio_less_equal_v<typename Duration::period, std::milli>
struct cql::protocol::cell_codec<std::chrono::time_point<std::chrono::system_clock, Duration>> {
    using time_point = std::chrono::time_point<std::chrono::system_clock, Duration>;
    static constexpr std::size_t fixed_size = 8;
    static constexpr bool accepts(type_id id) noexcept { return id == type_id::timestamp; }
    static std::error_code encode(byte_writer& w, const time_point& t) {
        w.i64(std::chrono::floor<std::chrono::milliseconds>(t).time_since_epoch().count());
        return {};
    }
    static std::error_code decode(bytes_view cell, time_point& out) {
        cql_timestamp ts;
        if (auto ec = cell_codec<cql_timestamp>::decode(cell, ts)) return ec;
        const std::chrono::milliseconds ms{ts.milliseconds};
        // (a time point of nanoseconds holds +-292 years: farther ones do not fit)
        if (ms > std::chrono::duration_cast<std::chrono::milliseconds>(Duration::max()) ||
            ms < std::chrono::duration_cast<std::chrono::milliseconds>(Duration::min()))
            return codec_errc::value_type_mismatch;
        out = time_point(std::chrono::duration_cast<Duration>(ms));
        return {};
    }
};

template <>
struct cql::protocol::cell_codec<std::chrono::sys_days> {
    static constexpr std::size_t fixed_size = 4;
    static constexpr bool accepts(type_id id) noexcept { return id == type_id::date; }
    static std::error_code encode(byte_writer& w, std::chrono::sys_days d) {
        return cell_codec<cql_date>::encode(w, cql_date::from(d));
    }
    static std::error_code decode(bytes_view cell, std::chrono::sys_days& out) {
        cql_date d;
        if (auto ec = cell_codec<cql_date>::decode(cell, d)) return ec;
        out = d.to_sys_days();
        return {};
    }
};

template <>
struct cql::protocol::cell_codec<std::chrono::year_month_day> {
    static constexpr std::size_t fixed_size = 4;
    static constexpr bool accepts(type_id id) noexcept { return id == type_id::date; }
    static std::error_code encode(byte_writer& w, std::chrono::year_month_day d) {
        if (!d.ok()) return codec_errc::value_type_mismatch;
        return cell_codec<std::chrono::sys_days>::encode(w, std::chrono::sys_days(d));
    }
    static std::error_code decode(bytes_view cell, std::chrono::year_month_day& out) {
        using namespace std::chrono;
        sys_days d;
        if (auto ec = cell_codec<sys_days>::decode(cell, d)) return ec;
        // A date holds +-5.8 million years; year_month_day only -32767..32767.
        if (d < sys_days(year::min() / January / 1) || d > sys_days(year::max() / December / 31))
            return codec_errc::value_type_mismatch;
        out = year_month_day(d);
        return {};
    }
};

template <>
struct cql::protocol::cell_codec<std::chrono::hh_mm_ss<std::chrono::nanoseconds>> {
    using value = std::chrono::hh_mm_ss<std::chrono::nanoseconds>;
    static constexpr std::size_t fixed_size = 8;
    static constexpr bool accepts(type_id id) noexcept { return id == type_id::time; }
    static std::error_code encode(byte_writer& w, const value& t) {
        if (t.is_negative()) return codec_errc::value_type_mismatch;
        return cell_codec<cql_time>::encode(w, cql_time::from(t.to_duration()));
    }
    static std::error_code decode(bytes_view cell, value& out) {
        cql_time t;
        if (auto ec = cell_codec<cql_time>::decode(cell, t)) return ec;
        out = value(t.since_midnight());
        return {};
    }
};
/// \endcond
