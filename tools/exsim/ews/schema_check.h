#pragma once
/// The part of Exchange's request schema validation that clients actually trip over: markup
/// inside an element whose type allows text only (an unescaped HTML body inside t:Body, a
/// nested element inside t:Subject ...). Exchange refuses such a request as a whole with an
/// ErrorSchemaValidation SOAP fault naming the element, its line and position; exsim does the
/// same, from a table generated from Microsoft's schema (text_only_elements.inc).
#include <optional>
#include <string_view>

#include <pugixml.hpp>

#include "exsim/ews/soap.h"

namespace exsim {

/// Checks every element under `root` (an operation or a SOAP header child). `body` is the
/// request text the document was parsed from (for the line and position of the violation).
std::optional<SoapFault> check_text_only_content(pugi::xml_node root, std::string_view body);

}  // namespace exsim
