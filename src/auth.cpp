#include "cql/auth.hpp"

#include <utility>

namespace cql {
namespace {

class plain_text_authenticator final : public authenticator {
  public:
    plain_text_authenticator(std::string_view user, std::string_view password)
        : user_(user), password_(password) {}

    std::error_code initial_response(protocol::byte_buffer& token) override {
        token.clear();
        token.push_back(0);
        token.insert(token.end(), user_.begin(), user_.end());
        token.push_back(0);
        token.insert(token.end(), password_.begin(), password_.end());
        return {};
    }
    std::error_code evaluate_challenge(protocol::bytes_view,
                                       protocol::byte_buffer& response) override {
        // PLAIN has a single step; answer a challenge with the credentials again.
        return initial_response(response);
    }

  private:
    std::string_view user_;
    std::string_view password_;
};

class plain_text_provider final : public auth_provider {
  public:
    plain_text_provider(std::string user, std::string password)
        : user_(std::move(user)), password_(std::move(password)) {}
    std::unique_ptr<authenticator> new_authenticator(std::string_view, std::string_view) override {
        // The provider is kept alive by the connection's config while it authenticates.
        return std::make_unique<plain_text_authenticator>(user_, password_);
    }

  private:
    std::string user_;
    std::string password_;
};

}  // namespace

std::shared_ptr<auth_provider> plain_text_auth(std::string username, std::string password) {
    return std::make_shared<plain_text_provider>(std::move(username), std::move(password));
}

}  // namespace cql
