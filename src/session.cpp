// The session: encoding requests when they are initiated (the engine runs them, see
// detail/engine.hpp), and paging.
#include <algorithm>

#include "cql/protocol/murmur3.hpp"
#include "cql/session.hpp"
#include "detail/cluster_impl.hpp"
#include "detail/direct_completion.hpp"
#include "detail/result_columns.hpp"
#include "detail/shard.hpp"
#include "detail/statement_kind.hpp"

namespace cql {

// ---- cql::session ----

boost::asio::any_io_executor session::get_executor() const noexcept {
    return impl_->user_executor();
}
detail::request_handle session::make_request(const statement& s, diagnostics* d) const {
    return impl_->make_request(s, d, bound_keyspace_);
}
detail::request_handle session::make_request(const bound_statement& s, diagnostics* d) const {
    return impl_->make_request(s, d, bound_keyspace_);
}
detail::request_handle session::make_request(const batch& b, diagnostics* d) const {
    return impl_->make_request(b, d, bound_keyspace_);
}
void session::start(detail::request_handle r, detail::result_completion op,
                    boost::asio::cancellation_slot slot) const {
    impl_->start_request(std::move(r), std::move(op), slot);
}
void session::start_prepare(std::string query, detail::prepare_completion op,
                            boost::asio::cancellation_slot slot, diagnostics* diag) const {
    impl_->start_prepare(std::move(query), std::move(op), slot, bound_keyspace_, diag);
}
std::string session::keyspace() const {
    return bound_keyspace_.empty() ? impl_->keyspace() : bound_keyspace_;
}
page_stream session::pages(statement s) {
    return page_stream(*this, std::move(s));
}
page_stream session::pages(bound_statement s) {
    return page_stream(*this, std::move(s));
}

bool applied(const result& r) {
    if (r.type() != result::kind::rows || r.empty()) return true;
    auto row = r.front();
    auto i = row.index_of("[applied]");
    if (i >= row.size()) return true;
    bool v = true;
    if (row.try_get(i, v)) return true;
    return v;
}

// ---- pages ----

namespace {
struct page_step final : detail::direct_completion<error_code, result> {
    page_stream* stream = nullptr;
    std::function<void(error_code, const result&)> on_page;
    detail::page_completion op;
    void done(error_code ec, result r) override {
        on_page(ec, r);
        if (ec)
            detail::complete(std::move(op), ec, std::nullopt);
        else
            detail::complete(std::move(op), ec, std::optional<result>(std::move(r)));
    }
};
}  // namespace

// (Compiled here: inline, the variant's code cost every file that includes the driver.)
page_stream::page_stream(const session& s, std::variant<statement, bound_statement> st)
    : session_(&s), st_(std::move(st)) {}

boost::asio::any_io_executor page_stream::executor() const {
    return session_->get_executor();
}

std::optional<protocol::bytes_view> page_stream::paging_state() const noexcept {
    if (done_) return std::nullopt;
    return std::visit(
        [](const auto& s) -> std::optional<protocol::bytes_view> {
            if constexpr (std::is_same_v<std::decay_t<decltype(s)>, statement>)
                return s.paging_state();
            else
                return s.settings().paging_state();
        },
        st_);
}

page_stream& page_stream::resume_from(protocol::bytes_view state) {
    std::visit(
        [&](auto& s) {
            if constexpr (std::is_same_v<std::decay_t<decltype(s)>, statement>)
                s.paging_state(state);
            else
                s.settings().paging_state(state);
        },
        st_);
    done_ = false;
    return *this;
}

void page_stream::on_page(error_code ec, const result& r) {
    if (ec) return;
    ++pages_;
    auto& st = std::holds_alternative<statement>(st_) ? std::get<statement>(st_)
                                                      : std::get<bound_statement>(st_).settings();
    if (auto ps = r.paging_state(); ps && r.has_more_pages()) {
        st.paging_state(*ps);
    } else {
        st.clear_paging_state();
        done_ = true;
    }
}

void page_stream::start_next(detail::page_completion op, boost::asio::cancellation_slot slot,
                             diagnostics* diag) {
    if (done_) {
        detail::complete(std::move(op), error_code{}, std::nullopt);
        return;
    }
    auto req = std::visit([&](const auto& s) { return session_->make_request(s, diag); }, st_);
    auto* step = new page_step;
    step->stream = this;
    step->on_page = [this](error_code ec, const result& r) { on_page(ec, r); };
    step->op = std::move(op);
    session_->start(std::move(req), detail::result_completion(step), slot);
}

void page_stream::start_next_row(detail::row_completion op, boost::asio::cancellation_slot slot,
                                 diagnostics* diag) {
    if (current_ && row_ != current_->end()) {
        row_view row = *row_;
        ++row_;
        detail::complete(std::move(op), error_code{}, row);
        return;
    }
    current_.reset();
    if (done_) {
        detail::complete(std::move(op), error_code{}, std::nullopt);
        return;
    }
    // Fetch the next page, then read its first row (empty pages are skipped).
    struct next_page final : detail::direct_completion<error_code, std::optional<result>> {
        page_stream* self = nullptr;
        detail::row_completion op;
        diagnostics* diag = nullptr;
        void done(error_code ec, std::optional<result> r) override {
            if (ec || !r) {
                detail::complete(std::move(op), ec, std::nullopt);
                return;
            }
            self->current_ = std::move(r);
            self->row_ = self->current_->begin();
            self->start_next_row(std::move(op), {}, diag);
        }
    };
    auto* step = new next_page;
    step->self = this;
    step->op = std::move(op);
    step->diag = diag;
    start_next(detail::page_completion(step), slot, diag);
}

}  // namespace cql

