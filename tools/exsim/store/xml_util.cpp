#include "exsim/store/xml_util.h"

#include <sstream>

namespace exsim {

std::string_view local_name(pugi::xml_node node) {
  std::string_view name = node.name();
  auto colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

std::string namespace_uri(pugi::xml_node node) {
  std::string_view name = node.name();
  auto colon = name.find(':');
  std::string attr = colon == std::string_view::npos
                         ? std::string("xmlns")
                         : "xmlns:" + std::string(name.substr(0, colon));
  for (pugi::xml_node n = node; n; n = n.parent()) {
    if (n.type() != pugi::node_element) continue;
    if (pugi::xml_attribute a = n.attribute(attr.c_str())) return a.value();
  }
  return {};
}

pugi::xml_node child(pugi::xml_node parent, std::string_view local) {
  for (pugi::xml_node c = parent.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_element && local_name(c) == local) return c;
  }
  return {};
}

std::vector<pugi::xml_node> children(pugi::xml_node parent, std::string_view local) {
  std::vector<pugi::xml_node> out;
  for (pugi::xml_node c = parent.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_element && local_name(c) == local) out.push_back(c);
  }
  return out;
}

std::vector<pugi::xml_node> element_children(pugi::xml_node parent) {
  std::vector<pugi::xml_node> out;
  for (pugi::xml_node c = parent.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_element) out.push_back(c);
  }
  return out;
}

std::string child_text(pugi::xml_node parent, std::string_view local) {
  return child(parent, local).text().as_string();
}

pugi::xml_node copy_as_types(pugi::xml_node src, pugi::xml_node dst_parent) {
  std::string name = "t:" + std::string(local_name(src));
  pugi::xml_node dst = dst_parent.append_child(name.c_str());
  for (pugi::xml_attribute a : src.attributes()) {
    std::string_view an = a.name();
    if (an == "xmlns" || an.starts_with("xmlns:")) continue;
    dst.append_attribute(a.name()) = a.value();
  }
  for (pugi::xml_node c = src.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_element) {
      copy_as_types(c, dst);
    } else if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) {
      dst.append_child(pugi::node_pcdata).set_value(c.value());
    }
  }
  return dst;
}

pugi::xml_node add_text(pugi::xml_node parent, const char* qualified_name, std::string_view text) {
  pugi::xml_node n = parent.append_child(qualified_name);
  n.text().set(std::string(text).c_str());
  return n;
}

std::string to_string(pugi::xml_node node) {
  std::ostringstream out;
  node.print(out, "", pugi::format_raw | pugi::format_no_declaration);
  return out.str();
}

}  // namespace exsim
