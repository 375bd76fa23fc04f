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
  static_cast<const ExtraCaBundle*>(self)->add_to_store(ssl_ctx);
  return CURLE_OK;
}

void ExtraCaBundle::add_to_store(void* ssl_ctx) const {
  X509_STORE* store = SSL_CTX_get_cert_store(static_cast<SSL_CTX*>(ssl_ctx));
  for (X509* certificate : certificates_) {
    // curl may hand us a cached store that already holds them: a duplicate is not an error.
    X509_STORE_add_cert(store, certificate);
  }
  ERR_clear_error();
}

namespace {

int version_slot() {
  static const int slot = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return slot;
}

void on_tls_event(const SSL* ssl, int where, int) {
  if ((where & SSL_CB_HANDSHAKE_DONE) == 0) return;
  auto* version =
      static_cast<std::string*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), version_slot()));
  if (version != nullptr) *version = SSL_get_version(ssl);
}

CURLcode probe_context(CURL*, void* ssl_ctx, void* self) {
  auto* probe = static_cast<TlsVersionProbe*>(self);
  if (probe->extra_ca != nullptr) probe->extra_ca->add_to_store(ssl_ctx);
  // curl makes a context per connection, so the context's slot belongs to this probe.
  auto* context = static_cast<SSL_CTX*>(ssl_ctx);
  SSL_CTX_set_ex_data(context, version_slot(), &probe->version);
  SSL_CTX_set_info_callback(context, &on_tls_event);
  return CURLE_OK;
}

}  // namespace

void TlsVersionProbe::install(CURL* curl) {
  curl_easy_setopt(curl, CURLOPT_SSL_CTX_FUNCTION, &probe_context);
  curl_easy_setopt(curl, CURLOPT_SSL_CTX_DATA, static_cast<void*>(this));
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