namespace cql::detail {

namespace {
// The serial consistency sent: the statement's, else the profile's. SERIAL, the server's
// default, is not sent unless the statement names it.
std::optional<protocol::consistency> serial_of(std::optional<protocol::consistency> own,
                                               const execution_profile& prof) {
    if (own) return own;
    if (prof.serial_consistency != protocol::consistency::serial) return prof.serial_consistency;
    return std::nullopt;
}

// The routing key into `key` (cleared first; empty when a key column is not bound).
void routing_key_into(const prepared_info& info, const std::vector<protocol::value_view>& values,
                      protocol::byte_buffer& key) {
    key.clear();
    if (info.pk_indexes.empty()) return;
    for (auto i : info.pk_indexes)
        if (i >= values.size() || values[i].state != protocol::value_view::kind::bytes) return;
    if (info.pk_indexes.size() == 1) {
        auto d = values[info.pk_indexes[0]].data;
        key.assign(d.begin(), d.end());
        return;
    }
    for (auto i : info.pk_indexes)
        protocol::append_composite_component(key, values[i].data);
}

}  // namespace

// ---- encoding ----

void request_deleter::operator()(request* r) const noexcept {
    if (r) recycle_request(r);
}

namespace {
// Whether a bound statement can be sent: false, or true with the error in spec (ec and a
// message, prefixed with `where`). Executed alone or in a batch, the same checks.
bool check_bound(const bound_statement& b, request_spec& spec, const std::string& where = {}) {
    const auto& s = b.settings();
    if (!b.info()) {
        spec.ec = session_errc::bad_statement;
        spec.ec_message = where + "a bound statement without a prepared statement";
    } else if (s.bind_error()) {
        spec.ec = s.bind_error();
        spec.ec_message = where + s.bind_error_message();
    } else if (!s.has_names() && s.value_count() != b.info()->variables.size()) {
        spec.ec = errc::bad_bind_value;
        spec.ec_message = where + "the statement has " +
                          std::to_string(b.info()->variables.size()) + " markers, " +
                          std::to_string(s.value_count()) + " values were bound";
    } else {
        return false;
    }
    return true;
}
}  // namespace

bool cluster_impl::begin_spec(request& r, diagnostics* d, const std::string& session_ks,
                              request_spec::kind k, const std::string& profile_name) {
    auto& sp = r.spec;
    sp.session_keyspace = session_ks;
    sp.diag = d;
    sp.type = k;
    if (!connected_) {
        sp.ec = session_errc::not_connected;
        return false;
    }
    sp.profile = &profiles_.get(profile_name);
    sp.track_latency = sp.profile->load_balancing && sp.profile->load_balancing->reads_latencies();
    sp.version = version_.load();
    sp.use_keyspace = session_ks.empty() ? keyspace() : session_ks;
    return true;
}

request_handle cluster_impl::make_request(const statement& s, diagnostics* d,
                                          const std::string& session_ks) {
    request_handle r(new_request());
    if (!begin_spec(*r, d, session_ks, request_spec::kind::query, s.execution_profile())) return r;
    auto* sp = &r->spec;
    if (s.bind_error()) {
        sp->ec = s.bind_error();
        sp->ec_message = s.bind_error_message();
        return r;
    }
    const auto& prof = *sp->profile;
    std::vector<protocol::value_view> vals;
    std::vector<std::string_view> names;
    auto q = s.to_query(vals, names, prof.consistency);
    if (!s.page_size() && prof.page_size > 0) q.params.page_size = prof.page_size;
    q.params.serial_consistency = serial_of(q.params.serial_consistency, prof);
    if (!q.params.default_timestamp && cfg_.client_timestamps)
        q.params.default_timestamp = next_timestamp();
    if (sp->version < protocol::protocol_version::v5) q.params.keyspace.reset();
    sp->cl = q.params.consistency_level;
    sp->timeout = s.timeout().value_or(prof.request_timeout);
    sp->keyspace = s.keyspace() ? *s.keyspace() : sp->use_keyspace;
    // LWTs and counter updates are never idempotent, whatever they are marked.
    const auto kind = classify_simple(
        s.query(), [this] { return metadata(); }, [&] { return sp->keyspace; });
    sp->idempotent =
        cql::is_idempotent(s.idempotent(), prof.default_idempotence, kind.lwt, kind.counter);
    auto prefix = payload_prefix(s.custom_payload());
    sp->ec = protocol::encode_request_frame(sp->frame, sp->version, 0, q,
                                            prefix ? &*prefix : nullptr, s.tracing());
    return r;
}

request_handle cluster_impl::make_request(const bound_statement& b, diagnostics* d,
                                          const std::string& session_ks) {
    request_handle r(new_request());
    const auto& s = b.settings();
    if (!begin_spec(*r, d, session_ks, request_spec::kind::execute, s.execution_profile()))
        return r;
    auto* sp = &r->spec;
    if (check_bound(b, *sp)) return r;
    const auto& info = *b.info();
    const auto& prof = *sp->profile;
    sp->prepared = b.info();
    thread_local std::vector<protocol::value_view> vals;  // (scratch: views for encoding)
    s.values_into(vals);
    auto names = s.names();
    // The result columns the answer may leave out, and (v5) the id of the result metadata
    // the client has (scratch reused per thread).
    thread_local protocol::byte_buffer rmid;
    sp->skipped_columns = prepared_access::for_execute(info, sp->version, rmid);
    protocol::execute_request e;
    e.id = info.id;
    e.result_metadata_id = rmid;
    auto& p = e.params;
    p.skip_metadata = sp->skipped_columns != nullptr;
    p.consistency_level = s.consistency().value_or(prof.consistency);
    p.values = vals;
    p.names = names;
    if (s.page_size())
        p.page_size =
            *s.page_size() > 0 ? std::optional<std::int32_t>(*s.page_size()) : std::nullopt;
    else if (prof.page_size > 0)
        p.page_size = prof.page_size;
    p.paging_state = s.paging_state();
    p.serial_consistency = serial_of(s.serial_consistency(), prof);
    p.default_timestamp = s.timestamp();
    if (!p.default_timestamp && cfg_.client_timestamps) p.default_timestamp = next_timestamp();
    sp->cl = p.consistency_level;
    sp->idempotent = cql::is_idempotent(s.idempotent(), prof.default_idempotence, info.lwt,
                                        info.counter_update);  // (classified at prepare time)
    sp->timeout = s.timeout().value_or(prof.request_timeout);
    sp->keyspace = !info.routing_keyspace.empty() ? info.routing_keyspace : sp->use_keyspace;
    if (names.empty()) routing_key_into(info, vals, sp->routing_key);
    {
        // One allocation for the frame (an estimate from above of its size).
        std::size_t size =
            64 + info.id.size() + rmid.size() + (p.paging_state ? p.paging_state->size() : 0);
        for (const auto& v : vals)
            size += 4 + v.data.size();
        for (auto n : names)
            size += 2 + n.size();
        sp->frame.reserve(size);
    }
    auto prefix = payload_prefix(s.custom_payload());
    sp->ec = protocol::encode_request_frame(sp->frame, sp->version, 0, e,
                                            prefix ? &*prefix : nullptr, s.tracing());
    return r;
}

request_handle cluster_impl::make_request(const batch& b, diagnostics* d,
                                          const std::string& session_ks) {
    request_handle r(new_request());
    if (!begin_spec(*r, d, session_ks, request_spec::kind::batch, b.execution_profile())) return r;
    auto* sp = &r->spec;
    const auto& prof = *sp->profile;
    std::vector<std::vector<protocol::value_view>> values;
    values.reserve(b.size());
    std::vector<protocol::batch_statement> stmts;
    for (std::size_t i = 0; i < b.entries().size(); ++i) {
        const auto& e = b.entries()[i];
        const auto where = "statement " + std::to_string(i + 1) + " of the batch: ";
        // (The protocol has no names for values in a batch.)
        const char* named = "named values cannot be sent in a batch";
        if (auto* s = std::get_if<statement>(&e)) {
            if (s->bind_error()) {
                sp->ec = s->bind_error();
                sp->ec_message = where + s->bind_error_message();
                return r;
            }
            if (s->has_names()) {
                sp->ec = session_errc::bad_statement;
                sp->ec_message = where + named;
                return r;
            }
            values.push_back(s->values());
            stmts.push_back(protocol::batch_statement::simple(s->query(), values.back()));
        } else {
            const auto& bs = std::get<bound_statement>(e);
            const auto& st = bs.settings();
            if (check_bound(bs, *sp, where)) return r;
            if (st.has_names()) {
                sp->ec = session_errc::bad_statement;
                sp->ec_message = where + named;
                return r;
            }
            values.push_back(st.values());
            stmts.push_back(protocol::batch_statement::prepared(bs.info()->id, values.back()));
            sp->batch_prepared.push_back(bs.info());
            if (sp->routing_key.empty()) {
                routing_key_into(*bs.info(), values.back(), sp->routing_key);
                sp->keyspace = bs.info()->routing_keyspace;
            }
        }
    }
    protocol::batch_request br;
    br.type = b.type();
    br.statements = stmts;
    br.consistency_level = b.consistency().value_or(prof.consistency);
    br.serial_consistency = serial_of(b.serial_consistency(), prof);
    br.default_timestamp = b.timestamp();
    if (!br.default_timestamp && cfg_.client_timestamps) br.default_timestamp = next_timestamp();
    sp->cl = br.consistency_level;
    // A batch holding an LWT or a counter update (or a counter batch) is never idempotent.
    statement_kind kind;
    kind.counter = b.type() == batch_type::counter;
    for (const auto& e : b.entries()) {
        const auto* st = std::get_if<statement>(&e);
        const auto k =
            st ? classify_simple(
                     st->query(), [this] { return metadata(); }, [&] { return sp->use_keyspace; })
               : kind_of(*std::get<bound_statement>(e).info());
        kind.lwt = kind.lwt || k.lwt;
        kind.counter = kind.counter || k.counter;
    }
    sp->idempotent =
        cql::is_idempotent(b.idempotent(), prof.default_idempotence, kind.lwt, kind.counter);
    sp->timeout = b.timeout().value_or(prof.request_timeout);
    if (sp->keyspace.empty()) sp->keyspace = sp->use_keyspace;
    auto prefix = payload_prefix(b.custom_payload());
    sp->ec = protocol::encode_request_frame(sp->frame, sp->version, 0, br,
                                            prefix ? &*prefix : nullptr, b.tracing());
    return r;
}

}  // namespace cql::detail
