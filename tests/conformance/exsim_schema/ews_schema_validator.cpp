#include "ews_schema_validator.h"

#include <cstring>
#include <mutex>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlschemas.h>

namespace exsim_test {
namespace {

constexpr const char* kSoapNs = "http://schemas.xmlsoap.org/soap/envelope/";

bool is_ews(const xmlNode* n) {
  if (!n->ns || !n->ns->href) return false;
  const char* href = reinterpret_cast<const char*>(n->ns->href);
  return std::strcmp(href, "http://schemas.microsoft.com/exchange/services/2006/types") == 0 ||
         std::strcmp(href, "http://schemas.microsoft.com/exchange/services/2006/messages") == 0;
}

void collect_errors(void* ctx, const char* fmt, ...) {
  auto* out = static_cast<std::string*>(ctx);
  char buf[1024];
  va_list args;
  va_start(args, fmt);
  vsnprintf(buf, sizeof buf, fmt, args);
  va_end(args);
  *out += buf;
}

}  // namespace

EwsSchemaValidator::EwsSchemaValidator(const std::string& xsd_path) {
  xmlSchemaParserCtxtPtr pctx = xmlSchemaNewParserCtxt(xsd_path.c_str());
  if (!pctx) return;
  schema_ = xmlSchemaParse(pctx);
  xmlSchemaFreeParserCtxt(pctx);
}

EwsSchemaValidator::~EwsSchemaValidator() {
  if (schema_) xmlSchemaFree(static_cast<xmlSchemaPtr>(schema_));
}

std::vector<std::string> EwsSchemaValidator::validate(const std::string& envelope,
                                                      int& validated) const {
  std::vector<std::string> problems;
  xmlDocPtr doc = xmlReadMemory(envelope.data(), static_cast<int>(envelope.size()), "response.xml",
                                nullptr, XML_PARSE_NONET | XML_PARSE_NOBLANKS);
  if (!doc) return {"not well-formed XML"};
  xmlNodePtr env = xmlDocGetRootElement(doc);
  for (xmlNodePtr part = env ? env->children : nullptr; part; part = part->next) {
    if (part->type != XML_ELEMENT_NODE || !part->ns ||
        std::strcmp(reinterpret_cast<const char*>(part->ns->href), kSoapNs) != 0) {
      continue;
    }
    for (xmlNodePtr c = part->children; c; c = c->next) {
      if (c->type != XML_ELEMENT_NODE || !is_ews(c)) continue;
      // Cut the part out as its own document; reconciling pulls in the namespaces in scope.
      xmlDocPtr one = xmlNewDoc(BAD_CAST "1.0");
      xmlNodePtr copy = xmlDocCopyNode(c, one, 1);
      xmlDocSetRootElement(one, copy);
      xmlReconciliateNs(one, copy);
      std::string errors;
      xmlSchemaValidCtxtPtr vctx = xmlSchemaNewValidCtxt(static_cast<xmlSchemaPtr>(schema_));
      xmlSchemaSetValidErrors(vctx, collect_errors, collect_errors, &errors);
      int rc = xmlSchemaValidateDoc(vctx, one);
      xmlSchemaFreeValidCtxt(vctx);
      xmlFreeDoc(one);
      ++validated;
      if (rc != 0) {
        problems.push_back(std::string(reinterpret_cast<const char*>(c->name)) + ": " + errors);
      }
    }
  }
  xmlFreeDoc(doc);
  return problems;
}

}  // namespace exsim_test
