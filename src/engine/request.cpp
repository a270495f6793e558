// The request engine (see detail/engine.hpp).
#include <algorithm>

#include <boost/asio/error.hpp>

#include "cql/cluster.hpp"
#include "cql/protocol/requests.hpp"
#include "detail/engine.hpp"
#include "detail/result_columns.hpp"

namespace cql::detail {

namespace p = protocol;

namespace {

std::string hex_id(p::bytes_view id) {
    static const char* digits = "0123456789abcdef";
    std::string s;
    for (auto b : id) {
        s += digits[b >> 4];
        s += digits[b & 15];
    }
    return s;
}

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

diagnostics message_only(std::string m) {
    diagnostics d;
    d.message = std::move(m);
    return d;
}

}  // namespace

void request_spec::reset() {
    auto f = std::move(frame);
    auto key = std::move(routing_key);
    auto bp = std::move(batch_prepared);
    *this = request_spec{};
    f.clear();
    key.clear();
    bp.clear();
    frame = std::move(f);
    routing_key = std::move(key);
    batch_prepared = std::move(bp);
}

// One execution of the request on one host at a time (the first, a retry moves it to the
// next host; speculative executions are more attempts).
struct request::attempt final : stream_callback, pool_waiter {
    enum class state : std::uint8_t {
        idle,
        waiting,            // in a pool's queue
        using_keyspace,     // USE sent, then the request
        using_for_prepare,  // USE sent (v4), then PREPARE
        preparing,          // PREPARE sent (UNPREPARED), then the request again
        sent,               // the request sent
        over,
    };
    request* owner = nullptr;
    host_ptr host;
    channel_pool* pool = nullptr;  // null for a pinned channel
    channel* chan = nullptr;       // acquired (or pinned)
    std::int16_t stream = -1;
    state st = state::idle;
    bool reprepared = false;
    bool asked_for_columns = false;  // sent again without skip_metadata (stale columns)
    std::size_t prepare_index = 0;
    clock::time_point sent_at{};
    p::byte_buffer aux;  // a USE or PREPARE frame

