#pragma once
/// Test-only: validates EWS envelopes against Microsoft's schema
/// (shared/conformance/ews-schema/ews-validate.xsd) with libxml2. The schema describes the
/// children of soap:Header and soap:Body, so each is validated as its own element.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace agendasync::ews::testing {

class XsdValidator {
 public:
  /// Loads `<conformance_dir>/ews-schema/ews-validate.xsd`; throws when it cannot.
  explicit XsdValidator(const std::string& conformance_dir);
  ~XsdValidator();
  XsdValidator(const XsdValidator&) = delete;
  XsdValidator& operator=(const XsdValidator&) = delete;

  /// Problems found in the envelope's Header and Body children; empty when valid. Also
  /// fails when the Body has no child at all.
  std::vector<std::string> validate_envelope(std::string_view xml) const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

/// The conformance folder from the build (AGENDASYNC_CONFORMANCE_DIR).
std::string conformance_dir();
/// Reads a whole file; throws when missing (a missing conformance folder must fail tests).
std::string read_file(const std::string& path);

}  // namespace agendasync::ews::testing
