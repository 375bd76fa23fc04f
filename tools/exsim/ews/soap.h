#pragma once
/// The SOAP 1.1 envelope as EWS uses it: parsing requests safely (no DTDs, no entities),
/// building responses with ServerVersionInfo, response messages and SOAP faults.
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <pugixml.hpp>

#include "exsim/ews/versions.h"

namespace exsim {

/// Where and how a request broke the schema (MessageXml of an ErrorSchemaValidation fault).
struct SchemaViolation {
  std::string text;  // empty: no violation to report
  size_t line = 1;
  size_t position = 1;
};

/// A SOAP fault as Exchange sends it (HTTP 500, faultcode a:<ResponseCode>).
struct SoapFault {
  std::string code;     // ErrorInvalidRequest, ErrorSchemaValidation, ErrorServerBusy, ...
  std::string message;  // faultstring and e:Message
  std::vector<std::pair<std::string, std::string>> values;  // MessageXml <t:Value Name=..>
  SchemaViolation violation;                                // ErrorSchemaValidation: what was wrong
  int http_status = 500;
};

/// A parsed request envelope.
struct SoapRequest {
  pugi::xml_document doc;
  pugi::xml_node header;     // may be empty
  pugi::xml_node operation;  // the single child of soap:Body
};

/// Parses a request body. DOCTYPE/ENTITY declarations are refused before parsing; markup inside
/// text-only elements is refused with ErrorSchemaValidation (schema_check.h).
std::variant<SoapRequest, SoapFault> parse_soap_request(std::string_view body);

/// Serialises a fault envelope.
std::string fault_envelope(const SoapFault& fault, const ServerVersion* version);

/// A response envelope under construction.
class SoapResponse {
 public:
  explicit SoapResponse(const ServerVersion& version);
  /// Adds m:<operation>Response and its m:ResponseMessages; returns ResponseMessages.
  pugi::xml_node begin(std::string_view operation);
  pugi::xml_node body() const { return body_; }
  std::string str() const;

 private:
  pugi::xml_document doc_;
  pugi::xml_node body_;
};

/// Adds a response message (e.g. m:GetItemResponseMessage) with its class and code.
/// `code` empty or "NoError" = Success.
pugi::xml_node add_response_message(pugi::xml_node messages, std::string_view element,
                                    std::string_view code = "NoError", std::string_view text = "");

}  // namespace exsim
