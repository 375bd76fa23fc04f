#include "exsim/server/tls.h"

#include <memory>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace exsim {
namespace {

using PKey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using Cert = std::unique_ptr<X509, decltype(&X509_free)>;

// ECDSA P-256, not RSA: generating the CA's and the server's keys is most of exsim's start-up
// with RSA-2048 (about 0.1-0.5 s of CPU each, as the prime search goes), and the test suite
// starts exsim hundreds of times. Every client exsim serves (curl, Python's ssl, Node, .NET)
// negotiates ECDHE-ECDSA under TLS 1.2 and 1.3, and the key type is invisible to EWS and Graph.
PKey new_key() { return PKey(EVP_EC_gen("P-256"), EVP_PKEY_free); }

bool add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (!ext) return false;
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return true;
}

Cert make_cert(EVP_PKEY* key, const char* cn, X509* issuer, EVP_PKEY* issuer_key, long serial,
               bool ca) {
  Cert cert(X509_new(), X509_free);
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 30L * 24 * 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("exsim"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn),
                             -1, -1, 0);
  X509* iss = issuer ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(iss));
  if (ca) {
    add_ext(cert.get(), iss, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(cert.get(), iss, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_ext(cert.get(), iss, NID_basic_constraints, "CA:FALSE");
    add_ext(cert.get(), iss, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
    add_ext(cert.get(), iss, NID_ext_key_usage, "serverAuth");
  }
  add_ext(cert.get(), iss, NID_subject_key_identifier, "hash");
  if (!X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256()))
    return Cert(nullptr, X509_free);
  return cert;
}

std::string pem_cert(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(bio);
  return out;
}

std::string pem_key(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(bio);
  return out;
}

}  // namespace

std::optional<TlsMaterial> generate_tls_material(std::string& error) {
  PKey ca_key = new_key();
  PKey server_key = new_key();
  if (!ca_key || !server_key) {
    error = "could not generate RSA keys (OpenSSL)";
    return std::nullopt;
  }
  // A name of its own per CA: a client that trusts two exsims (one bundle with both CAs, as
  // a node serving two organisations does) finds each server's issuer by name, and two CAs
  // of one name made it try the wrong key ("invalid padding").
  unsigned char random[6] = {};
  RAND_bytes(random, sizeof random);
  std::string ca_name = "exsim test CA ";
  for (unsigned char byte : random) {
    static constexpr char kHex[] = "0123456789abcdef";
    ca_name += kHex[byte >> 4];
    ca_name += kHex[byte & 15];
  }
  Cert ca = make_cert(ca_key.get(), ca_name.c_str(), nullptr, nullptr, 1, true);
  if (!ca) {
    error = "could not sign the CA certificate (OpenSSL)";
    return std::nullopt;
  }
  Cert server = make_cert(server_key.get(), "localhost", ca.get(), ca_key.get(), 2, false);
  if (!server) {
    error = "could not sign the server certificate (OpenSSL)";
    return std::nullopt;
  }
  return TlsMaterial{pem_cert(ca.get()), pem_cert(server.get()), pem_key(server_key.get())};
}

int tls_version_from_text(const std::string& text) {
  if (text == "1.0") return TLS1_VERSION;
  if (text == "1.1") return TLS1_1_VERSION;
  if (text == "1.2") return TLS1_2_VERSION;
  if (text == "1.3") return TLS1_3_VERSION;
  return 0;
}

}  // namespace exsim
