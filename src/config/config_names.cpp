// Text names of the configuration's enums: the values the TOML file uses.
#include "config/config_names.h"

namespace agendasync::config {

const char* to_string(ExchangeBackend value) {
  switch (value) {
    case ExchangeBackend::kNone:
      return "none";
    case ExchangeBackend::kEws:
      return "ews";
    case ExchangeBackend::kGraph:
      return "graph";
    case ExchangeBackend::kHybrid:
      return "hybrid";
  }
  return "?";
}

const char* to_string(ExchangeVersion value) {
  switch (value) {
    case ExchangeVersion::k2013:
      return "2013";
    case ExchangeVersion::k2013Sp1:
      return "2013-sp1";
    case ExchangeVersion::k2016:
      return "2016";
    case ExchangeVersion::k2019:
      return "2019";
  }
  return "?";
}

const char* to_string(EwsAuth value) {
  switch (value) {
    case EwsAuth::kNtlm:
      return "ntlm";
    case EwsAuth::kBasic:
      return "basic";
    case EwsAuth::kOAuth:
      return "oauth";
  }
  return "?";
}

const char* to_string(EwsAccess value) {
  switch (value) {
    case EwsAccess::kImpersonation:
      return "impersonation";
    case EwsAccess::kDelegate:
      return "delegate";
  }
  return "?";
}

}  // namespace agendasync::config
