#pragma once
/// \file
/// Execution profiles: named bundles of per-request settings and policies. A statement names
/// a profile (or none: the default one); its own settings, when set, win over the profile's.
///
/// \code
///   cql::execution_profiles profiles;                       // "default" with default policies
///   cql::execution_profile analytics = profiles.default_profile();
///   analytics.consistency = cql::protocol::consistency::one;
///   analytics.request_timeout = std::chrono::seconds(60);
///   profiles.add("analytics", analytics);
///   const cql::execution_profile& p = profiles.get("analytics");   // unknown: the default
/// \endcode
///
/// Configure profiles before the cluster starts: execution_profiles is not synchronized; the
/// policies in it are (they are shared by all requests).

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cql/policies/load_balancing.hpp"
#include "cql/policies/retry.hpp"
#include "cql/policies/speculative_execution.hpp"
#include "cql/protocol/version.hpp"

namespace cql {

/// Per-request defaults and policies for the statements that name this profile
/// (statement::execution_profile(), bound_statement::execution_profile(),
/// batch::execution_profile()). A statement's own setting wins over the profile's.
struct execution_profile {
    /// Consistency of reads and writes.
    protocol::consistency consistency = protocol::consistency::local_one;
    /// Consistency of the Paxos phase of conditional (LWT) statements: serial or local_serial.
    protocol::consistency serial_consistency = protocol::consistency::serial;
    std::chrono::milliseconds request_timeout{12000};  ///< zero: none
    std::int32_t page_size = 5000;                     ///< rows per page; <= 0: no paging
    bool default_idempotence = false;                  ///< for statements not marked either way
    /// Null policies are filled from the default profile by execution_profiles.
    /// Chooses and orders the hosts of each request; one policy object may serve several
    /// profiles (the cluster initialises each distinct one once).
    std::shared_ptr<load_balancing_policy> load_balancing{};
    /// Decides what to do after a server error or timeout (null: from the default profile).
    std::shared_ptr<retry_policy> retry{};
    /// When to send an idempotent request to another host while the first is still pending
    /// (null: from the default profile).
    std::shared_ptr<speculative_execution_policy> speculative_execution{};
};

/// The set of execution profiles of a cluster (cluster_config::profiles): the default one
/// plus named ones. Statements name a profile by string; an unknown name silently gets the
/// default profile (get()), so check names with find() when they come from configuration.
class execution_profiles {
  public:
    /// The name of the default profile ("" names it too).
    static constexpr std::string_view default_name = "default";

    /// The default profile: the values above, make_default_load_balancing(),
    /// default_retry_policy, no_speculative_execution_policy.
    execution_profiles();
    /// A given default profile; its null policies get the defaults above.
    explicit execution_profiles(execution_profile default_profile);

    /// The default profile, its policies filled in (a good start for a named profile).
    const execution_profile& default_profile() const noexcept { return default_; }
    /// Replaces the default profile (null policies: the defaults above). Profiles added
    /// before keep what they had.
    void set_default(execution_profile p);

    /// Adds or replaces a named profile; its null policies are taken from the default
    /// profile. The name "default" (or "") replaces the default profile.
    void add(std::string name, execution_profile p);

    /// nullptr when there is no such profile; "" and "default" name the default profile.
    const execution_profile* find(std::string_view name) const noexcept;
    /// The named profile, or the default one when there is no such profile.
    const execution_profile& get(std::string_view name) const noexcept;

    std::vector<std::string> names() const;  ///< "default" first
    /// Every distinct load balancing policy (the cluster sends each one init and host events).
    std::vector<std::shared_ptr<load_balancing_policy>> load_balancing_policies() const;

  private:
    static void fill_defaults(execution_profile& p, const execution_profile& from);

    execution_profile default_{};
    std::map<std::string, execution_profile, std::less<>> named_{};
};

}  // namespace cql
