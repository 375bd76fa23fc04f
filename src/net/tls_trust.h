#pragma once
/// TLS trust and diagnostics on libcurl's OpenSSL backend: the extra CA bundle of the
/// [tls] ca_bundle setting (trusted on top of the system store, not instead of it) and the
/// negotiated protocol version for doctor.
#include <curl/curl.h>

#include <memory>
#include <string>
#include <vector>

#include "core/error.h"

#include <openssl/types.h>

namespace agendasync::net {

/// The certificates of a PEM bundle, read once and added to every TLS context curl makes.
class ExtraCaBundle {
 public:
  /// Reads every certificate in `path`. An unreadable file or one without a certificate is a
  /// kPermanent error naming the file and the [tls] ca_bundle setting.
  static Result<std::shared_ptr<const ExtraCaBundle>> load(const std::string& path);
  ~ExtraCaBundle();
  ExtraCaBundle(const ExtraCaBundle&) = delete;
  ExtraCaBundle& operator=(const ExtraCaBundle&) = delete;

  std::size_t size() const { return certificates_.size(); }
  /// Installs the bundle on `curl` (CURLOPT_SSL_CTX_FUNCTION); `this` must outlive the transfer.
  void install(CURL* curl) const;
  /// Adds the certificates to the trust store of an OpenSSL SSL_CTX (from a CTX hook).
  void add_to_store(void* ssl_ctx) const;

 private:
  ExtraCaBundle() = default;
  static CURLcode add_to_context(CURL* curl, void* ssl_ctx, void* self);
  std::vector<X509*> certificates_;
};

/// A TLS context hook for one handle: trusts `extra_ca` (may be null) and records the
/// negotiated version when the handshake completes — for CONNECT_ONLY handles, whose TLS
/// pointer is gone once curl_easy_perform returns.
struct TlsVersionProbe {
  const ExtraCaBundle* extra_ca = nullptr;
  std::string version;  ///< "TLSv1.3" after a handshake, else empty
  /// Installs the hook on `curl`; `this` must outlive the transfer.
  void install(CURL* curl);
};

/// The TLS version of the connection `curl` is using ("TLSv1.3"), or "" for plain HTTP.
/// Valid while a transfer runs (call it from a header or write callback).
std::string negotiated_tls_version(CURL* curl);

}  // namespace agendasync::net
