#pragma once
/// TLS material: a generated CA and a server certificate for 127.0.0.1/localhost signed by it,
/// so that tests can trust the CA and still check the server's name.
#include <optional>
#include <string>

namespace exsim {

/// PEM texts.
struct TlsMaterial {
  std::string ca_cert;
  std::string server_cert;
  std::string server_key;
};

/// Generates a fresh CA and server certificate (RSA 2048, SHA-256, valid for 30 days).
std::optional<TlsMaterial> generate_tls_material(std::string& error);
/// The OpenSSL protocol version for "1.0".."1.3", or 0 when unknown.
int tls_version_from_text(const std::string& text);

}  // namespace exsim
