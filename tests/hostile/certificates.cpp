#include "certificates.hpp"

#include <stdexcept>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace cql::hostile {

namespace {

void check(bool ok, const char* what) {
    if (!ok) throw std::runtime_error(std::string("OpenSSL: ") + what);
}

// What write(bio) writes to a memory BIO.
template <class Write>
std::string pem_text(Write write) {
    BIO* b = BIO_new(BIO_s_mem());
    write(b);
    char* data = nullptr;
    long n = BIO_get_mem_data(b, &data);
    std::string out(data, static_cast<std::size_t>(n));
    BIO_free(b);
    return out;
}

std::string pem_of(X509* x) {
    return pem_text([x](BIO* b) { PEM_write_bio_X509(b, x); });
}

std::string pem_of(EVP_PKEY* k) {
    return pem_text(
        [k](BIO* b) { PEM_write_bio_PrivateKey(b, k, nullptr, nullptr, 0, nullptr, nullptr); });
}

void add_extension(X509* x, X509* issuer, int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer, x, nullptr, nullptr, 0);
    X509_EXTENSION* e = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    check(e != nullptr, "extension");
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
}

// An unsigned certificate for `key` named `cn`, issued by `issuer` (itself when null).
X509* make_certificate(EVP_PKEY* key, const std::string& cn, X509* issuer, long serial,
                       std::chrono::seconds not_before, std::chrono::seconds not_after) {
    X509* x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    X509_gmtime_adj(X509_getm_notBefore(x), static_cast<long>(not_before.count()));
    X509_gmtime_adj(X509_getm_notAfter(x), static_cast<long>(not_after.count()));
    X509_set_pubkey(x, key);
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
    return x;
}

}  // namespace

struct certificate_authority::impl {
    EVP_PKEY* key = nullptr;
    X509* cert = nullptr;
    ~impl() {
        X509_free(cert);
        EVP_PKEY_free(key);
    }
};

certificate_authority::certificate_authority(const std::string& common_name)
    : impl_(std::make_unique<impl>()) {
    impl_->key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    check(impl_->key != nullptr, "key generation");
    impl_->cert = make_certificate(impl_->key, common_name, nullptr, 1, std::chrono::hours(-1),
                                   std::chrono::hours(24));
    add_extension(impl_->cert, impl_->cert, NID_basic_constraints, "critical,CA:TRUE");
    add_extension(impl_->cert, impl_->cert, NID_key_usage, "critical,keyCertSign,cRLSign");
    check(X509_sign(impl_->cert, impl_->key, EVP_sha256()) > 0, "signing the CA");
    pem_.certificate = pem_of(impl_->cert);
    pem_.private_key = pem_of(impl_->key);
}

certificate_authority::~certificate_authority() = default;

pem_credentials certificate_authority::issue(const std::string& common_name,
                                             const std::string& subject_alt_names,
                                             std::chrono::seconds not_before,
                                             std::chrono::seconds not_after) const {
    static long serial = 100;
    EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    check(key != nullptr, "key generation");
    X509* x = make_certificate(key, common_name, impl_->cert, ++serial, not_before, not_after);
    add_extension(x, impl_->cert, NID_basic_constraints, "critical,CA:FALSE");
    if (!subject_alt_names.empty())
        add_extension(x, impl_->cert, NID_subject_alt_name, subject_alt_names);
    check(X509_sign(x, impl_->key, EVP_sha256()) > 0, "signing");
    pem_credentials out{pem_of(x), pem_of(key)};
    X509_free(x);
    EVP_PKEY_free(key);
    return out;
}

}  // namespace cql::hostile
