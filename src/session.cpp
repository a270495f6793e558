// The session: encoding requests, running them over the query plan (retries, speculative
// executions, timeouts, UNPREPARED recovery), preparing, paging.
#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "cql/protocol/murmur3.hpp"
#include "cql/session.hpp"
#include "detail/cluster_impl.hpp"
#include "detail/statement_kind.hpp"

namespace cql {

// ---- cql::session ----

boost::asio::any_io_executor session::get_executor() const noexcept {
    return impl_->user_executor();
}
std::shared_ptr<detail::request_spec> session::make_spec(const statement& s, diagnostics* d) const {
    return impl_->make_spec(s, d, bound_keyspace_);
}
std::shared_ptr<detail::request_spec> session::make_spec(const bound_statement& s,
                                                         diagnostics* d) const {
    return impl_->make_spec(s, d, bound_keyspace_);
}
std::shared_ptr<detail::request_spec> session::make_spec(const batch& b, diagnostics* d) const {
    return impl_->make_spec(b, d, bound_keyspace_);
}
void session::start(std::shared_ptr<detail::request_spec> spec,
                    std::unique_ptr<detail::result_completion> op,
                    boost::asio::cancellation_slot slot) const {
    impl_->start_request(std::move(spec), std::move(op), slot);
}
void session::start_prepare(std::string query, std::unique_ptr<detail::prepare_completion> op,
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
struct page_step final : detail::result_completion {
    page_stream* stream = nullptr;
    std::function<void(error_code, const result&)> on_page;
    std::unique_ptr<detail::page_completion> op;
    void complete(error_code ec, result r) override {
        on_page(ec, r);
        if (ec)
            op->complete(ec, std::nullopt);
        else
            op->complete(ec, std::optional<result>(std::move(r)));
    }
};
}  // namespace

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

void page_stream::start_next(std::unique_ptr<detail::page_completion> op,
                             boost::asio::cancellation_slot slot) {
    if (done_) {
        op->complete(error_code{}, std::nullopt);
        return;
    }
    auto spec = std::visit([&](const auto& s) { return session_->make_spec(s, nullptr); }, st_);
    auto step = std::make_unique<page_step>();
    step->stream = this;
    step->on_page = [this](error_code ec, const result& r) { on_page(ec, r); };
    step->op = std::move(op);
    session_->start(std::move(spec), std::move(step), slot);
}

void page_stream::start_next_row(std::unique_ptr<detail::row_completion> op,
                                 boost::asio::cancellation_slot slot) {
    if (current_ && row_ != current_->end()) {
        row_view row = *row_;
        ++row_;
        op->complete(error_code{}, row);
        return;
    }
    current_.reset();
    if (done_) {
        op->complete(error_code{}, std::nullopt);
        return;
    }
    // Fetch the next page, then read its first row (empty pages are skipped).
    struct next_page final : detail::page_completion {
        page_stream* self = nullptr;
        std::unique_ptr<detail::row_completion> op;
        void complete(error_code ec, std::optional<result> r) override {
            if (ec || !r) {
                op->complete(ec, std::nullopt);
                return;
            }
            self->current_ = std::move(r);
            self->row_ = self->current_->begin();
            self->start_next_row(std::move(op));
        }
    };
    auto step = std::make_unique<next_page>();
    step->self = this;
    step->op = std::move(op);
    start_next(std::move(step), slot);
}

}  // namespace cql

