#include "net/tls_trust.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstdio>

#include <fmt/format.h>

namespace agendasync::net {

Result<std::shared_ptr<const ExtraCaBundle>> ExtraCaBundle::load(const std::string& path) {
  BIO* file = BIO_new_file(path.c_str(), "r");
  if (file == nullptr) {
    ERR_clear_error();
    return fail(ErrorKind::kPermanent,
                fmt::format("the CA bundle '{}' named by the [tls] ca_bundle setting cannot be "
                            "opened; point the setting at a readable PEM file",
                            path));
  }
  std::shared_ptr<ExtraCaBundle> bundle(new ExtraCaBundle());
  while (X509* certificate = PEM_read_bio_X509(file, nullptr, nullptr, nullptr)) {
    bundle->certificates_.push_back(certificate);
  }
  BIO_free(file);
  // The loop ends on the end of the file, which OpenSSL reports as an error; nothing to keep.
  ERR_clear_error();
  if (bundle->certificates_.empty()) {
    return fail(ErrorKind::kPermanent,
                fmt::format("the CA bundle '{}' named by the [tls] ca_bundle setting holds no "
                            "PEM certificate (-----BEGIN CERTIFICATE-----); export the CA "
                            "certificate in PEM (Base-64) format",
                            path));
  }
  return std::shared_ptr<const ExtraCaBundle>(std::move(bundle));
}

ExtraCaBundle::~ExtraCaBundle() {
  for (X509* certificate : certificates_) X509_free(certificate);
}

void ExtraCaBundle::install(CURL* curl) const {
  curl_easy_setopt(curl, CURLOPT_SSL_CTX_FUNCTION, &ExtraCaBundle::add_to_context);
  curl_easy_setopt(curl, CURLOPT_SSL_CTX_DATA, const_cast<ExtraCaBundle*>(this));
}

CURLcode ExtraCaBundle::add_to_context(CURL*, void* ssl_ctx, void* self) {
  const auto* bundle = static_cast<const ExtraCaBundle*>(self);
  X509_STORE* store = SSL_CTX_get_cert_store(static_cast<SSL_CTX*>(ssl_ctx));
  for (X509* certificate : bundle->certificates_) {
    // curl may hand us a cached store that already holds them: a duplicate is not an error.
    X509_STORE_add_cert(store, certificate);
  }
  ERR_clear_error();
  return CURLE_OK;
}

std::string negotiated_tls_version(CURL* curl) {
  const curl_tlssessioninfo* info = nullptr;
  if (curl_easy_getinfo(curl, CURLINFO_TLS_SSL_PTR, &info) != CURLE_OK || info == nullptr ||
      info->backend != CURLSSLBACKEND_OPENSSL || info->internals == nullptr) {
    return {};
  }
  return SSL_get_version(static_cast<const SSL*>(info->internals));
}

}  // namespace agendasync::net
