#include "cql/execution_profile.hpp"

#include <algorithm>

namespace cql {

namespace {

execution_profile builtin_defaults() {
    execution_profile p;
    p.load_balancing = make_default_load_balancing();
    p.retry = std::make_shared<default_retry_policy>();
    p.speculative_execution = std::make_shared<no_speculative_execution_policy>();
    return p;
}

}  // namespace

void execution_profiles::fill_defaults(execution_profile& p, const execution_profile& from) {
    if (!p.load_balancing) p.load_balancing = from.load_balancing;
    if (!p.retry) p.retry = from.retry;
    if (!p.speculative_execution) p.speculative_execution = from.speculative_execution;
}

execution_profiles::execution_profiles() : default_(builtin_defaults()) {}

execution_profiles::execution_profiles(execution_profile default_profile) {
    set_default(std::move(default_profile));
}

void execution_profiles::set_default(execution_profile p) {
    if (!p.load_balancing) p.load_balancing = make_default_load_balancing();
    if (!p.retry) p.retry = std::make_shared<default_retry_policy>();
    if (!p.speculative_execution)
        p.speculative_execution = std::make_shared<no_speculative_execution_policy>();
    default_ = std::move(p);
}

void execution_profiles::add(std::string name, execution_profile p) {
    if (name.empty() || name == default_name) {
        set_default(std::move(p));
        return;
    }
    fill_defaults(p, default_);
    named_.insert_or_assign(std::move(name), std::move(p));
}

const execution_profile* execution_profiles::find(std::string_view name) const noexcept {
    if (name.empty() || name == default_name) return &default_;
    auto it = named_.find(name);
    return it == named_.end() ? nullptr : &it->second;
}

const execution_profile& execution_profiles::get(std::string_view name) const noexcept {
    const execution_profile* p = find(name);
    return p ? *p : default_;
}

std::vector<std::string> execution_profiles::names() const {
    std::vector<std::string> out;
    out.emplace_back(default_name);
    for (const auto& [name, p] : named_)
        out.push_back(name);
    return out;
}

std::vector<std::shared_ptr<load_balancing_policy>> execution_profiles::load_balancing_policies()
    const {
    std::vector<std::shared_ptr<load_balancing_policy>> out;
    auto add_one = [&](const std::shared_ptr<load_balancing_policy>& lb) {
        if (lb && std::find(out.begin(), out.end(), lb) == out.end()) out.push_back(lb);
    };
    add_one(default_.load_balancing);
    for (const auto& [name, p] : named_)
        add_one(p.load_balancing);
    return out;
}

}  // namespace cql
