#pragma once
/// Test-only: EWS answers for the shared fake HttpClient (net/testing/fake_http.h). The EWS
/// tests name the fake as `testing::FakeHttp` inside namespace ews, so it is brought in here.
#include <string>

#include "net/testing/fake_http.h"

namespace agendasync::ews::testing {

using net::testing::FakeHttp;

/// Wraps a SOAP body fragment (the operation response element, prefixes m: and t:) in an
/// envelope as Exchange 2016 sends it.
inline std::string soap_envelope(const std::string& body) {
  return R"(<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header><h:ServerVersionInfo MajorVersion="15" MinorVersion="1" MajorBuildNumber="2507" MinorBuildNumber="6" xmlns:h="http://schemas.microsoft.com/exchange/services/2006/types"/></s:Header><s:Body xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">)" +
         body + "</s:Body></s:Envelope>";
}

}  // namespace agendasync::ews::testing
