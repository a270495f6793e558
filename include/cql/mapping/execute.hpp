#pragma once
// Running a built query: prepare its text once per mapper (then from the cache), bind its
// values with the markers' types, execute it (every page when asked) and turn the result
// into what the caller wants. An Asio composed operation (async_compose) over the
// session's own operations, so tokens, executors and cancellation behave as theirs.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/async_result.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/post.hpp>

#include "cql/batch.hpp"
#include "cql/error.hpp"
#include "cql/mapping/errc.hpp"
#include "cql/mapping/query_spec.hpp"
#include "cql/session.hpp"

namespace cql::detail {

// Binds spec.values to a new statement of `p`; `why` explains a failure.
std::error_code bind_spec(const query_spec& spec, const prepared_statement& p, bound_statement& out,
                          std::string& why);
// Puts `message` into `diag` (when given) for an error of the mapping itself.
void mapping_diagnostics(diagnostics* diag, std::string message);

// Finish: std::error_code(result&, R&, std::string& why), called for each page.
template <class R, class Finish>
class run_query_op {
  public:
    run_query_op(query_spec spec, diagnostics* diag, bool all_pages, Finish finish)
        : spec_(std::make_unique<query_spec>(std::move(spec))),
          diag_(diag),
          all_pages_(all_pages),
          finish_(std::move(finish)) {}

    template <class Self>
    void operator()(Self& self) {
        if (state_ == state::failing) {  // posted by fail_soon()
            mapping_diagnostics(diag_, std::move(why_));
            return self.complete(ec_, R{});
        }
        if (spec_->ec) {
            ec_ = spec_->ec;
            why_ = spec_->error;
            return fail_soon(self);
        }
        if (auto p = spec_->core->find(spec_->cql)) {
            if ((ec_ = bind_spec(*spec_, *p, stmt_, why_))) return fail_soon(self);
            return execute(self);
        }
        state_ = state::preparing;
        spec_->core->sess().async_prepare(spec_->cql, std::move(self));
    }

    template <class Self>
    void operator()(Self& self, error_code ec, prepared_statement p) {
        if (ec) {
            mapping_diagnostics(diag_, "cql mapping: preparing \"" + spec_->cql + "\" failed");
            return self.complete(ec, R{});
        }
        spec_->core->store(spec_->cql, p);
        if (auto bec = bind_spec(*spec_, p, stmt_, why_)) {
            mapping_diagnostics(diag_, std::move(why_));
            return self.complete(bec, R{});
        }
        execute(self);
    }

    template <class Self>
    void operator()(Self& self, error_code ec, result r) {
        if (ec) return self.complete(ec, R{});
        std::string why;
        if (auto fe = finish_(r, acc_, why)) {
            mapping_diagnostics(diag_, std::move(why));
            return self.complete(fe, R{});
        }
        if (all_pages_ && r.has_more_pages()) {
            stmt_.paging_state(*r.paging_state());
            return execute(self);
        }
        self.complete(error_code{}, std::move(acc_));
    }

  private:
    enum class state { starting, preparing, executing, failing };

    // A failure found while initiating: completed from the executor, never inside the
    // initiating call.
    template <class Self>
    void fail_soon(Self& self) {
        state_ = state::failing;
        boost::asio::post(spec_->core->sess().get_executor(), std::move(self));
    }
    template <class Self>
    void execute(Self& self) {
        state_ = state::executing;
        if (diag_) return spec_->core->sess().async_execute(stmt_, *diag_, std::move(self));
        spec_->core->sess().async_execute(stmt_, std::move(self));
    }

    std::unique_ptr<query_spec> spec_;
    diagnostics* diag_;
    bool all_pages_;
    Finish finish_;
    state state_ = state::starting;
    bound_statement stmt_;
    R acc_{};
    error_code ec_;
    std::string why_;
};

template <class R, class Finish, class Token>
auto async_run_query(query_spec spec, diagnostics* diag, bool all_pages, Finish finish,
                     Token&& tok) {
    auto ex = spec.core->sess().get_executor();
    return boost::asio::async_compose<Token, void(error_code, R)>(
        run_query_op<R, Finish>(std::move(spec), diag, all_pages, std::move(finish)), tok, ex);
}

}  // namespace cql::detail
