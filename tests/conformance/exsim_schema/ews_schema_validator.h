#pragma once
/// Validates EWS SOAP envelopes against Microsoft's schema (shared/conformance/ews-schema/
/// ews-validate.xsd) with libxml2: each child of soap:Header and soap:Body in an EWS namespace
/// is validated as its own document, with the namespaces in scope carried over.
#include <memory>
#include <string>
#include <vector>

namespace exsim_test {

class EwsSchemaValidator {
 public:
  /// Loads the schema; check ok() afterwards.
  explicit EwsSchemaValidator(const std::string& xsd_path);
  ~EwsSchemaValidator();
  bool ok() const { return schema_ != nullptr; }

  /// Problems found in `envelope` (empty = valid). `validated` counts the parts checked.
  std::vector<std::string> validate(const std::string& envelope, int& validated) const;

 private:
  void* schema_ = nullptr;  // xmlSchemaPtr
};

}  // namespace exsim_test