namespace cql::detail {

namespace {
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

std::string quote_identifier(const std::string& ks) {
    bool plain = !ks.empty() && !(ks[0] >= '0' && ks[0] <= '9');
    for (char c : ks)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) plain = false;
    if (plain) return ks;
    std::string out = "\"";
    for (char c : ks) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
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

std::string hex_id(protocol::bytes_view id) {
    static const char* digits = "0123456789abcdef";
    std::string s;
    for (auto b : id) {
        s += digits[b >> 4];
        s += digits[b & 15];
    }
    return s;
}
}  // namespace

// ---- encoding ----

namespace {
// request_spec objects are recycled (their buffers keep their capacity; see
// thread_cache.hpp), as are their shared_ptr control blocks (recycled_allocator).
constexpr std::size_t max_kept_frame = 64 * 1024;
struct spec_cache_traits {
    using item = request_spec*;
    static void dispose(request_spec*&& p) noexcept { delete p; }
};
using spec_cache = thread_cache<spec_cache_traits>;
struct spec_recycler {
    void operator()(request_spec* p) const noexcept {
        if (p->frame.capacity() > max_kept_frame) {
            delete p;
            return;
        }
        auto frame = std::move(p->frame);
        auto key = std::move(p->routing_key);
        auto bp = std::move(p->batch_prepared);
        *p = request_spec{};
        frame.clear();
        key.clear();
        bp.clear();
        p->frame = std::move(frame);
        p->routing_key = std::move(key);
        p->batch_prepared = std::move(bp);
        if (!spec_cache::push(std::move(p))) delete p;
    }
};
}  // namespace

std::shared_ptr<request_spec> new_request_spec() {
    request_spec* p = nullptr;
    if (!spec_cache::pop(p)) p = new request_spec;
    return std::shared_ptr<request_spec>(p, spec_recycler{}, recycled_allocator<request_spec>{});
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

std::shared_ptr<request_spec> cluster_impl::make_spec(const statement& s, diagnostics* d,
                                                      const std::string& session_ks) {
    auto sp = new_request_spec();
    sp->session_keyspace = session_ks;
    sp->diag = d;
    sp->type = request_spec::kind::query;
    if (!connected_) {
        sp->ec = session_errc::not_connected;
        return sp;
    }
    if (s.bind_error()) {
        sp->ec = s.bind_error();
        sp->ec_message = s.bind_error_message();
        return sp;
    }
    const auto& prof = profiles_.get(s.execution_profile());
    sp->profile = &prof;
    sp->version = version_.load();
    std::vector<protocol::value_view> vals;
    std::vector<std::string_view> names;
    auto q = s.to_query(vals, names, prof.consistency);
    if (!s.page_size() && prof.page_size > 0) q.params.page_size = prof.page_size;
    if (!q.params.default_timestamp && cfg_.client_timestamps)
        q.params.default_timestamp = next_timestamp();
    if (sp->version < protocol::protocol_version::v5) q.params.keyspace.reset();
    sp->cl = q.params.consistency_level;
    sp->timeout = s.timeout().value_or(prof.request_timeout);
    sp->keyspace = s.keyspace() ? *s.keyspace() : session_ks.empty() ? keyspace() : session_ks;
    // LWTs and counter updates are never idempotent, whatever they are marked.
    const auto kind = classify_simple(
        s.query(), [this] { return metadata(); }, [&] { return sp->keyspace; });
    sp->idempotent =
        cql::is_idempotent(s.idempotent(), prof.default_idempotence, kind.lwt, kind.counter);
    auto prefix = payload_prefix(s.custom_payload());
    sp->ec = protocol::encode_request_frame(sp->frame, sp->version, 0, q,
                                            prefix ? &*prefix : nullptr, s.tracing());
    return sp;
}

std::shared_ptr<request_spec> cluster_impl::make_spec(const bound_statement& b, diagnostics* d,
                                                      const std::string& session_ks) {
    auto sp = new_request_spec();
    sp->session_keyspace = session_ks;
    sp->diag = d;
    sp->type = request_spec::kind::execute;
    if (!connected_) {
        sp->ec = session_errc::not_connected;
        return sp;
    }
    const auto& s = b.settings();
    if (check_bound(b, *sp)) return sp;
    const auto& info = *b.info();
    const auto& prof = profiles_.get(s.execution_profile());
    sp->profile = &prof;
    sp->version = version_.load();
    sp->prepared = b.info();
    thread_local std::vector<protocol::value_view> vals;  // (scratch: views for encoding)
    s.values_into(vals);
    auto names = s.names();
    // (v5 only: the id of the result metadata the client has; scratch reused per thread)
    thread_local protocol::byte_buffer rmid;
    rmid.clear();
    if (sp->version >= protocol::protocol_version::v5) info.result_metadata_id_into(rmid);
    protocol::execute_request e;
    e.id = info.id;
    e.result_metadata_id = rmid;
    auto& p = e.params;
    p.consistency_level = s.consistency().value_or(prof.consistency);
    p.values = vals;
    p.names = names;
    if (s.page_size())
        p.page_size =
            *s.page_size() > 0 ? std::optional<std::int32_t>(*s.page_size()) : std::nullopt;
    else if (prof.page_size > 0)
        p.page_size = prof.page_size;
    p.paging_state = s.paging_state();
    p.serial_consistency = s.serial_consistency();
    p.default_timestamp = s.timestamp();
    if (!p.default_timestamp && cfg_.client_timestamps) p.default_timestamp = next_timestamp();
    sp->cl = p.consistency_level;
    sp->idempotent = cql::is_idempotent(s.idempotent(), prof.default_idempotence, info.lwt,
                                        info.counter_update);  // (classified at prepare time)
    sp->timeout = s.timeout().value_or(prof.request_timeout);
    sp->keyspace = !info.routing_keyspace.empty() ? info.routing_keyspace
                   : session_ks.empty()           ? keyspace()
                                                  : session_ks;
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
    return sp;
}

std::shared_ptr<request_spec> cluster_impl::make_spec(const batch& b, diagnostics* d,
                                                      const std::string& session_ks) {
    auto sp = new_request_spec();
    sp->session_keyspace = session_ks;
    sp->diag = d;
    sp->type = request_spec::kind::batch;
    if (!connected_) {
        sp->ec = session_errc::not_connected;
        return sp;
    }
    const auto& prof = profiles_.get(b.execution_profile());
    sp->profile = &prof;
    sp->version = version_.load();
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
                return sp;
            }
            if (s->has_names()) {
                sp->ec = session_errc::bad_statement;
                sp->ec_message = where + named;
                return sp;
            }
            values.push_back(s->values());
            stmts.push_back(protocol::batch_statement::simple(s->query(), values.back()));
        } else {
            const auto& bs = std::get<bound_statement>(e);
            const auto& st = bs.settings();
            if (check_bound(bs, *sp, where)) return sp;
            if (st.has_names()) {
                sp->ec = session_errc::bad_statement;
                sp->ec_message = where + named;
                return sp;
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
    br.serial_consistency = b.serial_consistency();
    br.default_timestamp = b.timestamp();
    if (!br.default_timestamp && cfg_.client_timestamps) br.default_timestamp = next_timestamp();
    sp->cl = br.consistency_level;
    // A batch holding an LWT or a counter update (or a counter batch) is never idempotent.
    statement_kind kind;
    kind.counter = b.type() == batch_type::counter;
    for (const auto& e : b.entries()) {
        const auto* st = std::get_if<statement>(&e);
        const auto k = st ? classify_simple(
                                st->query(), [this] { return metadata(); },
                                [&] { return session_ks.empty() ? keyspace() : session_ks; })
                          : kind_of(*std::get<bound_statement>(e).info());
        kind.lwt = kind.lwt || k.lwt;
        kind.counter = kind.counter || k.counter;
    }
    sp->idempotent =
        cql::is_idempotent(b.idempotent(), prof.default_idempotence, kind.lwt, kind.counter);
    sp->timeout = b.timeout().value_or(prof.request_timeout);
    if (sp->keyspace.empty()) sp->keyspace = session_ks.empty() ? keyspace() : session_ks;
    auto prefix = payload_prefix(b.custom_payload());
    sp->ec = protocol::encode_request_frame(sp->frame, sp->version, 0, br,
                                            prefix ? &*prefix : nullptr, b.tracing());
    return sp;
}

// ---- execution ----

// The fast path's request state: recycled through cluster_impl::fast_free_ (strand-only).
struct cluster_impl::fast_request final : stream_callback {
    cluster_impl* owner = nullptr;
    std::shared_ptr<cluster_impl> self;  // alive while the request is
    std::shared_ptr<request_spec> spec;
    std::unique_ptr<result_completion> op;
    query_plan plan;
    clock::time_point deadline = clock::time_point::max();
    host_ptr host;
    std::shared_ptr<host_pool> pool;
    std::shared_ptr<pooled_connection> pc;
    clock::time_point sent;

    void on_response(std::error_code ec, response&& r) override {
        owner->on_fast_response(*this, ec, std::move(r));
    }
    void reset() {
        spec.reset();
        op.reset();
        plan.reset();
        deadline = clock::time_point::max();
        host.reset();
        pool.reset();
        pc.reset();
    }
};

void cluster_impl::fast_request_deleter::operator()(fast_request* r) const noexcept {
    delete r;
}

struct cluster_impl::exec_ctx {
    explicit exec_ctx(const strand_type& s) : wake(s) {}
    std::shared_ptr<request_spec> spec;
    query_plan own_plan;
    query_plan* plan = &own_plan;  // (or that of the fast path's state, handed over)
    fast_request_ptr fast;
    bool planned = false;  // plan and deadline set (a hand-over from the fast path)
    bool counted = false;  // inflight_ already counted
    bool resume = false;   // the first attempt tries resume_host instead of plan->next()
    host_ptr resume_host;
    bool answered = false;  // the first attempt's answer came to the fast path: answer_ec/answer
    std::error_code answer_ec;
    response answer;
    clock::time_point deadline = clock::time_point::max();
    asio::steady_timer wake;
    bool done = false;
    bool cancelled = false;
    std::error_code ec;
    result res;
    diagnostics diag;
    int running = 0;
    int retries = 0;
    bool all_busy = true;
    bool tried_any = false;
    std::string errors;
    std::vector<std::pair<asio::any_io_executor, std::shared_ptr<asio::cancellation_signal>>>
        signals;

    void finish(std::error_code e, result r = {}) {
        if (done) return;
        done = true;
        ec = e;
        res = std::move(r);
        wake.cancel();
    }
    void note(const host_ptr& h, std::error_code e) {
        tried_any = true;
        if (e != session_errc::busy) all_busy = false;
        if (!errors.empty()) errors += "; ";
        errors += h->endpoint().to_string() + ": " + e.message();
    }
    void cancel_all() {
        for (auto& [ex, sig] : signals)
            asio::post(ex, [s = sig] { s->emit(asio::cancellation_type::terminal); });
        signals.clear();
    }
    // The user cancelled: complete now; attempts in flight are abandoned (their stream ids
    // stay reserved until the late responses) and nothing is retried or re-sent.
    void cancel() {
        if (done) return;
        cancelled = true;
        diag.clear();
        diag.message = "the operation was cancelled";
        finish(boost::system::error_code(asio::error::operation_aborted));
        cancel_all();
    }
};

namespace {
constexpr auto cancel_types = asio::cancellation_type::terminal | asio::cancellation_type::partial |
                              asio::cancellation_type::total;
}  // namespace

void cluster_impl::start_request(std::shared_ptr<request_spec> spec,
                                 std::unique_ptr<result_completion> op,
                                 asio::cancellation_slot slot) {
    if (spec->ec) {
        if (spec->diag) {
            spec->diag->clear();
            spec->diag->message = spec->ec_message.empty() ? spec->ec.message() : spec->ec_message;
        }
        op->complete(spec->ec, result{});
        return;
    }
    if (closing_) {
        op->complete(session_errc::closed, result{});
        return;
    }
    if (!slot.is_connected()) {
        // The fast path (it hands over to run_request when the request needs more).
        asio::dispatch(
            strand_,
            asio::bind_allocator(
                recycled_allocator<void>(),
                [self = shared_from_this(), spec = std::move(spec), op = std::move(op)]() mutable {
                    auto* c = self.get();
                    c->start_fast(std::move(self), std::move(spec), std::move(op));
                }));
        return;
    }
    auto ctx = std::make_shared<exec_ctx>(strand_);
    ctx->spec = std::move(spec);
    {
        slot.assign([w = std::weak_ptr<exec_ctx>(ctx), st = strand_](asio::cancellation_type t) {
            if ((t & cancel_types) == asio::cancellation_type::none) return;
            asio::post(st, [w] {
                if (auto c = w.lock()) c->cancel();
            });
        });
    }
    asio::co_spawn(strand_, run_request(std::move(ctx), std::move(op)), asio::detached);
}

// ---- the fast path ----
// The common case without coroutines or allocations: the first attempt of a request, no
// speculative execution, a connection of the first host's pool free now (on the cluster's
// strand, so it is called directly). The state comes from a free list; the connection's
// stream slot holds it as its callback; the answer is judged as run_attempt does. Anything
// more (waiting for a connection, a USE, a retry, re-preparing, speculative executions,
// cancellation) goes to run_request/run_attempt, which continue where the fast path stopped:
// a request is never sent twice unless the retry policy says so.

bool cluster_impl::needs_use(const request_spec& spec, const std::string& conn_ks) const {
    if (!spec.session_keyspace.empty()) return spec.session_keyspace != conn_ks;
    if (!has_keyspace_.load(std::memory_order_acquire)) return false;
    std::lock_guard lk(mutex_);
    return !keyspace_.empty() && keyspace_ != conn_ks;
}

void cluster_impl::start_fast(std::shared_ptr<cluster_impl> self,
                              std::shared_ptr<request_spec> spec,
                              std::unique_ptr<result_completion> op) {
    if (closing_) {
        op->complete(session_errc::closed, result{});
        return;
    }
    ++inflight_;
    fast_request_ptr rp;
    if (!fast_free_.empty()) {
        rp = std::move(fast_free_.back());
        fast_free_.pop_back();
    } else {
        rp.reset(new fast_request);
        rp->owner = this;
    }
    auto& r = *rp.release();  // owned by the request until finish_fast or hand_over
    r.self = std::move(self);
    r.spec = std::move(spec);
    r.op = std::move(op);
    const auto& sp = *r.spec;
    {
        routing_info info;
        info.keyspace = sp.keyspace;
        info.routing_key = sp.routing_key;
        info.consistency = sp.cl;
        sp.profile->load_balancing->new_plan(info, r.plan);
    }
    const auto now = clock::now();  // (one clock read for the deadline and the latency)
    if (sp.timeout.count() > 0) r.deadline = now + sp.timeout;
    {
        speculative_schedule sched(sp.profile->speculative_execution.get(), sp.idempotent,
                                   sp.keyspace);
        if (sched.next()) {
            hand_over(r, false, nullptr, 0);
            return;
        }
    }
    host_ptr h = r.plan.next();
    if (!h) {
        hand_over(r, true, nullptr, 0);  // (run_attempt names the hosts)
        return;
    }
    auto pool = pool_for(h);
    std::shared_ptr<pooled_connection> pc;
    if (pool && h->is_up()) pc = pool->try_acquire();
    if (!pc) {
        hand_over(r, true, std::move(h), 0);
        return;
    }
    // Another strand, or a USE is needed: the coroutine path does it.
    if (pc->conn->get_executor() != static_cast<const asio::strand<io_executor>&>(strand_) ||
        needs_use(sp, pc->keyspace)) {
        pool->release(*pc);
        hand_over(r, true, std::move(h), 0);
        return;
    }
    r.host = std::move(h);
    r.pool = std::move(pool);
    r.pc = std::move(pc);
    r.sent = now;
    // (spec->frame is not changed while the request is in flight)
    if (auto ec = r.pc->conn->send_direct(&r, r.spec->frame, r.deadline)) {
        // Not sent: the coroutine path tries again (on this host first).
        r.pool->release(*r.pc);
        r.pool.reset();
        r.pc.reset();
        hand_over(r, true, std::move(r.host), 0);
    }
    // (else r may be finished already)
}

void cluster_impl::on_fast_response(fast_request& r, std::error_code ec, response&& resp) {
    auto& sp = *r.spec;
    auto h = std::move(r.host);
    auto pool = std::move(r.pool);
    auto pc = std::move(r.pc);
    if (!ec || ec.category() == server_category()) h->latency().record(clock::now() - r.sent);
    if (!ec) {
        result res;
        if (auto rec = result::from_response(std::move(resp), res)) {
            pool->release(*pc);
            diagnostics d;
            d.message = "malformed response: " + rec.message();
            finish_fast(r, rec, result{}, std::move(d));
            return;
        }
        note_answer(sp, *pc, res);
        pool->release(*pc);
        if (res.type() == result::kind::schema_change) {
            asio::co_spawn(strand_, finish_fast_schema_change(&r, std::move(res)), asio::detached);
            return;
        }
        finish_fast(r, {}, std::move(res), diagnostics{});
        return;
    }
    pool->release(*pc);
    if (ec == errc::timed_out && clock::now() >= r.deadline) {
        // The request's own timeout (the stream id stays reserved until the late answer).
        diagnostics d;
        d.message = "no response within " + std::to_string(sp.timeout.count()) + " ms";
        finish_fast(r, errc::timed_out, result{}, std::move(d));
        return;
    }
    diagnostics diag = resp.diag();
    if (ec == server_errc::unprepared && (sp.prepared || !sp.batch_prepared.empty())) {
        // run_attempt takes this answer on a connection to this host, re-prepares there
        // and sends again.
        hand_over(r, true, std::move(h), 0, nullptr, {}, &resp, ec);
        return;
    }
    if (is_connection_error(ec)) pool->wake(false);
    switch (judge_error(sp, 0, ec, diag).action) {
        case retry_decision::type::retry_same_host:
            hand_over(r, true, std::move(h), 1);
            return;
        case retry_decision::type::retry_next_host: {
            auto next = r.plan.next();
            hand_over(r, true, std::move(next), 1, h, ec);  // (h noted in the errors)
            return;
        }
        case retry_decision::type::ignore:
            finish_fast(r, {}, result{}, diagnostics{});
            return;
        default:
            break;
    }
    if (diag.message.empty()) diag.message = ec.message();
    finish_fast(r, ec, result{}, std::move(diag));
}

asio::awaitable<void> cluster_impl::finish_fast_schema_change(fast_request* r, result res) {
    co_await settle_schema_change(res);
    finish_fast(*r, {}, std::move(res), diagnostics{});
}

void cluster_impl::note_answer(const request_spec& spec, pooled_connection& pc, const result& r) {
    if (spec.prepared && r.type() == result::kind::rows && r.metadata().new_metadata_id)
        spec.prepared->set_result_metadata_id(*r.metadata().new_metadata_id);
    if (r.type() == result::kind::set_keyspace) {
        pc.keyspace = std::string(r.keyspace());
        if (spec.session_keyspace.empty())  // a bound session keeps its keyspace
            set_keyspace(pc.keyspace);
    }
}

asio::awaitable<void> cluster_impl::settle_schema_change(result& r) {
    const bool agreed = co_await wait_schema_agreement();
    r.set_schema_in_agreement(agreed);
    auto sec = co_await refresh_schema();
    if (sec) log(log_level::warning, "schema refresh failed: " + sec.message());
}

retry_decision cluster_impl::judge_error(const request_spec& spec, int retries, std::error_code ec,
                                         const diagnostics& diag) const {
    retry_request rr;
    rr.idempotent = spec.idempotent;
    rr.consistency = spec.cl;
    rr.retry_count = retries;
    auto decision = decide_retry(*spec.profile->retry, rr, ec, diag);  // (the policy is asked)
    return closing_ ? retry_decision::rethrow() : decision;
}

void cluster_impl::finish_fast(fast_request& r, std::error_code ec, result res, diagnostics diag) {
    if (r.spec->diag) *r.spec->diag = std::move(diag);
    auto op = std::move(r.op);
    auto keep = std::move(r.self);  // (the last reference may go at the end of this function)
    r.reset();
    if (fast_free_.size() < 4096)
        fast_free_.emplace_back(&r);
    else
        fast_request_deleter{}(&r);
    op->complete(ec, std::move(res));
    request_done();
}

void cluster_impl::hand_over(fast_request& r, bool resume, host_ptr resume_host, int retries,
                             const host_ptr& failed, std::error_code failed_ec, response* answer,
                             std::error_code answer_ec) {
    auto ctx = std::make_shared<exec_ctx>(strand_);
    ctx->spec = r.spec;
    ctx->plan = &r.plan;
    ctx->deadline = r.deadline;
    ctx->planned = true;
    ctx->counted = true;
    ctx->resume = resume;
    ctx->resume_host = std::move(resume_host);
    ctx->retries = retries;
    if (failed) ctx->note(failed, failed_ec);
    if (answer) {
        ctx->answered = true;
        ctx->answer_ec = answer_ec;
        ctx->answer = std::move(*answer);
    }
    auto op = std::move(r.op);
    r.self.reset();  // (run_request keeps the cluster alive)
    ctx->fast.reset(&r);
    asio::co_spawn(strand_, run_request(std::move(ctx), std::move(op)), asio::detached);
}

asio::awaitable<void> cluster_impl::run_request(std::shared_ptr<exec_ctx> ctx,
                                                std::unique_ptr<result_completion> op) {
    auto self = shared_from_this();
    if (!ctx->counted) ++inflight_;
    auto spec = ctx->spec;
    if (closing_) {
        ctx->finish(session_errc::closed);
    } else if (!ctx->done) {  // (not cancelled before it started)
        if (!ctx->planned) {
            routing_info info;
            info.keyspace = spec->keyspace;
            info.routing_key = spec->routing_key;
            info.consistency = spec->cl;
            spec->profile->load_balancing->new_plan(info, *ctx->plan);
            if (spec->timeout.count() > 0) ctx->deadline = clock::now() + spec->timeout;
        }
        speculative_schedule sched(spec->profile->speculative_execution.get(), spec->idempotent,
                                   spec->keyspace);
        asio::co_spawn(strand_, run_attempt(ctx), asio::detached);
        std::optional<clock::time_point> spec_at;
        if (auto d = sched.next()) spec_at = clock::now() + *d;
        while (!ctx->done) {
            auto until = ctx->deadline;
            if (spec_at && *spec_at < until) until = *spec_at;
            ctx->wake.expires_at(until);
            co_await ctx->wake.async_wait(tuple_awaitable);
            if (ctx->done) break;
            auto now = clock::now();
            if (now >= ctx->deadline) {
                ctx->diag.clear();
                ctx->diag.message =
                    "no response within " + std::to_string(spec->timeout.count()) + " ms";
                if (!ctx->errors.empty()) ctx->diag.message += " (" + ctx->errors + ")";
                ctx->finish(errc::timed_out);
                ctx->cancel_all();
                break;
            }
            if (spec_at && now >= *spec_at) {
                log(log_level::debug, "speculative execution");
                asio::co_spawn(strand_, run_attempt(ctx), asio::detached);
                spec_at.reset();
                if (auto d = sched.next()) spec_at = now + *d;
            }
        }
        // The first answer won: cancel the other attempts (speculative executions) now, so
        // their pool slots are released at once (their stream ids wait for the late answers).
        ctx->cancel_all();
    }
    if (spec->diag) *spec->diag = ctx->diag;
    if (ctx->cancelled)  // (as Asio's own code, comparable with asio::error::operation_aborted)
        op->complete(error_code(asio::error::operation_aborted), result{});
    else
        op->complete(ctx->ec, std::move(ctx->res));
    request_done();
}

asio::awaitable<void> cluster_impl::run_attempt(std::shared_ptr<exec_ctx> ctx) {
    auto self = shared_from_this();
    auto& spec = *ctx->spec;
    ++ctx->running;
    host_ptr h = ctx->resume ? std::move(ctx->resume_host) : ctx->plan->next();
    ctx->resume = false;
    bool reprepared = false;
    while (h && !ctx->done) {
        if (closing_) {
            ctx->diag.message = "the cluster was closed";
            ctx->finish(session_errc::closed);
            break;
        }
        auto pool = pool_for(h);
        if (!pool || !h->is_up()) {
            ctx->note(h, errc::connection_defunct);
            h = ctx->plan->next();
            continue;
        }
        auto [aec, pc] = co_await pool->acquire(ctx->deadline);
        if (ctx->done) {
            if (pc) pool->release(*pc);
            break;
        }
        if (aec) {
            ctx->note(h, aec);
            h = ctx->plan->next();
            continue;
        }
        auto ks = spec.session_keyspace.empty() ? keyspace() : spec.session_keyspace;
        if (!ks.empty() && pc->keyspace != ks) {
            auto kec = co_await use_keyspace(*pc, ks);
            if (kec) {
                pool->release(*pc);
                if (kec.category() == server_category()) {  // e.g. the keyspace was dropped
                    ctx->diag.message = "USE " + ks + " failed: " + kec.message();
                    ctx->finish(kec);
                    break;
                }
                ctx->note(h, kec);
                h = ctx->plan->next();
                continue;
            }
        }
        error_code ec;
        response resp;
        if (ctx->answered) {
            // The fast path's answer (UNPREPARED), handled here as if it had just arrived.
            ctx->answered = false;
            ec = ctx->answer_ec;
            resp = std::move(ctx->answer);
        } else {
            auto sig = std::make_shared<asio::cancellation_signal>();
            auto conn = pc->conn;
            ctx->signals.emplace_back(conn->get_executor(), sig);
            auto start = clock::now();
            // (spec.frame lives in ctx and is not changed while attempts are in flight)
            auto [sec, sresp] = co_await conn->async_send_frame_view(
                spec.frame, asio::bind_cancellation_slot(sig->slot(), tuple_awaitable));
            std::erase_if(ctx->signals, [&](const auto& p) { return p.second == sig; });
            if (ctx->done) {
                pool->release(*pc);
                break;
            }
            ec = sec;
            resp = std::move(sresp);
            if (!ec || ec.category() == server_category())
                h->latency().record(clock::now() - start);
        }
        if (!ec) {
            result r;
            if (auto rec = result::from_response(std::move(resp), r)) {
                pool->release(*pc);
                ctx->diag.message = "malformed response: " + rec.message();
                ctx->finish(rec);
                break;
            }
            note_answer(spec, *pc, r);
            pool->release(*pc);
            if (r.type() == result::kind::schema_change) co_await settle_schema_change(r);
            ctx->finish({}, std::move(r));
            break;
        }
        diagnostics diag = resp.diag();
        if (ec == server_errc::unprepared && !reprepared &&
            (spec.prepared || !spec.batch_prepared.empty())) {
            reprepared = true;
            log(log_level::info, "UNPREPARED from " + h->endpoint().to_string() +
                                     ": re-preparing " + hex_id(diag.unprepared_id));
            std::error_code pec;
            if (spec.prepared) pec = co_await prepare_on(*pc, *spec.prepared, diag);
            for (const auto& bp : spec.batch_prepared)
                if (!pec) pec = co_await prepare_on(*pc, *bp, diag);
            pool->release(*pc);
            if (!pec) continue;  // again, on the same host
            ec = pec;
        } else {
            pool->release(*pc);
        }
        if (is_connection_error(ec)) pool->wake(false);
        const auto decision = judge_error(spec, ctx->retries, ec, diag);
        if (decision.action == retry_decision::type::retry_same_host) {
            ++ctx->retries;
            continue;
        }
        if (decision.action == retry_decision::type::retry_next_host) {
            ++ctx->retries;
            ctx->note(h, ec);
            h = ctx->plan->next();
            continue;
        }
        if (decision.action == retry_decision::type::ignore) {
            ctx->finish({});
            break;
        }
        ctx->diag = std::move(diag);
        if (ctx->diag.message.empty()) ctx->diag.message = ec.message();
        ctx->finish(ec);
        break;
    }
    --ctx->running;
    if (!ctx->done && ctx->running == 0) {
        ctx->diag.clear();
        if (!ctx->tried_any) {
            // Name the hosts, so the user sees which are down and which the policy left out
            // (e.g. every local node down and remote datacenters not allowed).
            std::string known;
            for (const auto& kh : hosts()) {
                if (!known.empty()) known += ", ";
                known += kh->endpoint().to_string();
                known += kh->is_up() ? " (up, " : " (down, ";
                known += kh->datacenter();
                known += ")";
            }
            ctx->diag.message =
                "no host in the query plan (all down or ignored by the load "
                "balancing policy); known hosts: ";
            ctx->diag.message += known.empty() ? std::string("none") : known;
            ctx->finish(session_errc::no_host_available);
        } else {
            ctx->diag.message = "every host failed: " + ctx->errors;
            ctx->finish(ctx->all_busy ? std::error_code(session_errc::busy)
                                      : std::error_code(session_errc::no_host_available));
        }
    }
}

asio::awaitable<std::error_code> cluster_impl::use_keyspace(pooled_connection& pc,
                                                            const std::string& ks) {
    auto conn = pc.conn;
    protocol::byte_buffer frame;
    statement st("USE " + quote_identifier(ks));
    if (auto ec = st.encode_query_frame(frame, conn->version())) co_return ec;
    auto [ec, resp] = co_await conn->async_send_frame(std::move(frame), tuple_awaitable);
    if (ec) co_return std::error_code(ec);
    pc.keyspace = ks;
    co_return std::error_code{};
}

asio::awaitable<std::error_code> cluster_impl::prepare_on(pooled_connection& pc,
                                                          const prepared_info& p,
                                                          diagnostics& diag) {
    auto conn = pc.conn;
    const bool v5 = conn->version() >= protocol::protocol_version::v5;
    if (!v5 && !p.keyspace.empty() && pc.keyspace != p.keyspace) {
        auto kec = co_await use_keyspace(pc, p.keyspace);
        if (kec) co_return kec;
    }
    protocol::prepare_request pr;
    pr.query = p.query;
    if (v5 && !p.keyspace.empty()) pr.keyspace = p.keyspace;
    auto [ec, resp] = co_await conn->async_request(pr, tuple_awaitable);
    if (ec) {
        diag = resp.diag();
        co_return std::error_code(ec);
    }
    co_return std::error_code{};
}

// ---- prepare ----

void cluster_impl::start_prepare(std::string query, std::unique_ptr<prepare_completion> op,
                                 asio::cancellation_slot slot, std::string session_ks,
                                 diagnostics* diag) {
    if (!connected_) {
        op->complete(session_errc::not_connected, prepared_statement{});
        return;
    }
    if (closing_) {
        op->complete(session_errc::closed, prepared_statement{});
        return;
    }
    auto holder = std::make_shared<prepare_op>();
    holder->op = std::move(op);
    holder->diag = diag;
    if (slot.is_connected()) {
        // Completes at once; the preparation goes on in the background (and is cached).
        slot.assign(
            [w = std::weak_ptr<prepare_op>(holder), st = strand_](asio::cancellation_type t) {
                if ((t & cancel_types) == asio::cancellation_type::none) return;
                asio::post(st, [w] {
                    if (auto h = w.lock())
                        h->complete(error_code(asio::error::operation_aborted), {});
                });
            });
    }
    asio::co_spawn(strand_, run_prepare(std::move(query), std::move(holder), std::move(session_ks)),
                   asio::detached);
}

asio::awaitable<void> cluster_impl::run_prepare(std::string query, std::shared_ptr<prepare_op> op,
                                                std::string session_ks) {
    auto self = shared_from_this();
    ++inflight_;
    auto ks = session_ks.empty() ? keyspace() : session_ks;
    std::string key = ks + '\0' + query;
    if (auto it = prepared_.find(key); it != prepared_.end()) {
        op->complete({}, prepared_statement(it->second));
        request_done();
        co_return;
    }
    auto info = std::make_shared<prepared_info>();
    info->query = query;
    info->keyspace = ks;
    const auto& prof = profiles_.default_profile();
    query_plan plan;
    routing_info ri;
    ri.keyspace = ks;
    ri.consistency = prof.consistency;
    prof.load_balancing->new_plan(ri, plan);
    auto deadline = clock::now() + (prof.request_timeout.count() > 0 ? prof.request_timeout
                                                                     : std::chrono::hours(1));
    std::error_code last = session_errc::no_host_available;
    host_ptr used;
    std::string errors;
    diagnostics failure;
    while (auto h = plan.next()) {
        if (closing_) {
            last = session_errc::closed;
            break;
        }
        auto pool = pool_for(h);
        if (!pool || !h->is_up()) continue;
        auto [aec, pc] = co_await pool->acquire(deadline);
        if (aec) {
            last = aec;
            continue;
        }
        const bool v5 = pc->conn->version() >= protocol::protocol_version::v5;
        if (!ks.empty() && !v5 && pc->keyspace != ks) {
            auto kec = co_await use_keyspace(*pc, ks);
            if (kec) {
                pool->release(*pc);
                last = kec;
                continue;
            }
        }
        protocol::prepare_request pr;
        pr.query = query;
        if (v5 && !ks.empty()) pr.keyspace = ks;
        auto [ec, resp] = co_await pc->conn->async_request(pr, tuple_awaitable);
        pool->release(*pc);
        if (ec) {
            last = ec;
            errors = h->endpoint().to_string() + ": " +
                     (resp.diag().message.empty() ? ec.message() : resp.diag().message);
            failure = resp.diag();
            if (ec.category() == server_category()) break;  // syntax, invalid, ...
            continue;
        }
        protocol::response msg;
        auto* pr_res = resp.decode(msg) ? nullptr : std::get_if<protocol::prepared_result>(&msg);
        if (!pr_res) {
            last = errc::unexpected_response;
            break;
        }
        info->id.assign(pr_res->id.begin(), pr_res->id.end());
        info->set_result_metadata_id(pr_res->result_metadata_id);
        auto copy_cols = [](const std::vector<protocol::column_spec>& in) {
            std::vector<prepared_column> out;
            for (const auto& c : in)
                out.push_back(
                    {std::string(c.keyspace), std::string(c.table), std::string(c.name), c.type});
            return out;
        };
        info->variables = copy_cols(pr_res->metadata.columns);
        info->pk_indexes = pr_res->metadata.pk_indexes;
        info->result_columns = copy_cols(pr_res->result.columns);
        if (pr_res->metadata.global_tables_spec)
            info->routing_keyspace = std::string(pr_res->metadata.global_spec.keyspace);
        else if (!info->variables.empty())
            info->routing_keyspace = info->variables.front().keyspace;
        {  // LWT / counter update: never idempotent (read by make_spec)
            const auto schema = metadata();
            const auto k =
                classify_prepared(query, info->variables, schema.get(),
                                  info->routing_keyspace.empty() ? ks : info->routing_keyspace);
            info->lwt = k.lwt;
            info->counter_update = k.counter;
        }
        used = h;
        last = {};
        break;
    }
    if (last) {
        log(log_level::warning, "prepare failed: " + (errors.empty() ? last.message() : errors));
        if (!failure.from_server) failure.message = errors.empty() ? last.message() : errors;
        op->complete(last, prepared_statement{}, &failure);
    } else {
        prepared_.emplace(key, info);
        co_await prepare_everywhere(info, used);
        op->complete({}, prepared_statement(info));
    }
    request_done();
}

asio::awaitable<void> cluster_impl::prepare_everywhere(std::shared_ptr<const prepared_info> p,
                                                       host_ptr except) {
    for (const auto& h : hosts()) {
        if (h == except || !h->is_up() || closing_) continue;
        auto pool = pool_for(h);
        if (!pool) continue;
        auto [aec, pc] = co_await pool->acquire(clock::now() + std::chrono::seconds(2));
        if (aec) continue;
        diagnostics diag;
        auto ec = co_await prepare_on(*pc, *p, diag);
        if (ec)
            log(log_level::debug, "prepare on " + h->endpoint().to_string() + ": " + ec.message());
        pool->release(*pc);
    }
}

asio::awaitable<void> cluster_impl::reprepare_on_host(host_ptr h) {
    auto self = shared_from_this();
    auto all = prepared_;
    for (const auto& [k, p] : all) {
        if (closing_) break;
        auto pool = pool_for(h);
        if (!pool) break;
        auto [aec, pc] = co_await pool->acquire(clock::now() + std::chrono::seconds(2));
        if (aec) break;
        diagnostics diag;
        auto ec = co_await prepare_on(*pc, *p, diag);
        pool->release(*pc);
        if (ec && is_connection_error(ec)) break;
    }
}

}  // namespace cql::detail
