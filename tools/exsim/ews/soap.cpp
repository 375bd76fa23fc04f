#include "exsim/ews/soap.h"

#include <sstream>

#include <fmt/format.h>

#include "exsim/ews/schema_check.h"
#include "exsim/store/xml_util.h"

namespace exsim {

std::variant<SoapRequest, SoapFault> parse_soap_request(std::string_view body) {
  // Exchange's XmlReader prohibits DTDs; refusing them up front also rules out XXE and
  // entity-expansion payloads whatever the parser would do with them.
  if (body.find("<!DOCTYPE") != std::string_view::npos ||
      body.find("<!ENTITY") != std::string_view::npos) {
    return SoapFault{"ErrorInvalidRequest",
                     "The request is invalid. For security reasons DTD is prohibited in this "
                     "XML document.",
                     {},
                     {},
                     500};
  }
  SoapRequest req;
  pugi::xml_parse_result ok = req.doc.load_buffer(
      body.data(), body.size(), pugi::parse_default & ~pugi::parse_doctype, pugi::encoding_utf8);
  if (!ok) {
    return SoapFault{
        "ErrorInvalidRequest",
        fmt::format("The request is invalid. The XML is not well-formed: {} at offset {}.",
                    ok.description(), ok.offset),
        {},
        {},
        500};
  }
  pugi::xml_node env = req.doc.document_element();
  if (local_name(env) != "Envelope" || namespace_uri(env) != kSoapNs) {
    return SoapFault{"ErrorInvalidRequest",
                     "The request is invalid. The root element must be a SOAP 1.1 Envelope.",
                     {},
                     {},
                     500};
  }
  req.header = child(env, "Header");
  pugi::xml_node soap_body = child(env, "Body");
  auto ops = element_children(soap_body);
  if (!soap_body || ops.size() != 1) {
    return SoapFault{"ErrorInvalidRequest",
                     "The request is invalid. The SOAP Body must hold exactly one operation.",
                     {},
                     {},
                     500};
  }
  req.operation = ops.front();
  if (namespace_uri(req.operation) != kMessagesNs) {
    SoapFault f{"ErrorSchemaValidation", "The request failed schema validation.", {}, {}, 500};
    f.violation.text = fmt::format(
        "The element 'Body' in namespace '{}' has invalid child element '{}' in namespace '{}'.",
        kSoapNs, local_name(req.operation), namespace_uri(req.operation));
    return f;
  }
  for (pugi::xml_node part : element_children(req.header)) {
    if (auto f = check_text_only_content(part, body)) return *f;
  }
  if (auto f = check_text_only_content(req.operation, body)) return *f;
  return req;
}

namespace {
void add_version_header(pugi::xml_node header, const ServerVersion& v) {
  pugi::xml_node svi = header.append_child("h:ServerVersionInfo");
  svi.append_attribute("MajorVersion") = v.major;
  svi.append_attribute("MinorVersion") = v.minor;
  svi.append_attribute("MajorBuildNumber") = v.major_build;
  svi.append_attribute("MinorBuildNumber") = v.minor_build;
  svi.append_attribute("Version") = std::string(v.version_attribute).c_str();
  svi.append_attribute("xmlns:h") = kTypesNs;
}

std::string serialise(const pugi::xml_document& doc) {
  std::ostringstream out;
  out << "<?xml version=\"1.0\" encoding=\"utf-8\"?>";
  doc.save(out, "", pugi::format_raw | pugi::format_no_declaration);
  return out.str();
}
}  // namespace

std::string fault_envelope(const SoapFault& fault, const ServerVersion* version) {
  pugi::xml_document doc;
  pugi::xml_node env = doc.append_child("s:Envelope");
  env.append_attribute("xmlns:s") = kSoapNs;
  if (version) add_version_header(env.append_child("s:Header"), *version);
  pugi::xml_node f = env.append_child("s:Body").append_child("s:Fault");
  pugi::xml_node code = f.append_child("faultcode");
  code.append_attribute("xmlns:a") = kTypesNs;
  code.text().set(("a:" + fault.code).c_str());
  pugi::xml_node fs = f.append_child("faultstring");
  fs.append_attribute("xml:lang") = "en-US";
  // Exchange's faultstring carries the violation ("... validation: The element ..."); the
  // detail's Message is the bare sentence.
  std::string faultstring = fault.message;
  if (!fault.violation.text.empty()) {
    if (faultstring.ends_with('.')) faultstring.pop_back();
    faultstring += ": " + fault.violation.text;
  }
  fs.text().set(faultstring.c_str());
  pugi::xml_node detail = f.append_child("detail");
  pugi::xml_node rc = add_text(detail, "e:ResponseCode", fault.code);
  rc.append_attribute("xmlns:e") = kErrorsNs;
  pugi::xml_node msg = add_text(detail, "e:Message", fault.message);
  msg.append_attribute("xmlns:e") = kErrorsNs;
  if (!fault.values.empty() || !fault.violation.text.empty()) {
    pugi::xml_node mx = detail.append_child("t:MessageXml");
    mx.append_attribute("xmlns:t") = kTypesNs;
    for (const auto& [name, value] : fault.values) {
      add_text(mx, "t:Value", value).append_attribute("Name") = name.c_str();
    }
    if (!fault.violation.text.empty()) {
      add_text(mx, "t:LineNumber", std::to_string(fault.violation.line));
      add_text(mx, "t:LinePosition", std::to_string(fault.violation.position));
      add_text(mx, "t:Violation", fault.violation.text);
    }
  }
  return serialise(doc);
}

SoapResponse::SoapResponse(const ServerVersion& version) {
  pugi::xml_node env = doc_.append_child("s:Envelope");
  env.append_attribute("xmlns:s") = kSoapNs;
  add_version_header(env.append_child("s:Header"), version);
  body_ = env.append_child("s:Body");
}

pugi::xml_node SoapResponse::begin(std::string_view operation) {
  pugi::xml_node r = body_.append_child(fmt::format("m:{}Response", operation).c_str());
  r.append_attribute("xmlns:m") = kMessagesNs;
  r.append_attribute("xmlns:t") = kTypesNs;
  return r.append_child("m:ResponseMessages");
}

std::string SoapResponse::str() const { return serialise(doc_); }

pugi::xml_node add_response_message(pugi::xml_node messages, std::string_view element,
                                    std::string_view code, std::string_view text) {
  pugi::xml_node m = messages.append_child(fmt::format("m:{}", element).c_str());
  bool ok = code.empty() || code == "NoError";
  m.append_attribute("ResponseClass") = ok ? "Success" : "Error";
  if (!ok) add_text(m, "m:MessageText", text);
  add_text(m, "m:ResponseCode", ok ? "NoError" : code);
  if (!ok) add_text(m, "m:DescriptiveLinkKey", "0");
  return m;
}

}  // namespace exsim
