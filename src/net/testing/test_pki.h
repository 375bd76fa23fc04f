#pragma once
/// Test-only certificates made at test time with OpenSSL: a CA, server certificates it signs,
/// and a self-signed one, written as PEM files into a fresh temporary directory.
#include <filesystem>
#include <string>

namespace agendasync::net::testing {

struct KeyPair {
  std::string certificate;  ///< PEM file path
  std::string key;          ///< PEM file path
};

class TestPki {
 public:
  /// Generates everything; throws std::runtime_error when OpenSSL fails (test set-up).
  TestPki();
  ~TestPki();
  TestPki(const TestPki&) = delete;
  TestPki& operator=(const TestPki&) = delete;

  const std::string& ca_certificate() const { return ca_.certificate; }
  /// Signed by the CA, valid for 127.0.0.1 and localhost.
  const KeyPair& server() const { return server_; }
  /// Signed by the CA, valid only for wrong.example (a host name mismatch on 127.0.0.1).
  const KeyPair& wrong_name() const { return wrong_name_; }
  /// Self-signed, valid for 127.0.0.1 and localhost.
  const KeyPair& self_signed() const { return self_signed_; }
  const std::filesystem::path& directory() const { return dir_; }

 private:
  std::filesystem::path dir_;
  KeyPair ca_, server_, wrong_name_, self_signed_;
};

}  // namespace agendasync::net::testing
