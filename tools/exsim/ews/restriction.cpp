#include "exsim/ews/restriction.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <sstream>

#include "exsim/store/xml_util.h"

namespace exsim {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// The values of the path in the item: one, or several for Categories.
std::vector<std::string> values_of(const ItemView& v, pugi::xml_node path, bool& exists) {
  std::vector<std::string> out;
  exists = false;
  if (local_name(path) == "ExtendedFieldURI") {
    if (auto value = extended_value(v.item, extended_key(path))) {
      exists = true;
      out.push_back(*value);
    }
    return out;
  }
  std::string uri = path.attribute("FieldURI").as_string();
  const FieldSpec* f = field_by_uri(uri);
  if (!f) return out;
  std::string text = field_text(v, uri);
  if (f->element == "Categories") {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) out.push_back(line);
    exists = !out.empty();
    return out;
  }
  exists = !text.empty();
  out.push_back(text);
  return out;
}

// -1, 0, 1: times and numbers compare by value, everything else case-insensitively.
int compare(const std::string& a, const std::string& b) {
  auto ta = parse_date_time(a);
  auto tb = parse_date_time(b);
  if (ta && tb) {
    auto x = ta->utc(), y = tb->utc();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  double na = 0, nb = 0;
  auto [pa, ea] = std::from_chars(a.data(), a.data() + a.size(), na);
  auto [pb, eb] = std::from_chars(b.data(), b.data() + b.size(), nb);
  if (ea == std::errc() && eb == std::errc() && pa == a.data() + a.size() &&
      pb == b.data() + b.size() && !a.empty() && !b.empty()) {
    return na < nb ? -1 : (na > nb ? 1 : 0);
  }
  std::string la = lower(a), lb = lower(b);
  return la < lb ? -1 : (la > lb ? 1 : 0);
}

pugi::xml_node path_of(pugi::xml_node expr) {
  for (pugi::xml_node c : element_children(expr)) {
    std::string_view n = local_name(c);
    if (n == "FieldURI" || n == "ExtendedFieldURI" || n == "IndexedFieldURI") return c;
  }
  return {};
}

std::string constant_of(pugi::xml_node expr) {
  pugi::xml_node holder = child(expr, "FieldURIOrConstant");
  pugi::xml_node constant = child(holder ? holder : expr, "Constant");
  return constant.attribute("Value").as_string();
}

}  // namespace

bool matches_restriction(const ItemView& v, pugi::xml_node expr) {
  std::string_view op = local_name(expr);
  if (op == "And") {
    for (pugi::xml_node c : element_children(expr)) {
      if (!matches_restriction(v, c)) return false;
    }
    return true;
  }
  if (op == "Or") {
    for (pugi::xml_node c : element_children(expr)) {
      if (matches_restriction(v, c)) return true;
    }
    return false;
  }
  if (op == "Not") {
    auto c = element_children(expr);
    return !c.empty() && !matches_restriction(v, c.front());
  }
  bool exists = false;
  std::vector<std::string> values = values_of(v, path_of(expr), exists);
  if (op == "Exists") return exists;
  if (op == "Contains") {
    std::string needle = constant_of(expr);
    std::string mode = expr.attribute("ContainmentMode").as_string("Substring");
    bool ignore_case =
        std::string(expr.attribute("ContainmentComparison").as_string()).find("IgnoreCase") !=
        std::string::npos;
    for (std::string value : values) {
      std::string n = needle;
      if (ignore_case) {
        value = lower(value);
        n = lower(n);
      }
      if (mode == "FullString" && value == n) return true;
      if (mode == "Prefixed" && value.starts_with(n)) return true;
      if ((mode == "Substring" || mode == "PrefixOnWords" || mode == "ExactPhrase") &&
          value.find(n) != std::string::npos) {
        return true;
      }
    }
    return false;
  }
  std::string constant = constant_of(expr);
  if (op == "IsNotEqualTo") {
    if (!exists) return true;
    return std::none_of(values.begin(), values.end(),
                        [&](const std::string& x) { return compare(x, constant) == 0; });
  }
  if (!exists) return false;
  for (const std::string& x : values) {
    int c = compare(x, constant);
    if ((op == "IsEqualTo" && c == 0) || (op == "IsGreaterThan" && c > 0) ||
        (op == "IsGreaterThanOrEqualTo" && c >= 0) || (op == "IsLessThan" && c < 0) ||
        (op == "IsLessThanOrEqualTo" && c <= 0)) {
      return true;
    }
  }
  return false;
}

}  // namespace exsim
