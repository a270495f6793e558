#pragma once
// Certificates made at test time with the OpenSSL API (EC P-256 keys, PEM text): a CA and
// server certificates it signs, valid or expired, for the names a test chooses.

#include <chrono>
#include <memory>
#include <string>

namespace cql::hostile {

struct pem_credentials {
    std::string certificate;
    std::string private_key;
};

class certificate_authority {
  public:
    explicit certificate_authority(const std::string& common_name);
    ~certificate_authority();
    certificate_authority(const certificate_authority&) = delete;
    certificate_authority& operator=(const certificate_authority&) = delete;

    const std::string& certificate_pem() const noexcept { return pem_.certificate; }

    // A server certificate signed by this CA. subject_alt_names as OpenSSL writes them
    // ("IP:127.0.0.1,DNS:localhost"); valid from now + not_before to now + not_after.
    pem_credentials issue(const std::string& common_name, const std::string& subject_alt_names,
                          std::chrono::seconds not_before = std::chrono::hours(-1),
                          std::chrono::seconds not_after = std::chrono::hours(1)) const;

  private:
    struct impl;
    std::unique_ptr<impl> impl_;
    pem_credentials pem_;
};

}  // namespace cql::hostile
