#pragma once
/// Test-only: a fresh RSA key and self-signed certificate (PEM), valid or already expired.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <string>

namespace agendasync::graph::testing {

struct TestCertificate {
  std::string certificate_pem;
  std::string private_key_pem;
};

inline std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  std::string text(data, static_cast<std::size_t>(size));
  BIO_free(bio);
  return text;
}

/// `valid_from_days`/`valid_to_days` are relative to now (negative = in the past).
inline TestCertificate make_certificate(long valid_from_days, long valid_to_days) {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  X509* cert = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), valid_from_days * 86400);
  X509_gmtime_adj(X509_getm_notAfter(cert), valid_to_days * 86400);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("agendasync-test"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509_sign(cert, key, EVP_sha256());
  BIO* cert_bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(cert_bio, cert);
  BIO* key_bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(key_bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  TestCertificate out{bio_text(cert_bio), bio_text(key_bio)};
  X509_free(cert);
  EVP_PKEY_free(key);
  return out;
}

}  // namespace agendasync::graph::testing
