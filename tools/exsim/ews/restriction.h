#pragma once
/// Evaluates an EWS Restriction (IsEqualTo, Contains, Exists, And, Or, Not, ...) on an item.
/// Reference: learn.microsoft.com/exchange/client-developer/web-service-reference/restriction
#include <pugixml.hpp>

#include "exsim/store/calendar_fields.h"

namespace exsim {

/// True when `view` satisfies the search expression `expr` (a child of <Restriction>).
bool matches_restriction(const ItemView& view, pugi::xml_node expr);

}  // namespace exsim
