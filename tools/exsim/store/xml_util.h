#pragma once
/// Small namespace-aware helpers over pugixml, which itself knows nothing of namespaces.
#include <string>
#include <string_view>
#include <vector>

#include <pugixml.hpp>

namespace exsim {

inline constexpr const char* kSoapNs = "http://schemas.xmlsoap.org/soap/envelope/";
inline constexpr const char* kTypesNs = "http://schemas.microsoft.com/exchange/services/2006/types";
inline constexpr const char* kMessagesNs =
    "http://schemas.microsoft.com/exchange/services/2006/messages";
inline constexpr const char* kErrorsNs =
    "http://schemas.microsoft.com/exchange/services/2006/errors";

/// The element name without its prefix.
std::string_view local_name(pugi::xml_node node);
/// The namespace URI the node's prefix is bound to (walks up the xmlns declarations).
std::string namespace_uri(pugi::xml_node node);
/// First child element with this local name, or an empty node.
pugi::xml_node child(pugi::xml_node parent, std::string_view local);
/// Every child element with this local name, in document order.
std::vector<pugi::xml_node> children(pugi::xml_node parent, std::string_view local);
/// Every child element, in document order.
std::vector<pugi::xml_node> element_children(pugi::xml_node parent);
/// Text of the first child with this local name ("" when absent).
std::string child_text(pugi::xml_node parent, std::string_view local);

/// Deep-copies `src` under `dst_parent`, renaming every element to "t:<local name>" and
/// dropping xmlns declarations, so stored properties no longer depend on the client's prefixes.
pugi::xml_node copy_as_types(pugi::xml_node src, pugi::xml_node dst_parent);

/// Appends <t:name>text</t:name>.
pugi::xml_node add_text(pugi::xml_node parent, const char* qualified_name, std::string_view text);

/// Serialises a node (or document) without indentation or XML declaration.
std::string to_string(pugi::xml_node node);

}  // namespace exsim
