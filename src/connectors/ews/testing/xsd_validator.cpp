#include "connectors/ews/testing/xsd_validator.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlschemas.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace agendasync::ews::testing {

namespace {

void collect(void* context, const xmlError* error) {
  auto* out = static_cast<std::vector<std::string>*>(context);
  std::string message = error->message ? error->message : "schema error";
  while (!message.empty() && message.back() == '\n') message.pop_back();
  out->push_back(message);
}

void collect_generic(void* context, xmlErrorPtr error) { collect(context, error); }

}  // namespace

struct XsdValidator::State {
  xmlSchemaPtr schema = nullptr;
};

XsdValidator::XsdValidator(const std::string& dir) : state_(std::make_unique<State>()) {
  const std::string path = dir + "/ews-schema/ews-validate.xsd";
  read_file(path);  // throws with a clear message when the folder is missing
  xmlSchemaParserCtxtPtr parser = xmlSchemaNewParserCtxt(path.c_str());
  state_->schema = xmlSchemaParse(parser);
  xmlSchemaFreeParserCtxt(parser);
  if (state_->schema == nullptr) throw std::runtime_error("cannot compile " + path);
}

XsdValidator::~XsdValidator() {
  if (state_->schema != nullptr) xmlSchemaFree(state_->schema);
}

std::vector<std::string> XsdValidator::validate_envelope(std::string_view xml) const {
  std::vector<std::string> problems;
  xmlDocPtr doc = xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "request.xml", nullptr,
                                XML_PARSE_NONET | XML_PARSE_NOBLANKS);
  if (doc == nullptr) return {"not well-formed XML"};
  xmlNodePtr envelope = xmlDocGetRootElement(doc);
  int body_children = 0;
  for (xmlNodePtr part = envelope->children; part != nullptr; part = part->next) {
    if (part->type != XML_ELEMENT_NODE) continue;
    const std::string part_name = reinterpret_cast<const char*>(part->name);
    for (xmlNodePtr element = part->children; element != nullptr; element = element->next) {
      if (element->type != XML_ELEMENT_NODE) continue;
      if (part_name == "Body") ++body_children;
      std::vector<std::string> errors;
      xmlSchemaValidCtxtPtr context = xmlSchemaNewValidCtxt(state_->schema);
      xmlSchemaSetValidStructuredErrors(context, collect_generic, &errors);
      const int rc = xmlSchemaValidateOneElement(context, element);
      xmlSchemaFreeValidCtxt(context);
      if (rc != 0) {
        std::string message = part_name + "/" + reinterpret_cast<const char*>(element->name) + ":";
        for (const std::string& e : errors) message += " " + e + ";";
        problems.push_back(message);
      }
    }
  }
  if (body_children == 0) problems.push_back("soap:Body has no operation element");
  xmlFreeDoc(doc);
  return problems;
}

std::string conformance_dir() { return AGENDASYNC_CONFORMANCE_DIR; }

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("missing file " + path + " (is shared/conformance present?)");
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace agendasync::ews::testing
