#include "net/testing/test_pki.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>

namespace agendasync::net::testing {
namespace {

struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct CertFree {
  void operator()(X509* cert) const { X509_free(cert); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;
using CertPtr = std::unique_ptr<X509, CertFree>;

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("test PKI: ") + what);
}

KeyPtr make_key() {
  KeyPtr key(EVP_EC_gen("P-256"));
  check(key != nullptr, "EC key generation failed");
  return key;
}

void add_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  check(ext != nullptr, "bad extension");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

/// A certificate for `subject_key`; self-signed when `issuer` is null.
CertPtr make_certificate(EVP_PKEY* subject_key, const char* common_name, const char* alt_names,
                         bool is_ca, X509* issuer, EVP_PKEY* issuer_key, long serial) {
  CertPtr cert(X509_new());
  check(cert != nullptr, "X509_new failed");
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 90 * 24 * 3600);
  X509_set_pubkey(cert.get(), subject_key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("AgendaSync tests"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name), -1, -1, 0);
  X509* signer = issuer != nullptr ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  if (is_ca) {
    add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
    add_extension(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
    add_extension(cert.get(), signer, NID_subject_key_identifier, "hash");
  } else {
    add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
    add_extension(cert.get(), signer, NID_ext_key_usage, "serverAuth");
    add_extension(cert.get(), signer, NID_subject_alt_name, alt_names);
  }
  check(X509_sign(cert.get(), issuer_key != nullptr ? issuer_key : subject_key, EVP_sha256()) > 0,
        "signing failed");
  return cert;
}

KeyPair write(const std::filesystem::path& dir, const std::string& stem, X509* cert,
              EVP_PKEY* key) {
  KeyPair files{(dir / (stem + ".crt")).string(), (dir / (stem + ".key")).string()};
  FILE* out = std::fopen(files.certificate.c_str(), "w");
  check(out != nullptr && PEM_write_X509(out, cert) == 1, "cannot write certificate");
  std::fclose(out);
  out = std::fopen(files.key.c_str(), "w");
  check(
      out != nullptr && PEM_write_PrivateKey(out, key, nullptr, nullptr, 0, nullptr, nullptr) == 1,
      "cannot write key");
  std::fclose(out);
  return files;
}

}  // namespace

TestPki::TestPki() {
  std::string pattern = (std::filesystem::temp_directory_path() / "agendasync-pki-XXXXXX").string();
  check(mkdtemp(pattern.data()) != nullptr, "mkdtemp failed");
  dir_ = pattern;

  const KeyPtr ca_key = make_key();
  const CertPtr ca =
      make_certificate(ca_key.get(), "AgendaSync Test CA", nullptr, true, nullptr, nullptr, 1);
  ca_ = write(dir_, "ca", ca.get(), ca_key.get());

  const KeyPtr server_key = make_key();
  const CertPtr server =
      make_certificate(server_key.get(), "127.0.0.1", "IP:127.0.0.1,DNS:localhost", false, ca.get(),
                       ca_key.get(), 2);
  server_ = write(dir_, "server", server.get(), server_key.get());

  const KeyPtr wrong_key = make_key();
  const CertPtr wrong = make_certificate(wrong_key.get(), "wrong.example", "DNS:wrong.example",
                                         false, ca.get(), ca_key.get(), 3);
  wrong_name_ = write(dir_, "wrong-name", wrong.get(), wrong_key.get());

  const KeyPtr self_key = make_key();
  const CertPtr self = make_certificate(self_key.get(), "127.0.0.1", "IP:127.0.0.1,DNS:localhost",
                                        false, nullptr, nullptr, 4);
  self_signed_ = write(dir_, "self-signed", self.get(), self_key.get());
}

TestPki::~TestPki() {
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

}  // namespace agendasync::net::testing
