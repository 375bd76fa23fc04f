// The JWT client assertion for certificate credentials (OpenSSL).
#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "connectors/graph/base64url.h"
#include "connectors/graph/token.h"

namespace agendasync::graph {
namespace {

constexpr const char* kUploadAdvice =
    "create a new certificate, upload its public part in Entra admin center > App "
    "registrations > (the app) > Certificates & secrets, and set [graph] certificate_file and "
    "[graph] private_key_file to the new pair";

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* value) const { Free(value); }
};
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;

BioPtr memory_bio(const std::string& text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

std::string asn1_time_text(const ASN1_TIME* time) {
  BioPtr out(BIO_new(BIO_s_mem()));
  ASN1_TIME_print(out.get(), time);
  char* data = nullptr;
  const long size = BIO_get_mem_data(out.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

}  // namespace

Result<std::string> client_assertion(const AppCredentials& app,
                                     std::chrono::system_clock::time_point now) {
  auto cert_bio = memory_bio(app.certificate_pem);
  X509Ptr cert(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
  if (!cert) {
    return fail(
        ErrorKind::kAuth,
        fmt::format("the Graph certificate is not a readable PEM certificate; {}", kUploadAdvice));
  }
  const std::time_t now_t = std::chrono::system_clock::to_time_t(now);
  if (X509_cmp_time(X509_get0_notAfter(cert.get()), const_cast<std::time_t*>(&now_t)) < 0) {
    return fail(ErrorKind::kAuth,
                fmt::format("the Graph certificate expired on {}; {}",
                            asn1_time_text(X509_get0_notAfter(cert.get())), kUploadAdvice),
                "certificate-expired");
  }
  auto key_bio = memory_bio(app.private_key_pem.reveal());
  KeyPtr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (!key || EVP_PKEY_base_id(key.get()) != EVP_PKEY_RSA) {
    return fail(ErrorKind::kAuth,
                "the Graph private key is not a readable unencrypted RSA key (PEM); export "
                "the key of the certificate registered for the app without a passphrase");
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    return fail(ErrorKind::kAuth,
                "the Graph private key does not belong to the Graph certificate; set the "
                "matching pair in [graph] certificate_file and [graph] private_key_file");
  }
  unsigned char der_hash[SHA_DIGEST_LENGTH];
  unsigned char* der = nullptr;
  const int der_size = i2d_X509(cert.get(), &der);
  if (der_size <= 0) return fail(ErrorKind::kAuth, "the Graph certificate cannot be encoded");
  SHA1(der, static_cast<std::size_t>(der_size), der_hash);
  OPENSSL_free(der);

  unsigned char jti_bytes[16];
  RAND_bytes(jti_bytes, sizeof jti_bytes);
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch());
  const nlohmann::json header = {
      {"alg", "RS256"},
      {"typ", "JWT"},
      {"x5t", base64url_encode(
                  std::string_view(reinterpret_cast<const char*>(der_hash), sizeof der_hash))}};
  const nlohmann::json claims = {
      {"aud", token_endpoint(app)},
      {"iss", app.client_id},
      {"sub", app.client_id},
      {"jti", base64url_encode(
                  std::string_view(reinterpret_cast<const char*>(jti_bytes), sizeof jti_bytes))},
      {"nbf", seconds.count()},
      {"iat", seconds.count()},
      {"exp", seconds.count() + 600}};
  const std::string signing_input =
      base64url_encode(header.dump()) + "." + base64url_encode(claims.dump());

  MdCtxPtr context(EVP_MD_CTX_new());
  std::size_t signature_size = 0;
  if (!context ||
      EVP_DigestSignInit(context.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
      EVP_DigestSign(context.get(), nullptr, &signature_size,
                     reinterpret_cast<const unsigned char*>(signing_input.data()),
                     signing_input.size()) != 1) {
    return fail(ErrorKind::kAuth, "signing the Graph client assertion failed (OpenSSL)");
  }
  std::string signature(signature_size, '\0');
  if (EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(signature.data()),
                     &signature_size, reinterpret_cast<const unsigned char*>(signing_input.data()),
                     signing_input.size()) != 1) {
    return fail(ErrorKind::kAuth, "signing the Graph client assertion failed (OpenSSL)");
  }
  signature.resize(signature_size);
  return signing_input + "." + base64url_encode(signature);
}

}  // namespace agendasync::graph