    void reset() {
        host.reset();
        pool = nullptr;
        chan = nullptr;
        stream = -1;
        st = state::idle;
        reprepared = false;
        asked_for_columns = false;
        prepare_index = 0;
        aux.clear();
    }
    void on_answer(std::error_code ec, response&& r) override;
    void on_channel(channel* c, std::error_code ec) override;
};

struct request::entry_guard {
    request& r;
    explicit entry_guard(request& q) : r(q) { ++r.depth_; }
    ~entry_guard() {
        // (A request cancelled while its schema change settles is handed back only when the
        // settling ends: the control executor still holds it.)
        if (--r.depth_ == 0 && r.done_ && !r.settling_ && r.env_) {
            auto* env = std::exchange(r.env_, nullptr);
            env->done(r);  // (r may be reused or freed from here on)
        }
    }
};

request::request() = default;
request::~request() = default;

void request::reset() {
    spec.reset();
    op.reset();
    link.reset();
    env_ = nullptr;
    plan_.reset();
    plan_done_ = false;
    schedule_ = speculative_schedule{};
    deadline_ = next_speculative_ = clock::time_point::max();
    for (std::size_t i = 0; i < attempts_used_; ++i)
        attempts_[i]->reset();
    attempts_used_ = 0;
    running_ = 0;
    retries_ = 0;
    done_ = false;
    tried_any_ = false;
    all_busy_ = true;
    errors_.clear();
    last_server_error_.clear();
    held_ = result{};
    settling_ = false;
    depth_ = 0;
}

request::attempt& request::new_attempt() {
    if (attempts_used_ == attempts_.size()) {
        attempts_.push_back(std::make_unique<attempt>());
        attempts_.back()->owner = this;
    }
    auto& a = *attempts_[attempts_used_++];
    a.reset();
    ++running_;
    return a;
}

// ---- starting ------------------------------------------------------------------------

void request::start(request_env& env) {
    env_ = &env;
    entry_guard g(*this);
    started_ = env.now();
    if (spec.timeout.count() > 0) deadline_ = started_ + spec.timeout;
    if (env.closing()) {
        fail_now(session_errc::closed, "the cluster was closed");
        return;
    }
    auto& a = new_attempt();
    if (spec.pinned) {
        plan_done_ = true;
        a.chan = spec.pinned;
        arm_timer();
        send_main(a);
        return;
    }
    if (!spec.only_host) {
        routing_info info;
        info.keyspace = spec.keyspace;
        info.routing_key = spec.routing_key;
        info.consistency = spec.cl;
        spec.profile->load_balancing->new_plan(info, plan_);
        schedule_ = speculative_schedule(spec.profile->speculative_execution.get(), spec.idempotent,
                                         spec.keyspace);
        if (auto d = schedule_.next()) next_speculative_ = started_ + *d;
    }
    arm_timer();
    a.host = next_host();
    run(a);
}

host_ptr request::next_host() {
    if (plan_done_) return nullptr;
    if (spec.only_host) {
        plan_done_ = true;
        return spec.only_host;
    }
    auto h = plan_.next();
    if (!h) plan_done_ = true;
    return h;
}

void request::arm_timer() {
    const auto at = std::min(deadline_, next_speculative_);
    auto& t = env_->timers();
    if (at == clock::time_point::max()) {
        t.cancel(*this);
        return;
    }
    if (scheduled() && when() == at) return;
    t.schedule(*this, at);
    env_->timers_changed();
}

// Takes hosts from the plan until one has a channel for the attempt (now, or later from
// its pool's queue).
void request::run(attempt& a) {
    while (a.host && !done_) {
        if (env_->closing()) {
            fail_now(session_errc::closed, "the cluster was closed");
            return;
        }
        auto* pool = env_->pool_for(*a.host);
        if (!pool || !a.host->is_up()) {
            note(*a.host, errc::connection_defunct);
            a.host = next_host();
            continue;
        }
        if (auto* c = pool->try_acquire()) {
            use_channel(a, *pool, *c);
            return;
        }
        auto ec = pool->wait(a);
        if (!ec) {
            a.pool = pool;
            a.st = attempt::state::waiting;
            return;
        }
        note(*a.host, ec);
        a.host = next_host();
    }
    if (!done_) attempt_over(a);
}

void request::attempt::on_channel(channel* c, std::error_code ec) {
    auto& r = *owner;
    entry_guard g(r);
    if (r.done_ || st != state::waiting) {
        if (c && pool) pool->release(*c);
        return;
    }
    st = state::idle;
    if (ec) {
        r.note(*host, ec);
        host = r.next_host();
        r.run(*this);
        return;
    }
    auto* p = pool;
    // A request whose deadline passed while it waited is not sent (its timer may not have
    // run yet).
    if (r.deadline_ != clock::time_point::max() && r.env_->now() >= r.deadline_) {
        p->release(*c);
        r.on_timer(r.deadline_);
        return;
    }
    r.use_channel(*this, *p, *c);
}

void request::use_channel(attempt& a, channel_pool& pool, channel& c) {
    a.pool = &pool;
    a.chan = &c;
    const auto& ks = spec.use_keyspace;
    if (ks.empty() || c.keyspace == ks) {
        send_main(a);
        return;
    }
    a.aux.clear();
    statement use("USE " + quote_identifier(ks));
    if (auto ec = use.encode_query_frame(a.aux, c.version())) {
        release(a);
        fail_now(ec, "cannot encode USE " + ks);
        return;
    }
    a.st = attempt::state::using_keyspace;
    if (auto ec = c.send(&a, a.aux, a.stream)) not_sent(a, ec);
}

void request::send_main(attempt& a) {
    a.st = attempt::state::sent;
    // (Timed from here: not the pool wait, the USE or the re-preparation before it, nor an
    // earlier host's time.)
    if (spec.track_latency) a.sent_at = env_->now();
    if (auto ec = a.chan->send(&a, spec.frame, a.stream)) {
        // Nothing was sent: any host may take it, unless the request itself is refused.
        if (ec == errc::request_too_large) {
            release(a);
            a.st = attempt::state::over;
            fail_now(ec, "the request (" + std::to_string(spec.frame.size()) +
                             " bytes) is larger than cluster_config::max_frame_size");
            return;
        }
        not_sent(a, ec);
    }
}

void request::not_sent(attempt& a, std::error_code ec) {
    release(a);
    if (spec.pinned) {
        a.st = attempt::state::over;
        fail_now(ec, ec.message());
        return;
    }
    a.st = attempt::state::idle;
    note(*a.host, ec);
    a.host = next_host();
    run(a);
}

// ---- answers -------------------------------------------------------------------------

void request::attempt::on_answer(std::error_code ec, response&& r) {
    auto& q = *owner;
    entry_guard g(q);
    if (q.done_) return;
    stream = -1;
    q.on_attempt_answer(*this, ec, std::move(r));
}

void request::on_attempt_answer(attempt& a, std::error_code ec, response&& r) {
    switch (a.st) {
        case attempt::state::using_keyspace:
        case attempt::state::using_for_prepare: {
            const bool for_prepare = a.st == attempt::state::using_for_prepare;
            if (!ec) {
                if (for_prepare) {
                    a.chan->keyspace =
                        (spec.prepared ? spec.prepared : spec.batch_prepared.at(a.prepare_index))
                            ->keyspace;
                    send_prepare(a);
                } else {
                    a.chan->keyspace = spec.use_keyspace;
                    send_main(a);
                }
                return;
            }
            if (ec.category() == server_category()) {  // e.g. the keyspace was dropped
                release(a);
                auto d = r.diag();
                d.message = "USE " + spec.use_keyspace +
                            " failed: " + (d.message.empty() ? ec.message() : d.message);
                a.st = attempt::state::over;
                finish(ec, result{}, std::move(d));
                return;
            }
            // The connection failed before the request went out (or after an UNPREPARED):
            // another host may take it, whatever its idempotence.
            not_sent(a, ec);
            return;
        }
        case attempt::state::preparing:
            on_prepare_answer(a, ec, std::move(r));
            return;
        case attempt::state::sent:
            on_main_answer(a, ec, std::move(r));
            return;
        default:
            return;
    }
}

void request::on_main_answer(attempt& a, std::error_code ec, response&& r) {
    // The host's response time, for a policy that avoids slow hosts: answers and server
    // errors count, client errors not. (The connection read the clock for the answer.)
    if (spec.track_latency && a.host && (!ec || ec.category() == server_category())) {
        const auto at = a.chan->last_read();
        a.host->latency().record(at - a.sent_at, at);
    }
    if (!ec) {
        result res;
        if (auto rec = result::from_response(std::move(r), res)) {
            release(a);
            a.st = attempt::state::over;
            finish(rec, result{}, message_only("malformed response: " + rec.message()));
            return;
        }
        // What a successful answer changes: the prepared statement's result columns, the
        // keyspace of the connection (and of the cluster) after a USE.
        if (spec.prepared && res.type() == result::kind::rows && !read_columns(a, res)) return;
        if (res.type() == result::kind::set_keyspace) {
            a.chan->keyspace = std::string(res.keyspace());
            if (spec.session_keyspace.empty()) env_->keyspace_changed(a.chan->keyspace);
        }
        if (spec.answered_by) *spec.answered_by = a.host;
        release(a);
        a.st = attempt::state::over;
        if (res.type() == result::kind::schema_change && !spec.pinned) {
            held_ = std::move(res);
            settling_ = true;
            // The other attempts are abandoned, the deadline no longer applies: the schema
            // is settled (bounded by max_schema_agreement_wait) and the request completes.
            for (std::size_t i = 0; i < attempts_used_; ++i)
                if (attempts_[i].get() != &a && attempts_[i]->st != attempt::state::over) {
                    auto& o = *attempts_[i];
                    if (o.st == attempt::state::waiting)
                        o.pool->cancel_wait(o);
                    else if (o.chan && o.stream >= 0)
                        o.chan->abandon(o.stream);
                    release(o);
                    o.st = attempt::state::over;
                }
            env_->timers().cancel(*this);
            env_->settle_schema_change(*this, a.host);
            return;
        }
        finish({}, std::move(res), {});
        return;
    }
    diagnostics diag = r.diag();
    if (ec == server_errc::unprepared && !spec.pinned && !a.reprepared &&
        (spec.prepared || !spec.batch_prepared.empty())) {
        a.reprepared = true;
        env_->log(log_level::info, "UNPREPARED from " + a.host->endpoint().to_string() +
                                       ": re-preparing " + hex_id(diag.unprepared_id));
        a.prepare_index = 0;
        send_prepare(a);
        return;
    }
    on_failure(a, ec, std::move(diag));
}

bool request::read_columns(attempt& a, result& res) {
    const auto& m = res.metadata();
    if (m.new_metadata_id) {  // v5: the columns changed, the answer has the new ones
        prepared_access::replace(*spec.prepared, m, *m.new_metadata_id);
        return true;
    }
    if (!m.no_metadata || !spec.skipped_columns) return true;
    const auto* cols = spec.skipped_columns;
    if (cols->metadata.column_count == m.column_count && !a.asked_for_columns) {
        prepared_access::read_with(res, spec.prepared, *cols);
        return true;
    }
    // Rows that do not fit the columns skipped: the table changed and the server's statement
    // with it, unnoticed (v4). The same request again (a read), asking for the metadata.
    prepared_access::stop_skipping(*spec.prepared);
    const auto why = "rows of " + std::to_string(m.column_count) +
                     " columns for a statement prepared with " +
                     std::to_string(cols->metadata.column_count);
    if (!a.asked_for_columns && !spec.pinned &&
        !p::clear_execute_flag(spec.frame, p::query_flags::skip_metadata)) {
        a.asked_for_columns = true;
        env_->log(log_level::info, why + " (the table changed): executed again with its metadata");
        send_main(a);
        return false;
    }
    release(a);
    a.st = attempt::state::over;
    finish(errc::unexpected_response, result{},
           message_only("malformed response: " + why + ", without metadata"));
    return false;
}

void request::adopt_prepared(attempt& a, response& r) {
    p::response msg;
    if (r.decode(msg)) return;
    const auto* pr = std::get_if<p::prepared_result>(&msg);
    if (!pr) return;
    std::optional<p::bytes_view> id;
    if (a.chan->version() >= p::protocol_version::v5) id = pr->result_metadata_id;
    const auto* now = prepared_access::replace(*spec.prepared, pr->result, id);
    if (!spec.skipped_columns) return;
    spec.skipped_columns = now;
    if (!now) (void)p::clear_execute_flag(spec.frame, p::query_flags::skip_metadata);
}

void request::send_prepare(attempt& a) {
    const auto& info = spec.prepared ? *spec.prepared : *spec.batch_prepared.at(a.prepare_index);
    const bool v5 = a.chan->version() >= p::protocol_version::v5;
    a.aux.clear();
    std::error_code ec;
    if (!v5 && !info.keyspace.empty() && a.chan->keyspace != info.keyspace) {
        // v4 prepares in the connection's keyspace.
        statement use("USE " + quote_identifier(info.keyspace));
        ec = use.encode_query_frame(a.aux, a.chan->version());
        a.st = attempt::state::using_for_prepare;
    } else {
        p::prepare_request pr;
        pr.query = info.query;
        if (v5 && !info.keyspace.empty()) pr.keyspace = info.keyspace;
        ec = p::encode_request_frame(a.aux, a.chan->version(), 0, pr);
        a.st = attempt::state::preparing;
    }
    if (!ec) ec = a.chan->send(&a, a.aux, a.stream);
    if (ec) on_failure(a, ec, message_only("re-prepare failed: " + ec.message()));
}

void request::on_prepare_answer(attempt& a, std::error_code ec, response&& r) {
    if (ec && ec.category() != server_category()) {  // (the request was not applied)
        not_sent(a, ec);
        return;
    }
    if (ec) {
        on_failure(a, ec, r.diag());
        return;
    }
    if (!spec.prepared && a.prepare_index + 1 < spec.batch_prepared.size()) {
        ++a.prepare_index;
        send_prepare(a);
        return;
    }
    if (spec.prepared) adopt_prepared(a, r);
    // Prepared again: the request again, on the same connection (after a USE if the
    // preparation moved the connection to another keyspace).
    use_channel(a, *a.pool, *a.chan);
}

retry_decision request::judge(std::error_code ec, const diagnostics& diag) const {
    if (env_->closing() || spec.pinned) return retry_decision::rethrow();
    retry_request rr;
    rr.idempotent = spec.idempotent;
    rr.consistency = spec.cl;
    rr.retry_count = retries_;
    return decide_retry(*spec.profile->retry, rr, ec, diag);
}

void request::on_failure(attempt& a, std::error_code ec, diagnostics diag) {
    release(a);
    const auto decision = judge(ec, diag);
    if (decision.consistency && *decision.consistency != spec.cl &&
        (decision.action == retry_decision::type::retry_same_host ||
         decision.action == retry_decision::type::retry_next_host)) {
        // The retry goes at the consistency the policy chose (and later ones too).
        if (auto cec = p::set_request_consistency(spec.frame, *decision.consistency)) {
            a.st = attempt::state::over;
            finish(cec, result{}, message_only("cannot change the consistency: " + cec.message()));
            return;
        }
        spec.cl = *decision.consistency;
    }
    switch (decision.action) {
        case retry_decision::type::retry_same_host:
            ++retries_;
            a.st = attempt::state::idle;
            run(a);
            return;
        case retry_decision::type::retry_next_host:
            ++retries_;
            a.st = attempt::state::idle;
            note(*a.host, ec, &diag);
            a.host = next_host();
            run(a);
            return;
        case retry_decision::type::ignore:
            a.st = attempt::state::over;
            finish({}, result{}, {});
            return;
        default:
            break;
    }
    if (diag.message.empty()) diag.message = ec.message();
    a.st = attempt::state::over;
    finish(ec, result{}, std::move(diag));
}

void request::release(attempt& a) {
    if (a.chan && a.pool) a.pool->release(*a.chan);
    a.chan = nullptr;
    a.stream = -1;
}

void request::note(const host& h, std::error_code ec, const diagnostics* d) {
    tried_any_ = true;
    if (ec != session_errc::busy) all_busy_ = false;
    if (!errors_.empty()) errors_ += "; ";
    errors_ += h.endpoint().to_string() + ": " + ec.message();
    if (d && !d->message.empty() && d->message != ec.message()) errors_ += " (" + d->message + ")";
    if (d && d->from_server) last_server_error_ = *d;
}

void request::attempt_over(attempt& a) {
    a.st = attempt::state::over;
    --running_;
    if (done_ || running_ > 0) return;
    if (!tried_any_) {
        // Name the hosts, so the user sees which are down and which the policy left out
        // (e.g. every local node down and remote datacenters not allowed).
        std::string known;
        for (const auto& kh : env_->known_hosts()) {
            if (!known.empty()) known += ", ";
            known += kh->endpoint().to_string();
            known += kh->is_up() ? " (up, " : " (down, ";
            known += kh->datacenter();
            known += ")";
        }
        fail_now(session_errc::no_host_available,
                 "no host in the query plan (all down or ignored by the load balancing "
                 "policy); known hosts: " +
                     (known.empty() ? std::string("none") : known));
        return;
    }
    // The fields of the last server error stay (e.g. an UNAVAILABLE's consistency and
    // replica counts), the message lists every host's error.
    auto d = std::move(last_server_error_);
    d.message = "every host failed: " + errors_;
    finish(all_busy_ ? std::error_code(session_errc::busy)
                     : std::error_code(session_errc::no_host_available),
           result{}, std::move(d));
}

// ---- time ----------------------------------------------------------------------------

void request::on_timer(clock::time_point now) {
    entry_guard g(*this);
    if (done_ || settling_) return;
    if (now >= deadline_) {
        std::string m = "no response within " + std::to_string(spec.timeout.count()) + " ms";
        if (!errors_.empty()) m += " (" + errors_ + ")";
        fail_now(errc::timed_out, std::move(m));
        return;
    }
    if (now >= next_speculative_) {
        next_speculative_ = clock::time_point::max();
        if (auto h = next_host()) {
            env_->log(log_level::debug, "speculative execution on " + h->endpoint().to_string());
            auto& a = new_attempt();
            a.host = std::move(h);
            run(a);
            if (done_) return;
        }
        if (!plan_done_)
            if (auto d = schedule_.next()) next_speculative_ = now + *d;
    }
    arm_timer();
}

void request::cancel() {
    entry_guard g(*this);
    if (done_) return;
    fail_now(boost::system::error_code(boost::asio::error::operation_aborted),
             "the operation was cancelled");
}

// ---- completing ----------------------------------------------------------------------

void request::fail_now(std::error_code ec, std::string message) {
    finish(ec, result{}, message_only(std::move(message)));
}

void request::complete_schema_change(bool agreed) {
    entry_guard g(*this);
    settling_ = false;
    if (done_) return;  // cancelled meanwhile
    held_.set_schema_in_agreement(agreed);
    finish({}, std::move(held_), {});
}

void request::finish(std::error_code ec, result r, diagnostics diag) {
    if (done_) return;
    done_ = true;
    if (env_) env_->timers().cancel(*this);
    // The attempts still under way are abandoned: their pool slots free at once, their
    // stream ids wait for the late answers, nothing is sent again.
    for (std::size_t i = 0; i < attempts_used_; ++i) {
        auto& a = *attempts_[i];
        if (a.st == attempt::state::over || a.st == attempt::state::idle) continue;
        if (a.st == attempt::state::waiting) {
            a.pool->cancel_wait(a);
        } else if (a.chan && a.stream >= 0) {
            auto* c = a.chan;
            auto id = a.stream;
            release(a);
            c->abandon(id);
        }
        release(a);
        a.st = attempt::state::over;
    }
    if (ec && spec.diag) *spec.diag = std::move(diag);
    if (link) {
        link->target = nullptr;
        link.reset();
    }
    ++generation_;
    if (!op) return;
    if (ec == std::errc::operation_canceled)  // (as Asio's own operations report it)
        complete(std::move(op), error_code(boost::asio::error::operation_aborted), std::move(r));
    else
        complete(std::move(op), ec, std::move(r));
}

}  // namespace cql::detail
