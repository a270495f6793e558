// Binding a built query to its prepared statement, and mapped batches.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cql/mapping/errc.hpp"
#include "cql/mapping/mapper.hpp"

namespace cql::detail {

std::error_code bind_spec(const query_spec& spec, const prepared_statement& p, bound_statement& out,
                          std::string& why) {
    out = bound_statement(p.info());
    const auto& vars = p.variables();
    if (vars.size() != spec.values.size()) {
        why = "cql mapping: \"" + spec.cql + "\" has " + std::to_string(vars.size()) +
              " markers for " + std::to_string(spec.values.size()) + " values";
        return mapping_errc::invalid_query;
    }
    for (std::size_t j = 0; j < vars.size(); ++j)
        if (auto ec = spec.values[j].fn(spec.values[j].value.get(), vars[j], out, why)) return ec;
    spec.options.apply(out);
    return {};
}

void mapping_diagnostics(diagnostics* diag, std::string message) {
    if (!diag || message.empty()) return;
    diag->clear();
    diag->message = std::move(message);
}

namespace {

class batch_state : public std::enable_shared_from_this<batch_state> {
  public:
    batch_state(std::vector<query_spec> specs, batch settings, diagnostics* diag,
                op_ptr<error_code, batch_result> op)
        : specs_(std::move(specs)),
          settings_(std::move(settings)),
          diag_(diag ? diag : &own_diag_),
          op_(std::move(op)) {}

    void start() {
        if (specs_.empty())
            return fail(mapping_errc::invalid_query, "cql mapping: the batch is empty");
        for (const auto& s : specs_)
            if (s.ec) return fail(s.ec, s.error);
        prepared_.resize(specs_.size());
        prepare(0);
    }

  private:
    session& sess() const { return specs_.front().core->sess(); }

    void prepare(std::size_t i) {
        if (i == specs_.size()) return send();
        if (auto p = specs_[i].core->find(specs_[i].cql)) {
            prepared_[i] = *p;
            return prepare(i + 1);
        }
        sess().async_prepare(
            specs_[i].cql, [self = shared_from_this(), i](error_code ec, prepared_statement p) {
                if (ec)
                    return self->fail(
                        ec, "cql mapping: preparing \"" + self->specs_[i].cql + "\" failed");
                self->specs_[i].core->store(self->specs_[i].cql, p);
                self->prepared_[i] = std::move(p);
                self->prepare(i + 1);
            });
    }

    void send() {
        batch b = settings_;
        for (std::size_t i = 0; i < specs_.size(); ++i) {
            bound_statement bs;
            std::string why;
            if (auto ec = bind_spec(specs_[i], prepared_[i], bs, why)) return fail(ec, why);
            b.add(std::move(bs));
        }
        sess().async_batch(b, *diag_, [self = shared_from_this()](error_code ec, result r) {
            if (ec) return self->finish(ec, {});
            batch_result out;
            out.applied = applied(r);
            out.raw = std::move(r);
            self->finish({}, std::move(out));
        });
    }

    void fail(error_code ec, std::string why) {
        mapping_diagnostics(diag_, std::move(why));
        finish(ec, {});
    }
    void finish(error_code ec, batch_result r) {
        if (op_) complete(std::move(op_), ec, std::move(r));
    }

    std::vector<query_spec> specs_;
    batch settings_;
    diagnostics own_diag_;
    diagnostics* diag_;
    op_ptr<error_code, batch_result> op_;
    std::vector<prepared_statement> prepared_;
};

}  // namespace

void start_mapped_batch(std::vector<query_spec> specs, batch settings, diagnostics* diag,
                        op_ptr<error_code, batch_result> op) {
    std::make_shared<batch_state>(std::move(specs), std::move(settings), diag, std::move(op))
        ->start();
}

}  // namespace cql::detail
