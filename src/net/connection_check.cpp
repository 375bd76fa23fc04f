#include "net/connection_check.h"

#include <curl/curl.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <ctime>
#include <memory>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "net/curl_global.h"
#include "net/server_address.h"
#include "net/tls_trust.h"
#include "net/transfer_errors.h"

namespace agendasync::net {
namespace {

struct EasyDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
using Easy = std::unique_ptr<CURL, EasyDeleter>;

CheckResult not_run(std::string name) {
  return {std::move(name), false, "not run", "fix the step above first"};
}

CheckResult check_dns(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  // Brackets of an IPv6 literal are URL syntax, not part of the address.
  std::string name = host;
  if (name.size() > 2 && name.front() == '[' && name.back() == ']') {
    name = name.substr(1, name.size() - 2);
  }
  const int status = getaddrinfo(name.c_str(), nullptr, &hints, &found);
  if (status != 0) {
    return {"DNS", false, "",
            fmt::format("cannot resolve '{}': {}. Check the host name and this machine's DNS "
                        "configuration",
                        name, gai_strerror(status))};
  }
  std::vector<std::string> addresses;
  for (addrinfo* entry = found; entry != nullptr; entry = entry->ai_next) {
    char text[NI_MAXHOST];
    if (getnameinfo(entry->ai_addr, entry->ai_addrlen, text, sizeof text, nullptr, 0,
                    NI_NUMERICHOST) == 0 &&
        std::find(addresses.begin(), addresses.end(), text) == addresses.end()) {
      addresses.emplace_back(text);
    }
  }
  freeaddrinfo(found);
  return {"DNS", true, fmt::format("{} -> {}", name, fmt::join(addresses, ", ")), ""};
}

/// A CONNECT_ONLY handle for `url`: connects (and for https handshakes), sends nothing.
Easy connect_only(const std::string& url, const ClientOptions& options, bool verify,
                  TlsVersionProbe* probe, char* error_buffer) {
  Easy curl(curl_easy_init());
  if (!curl) return curl;
  CURL* handle = curl.get();
  curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
  curl_easy_setopt(handle, CURLOPT_CONNECT_ONLY, 1L);
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options.connect_timeout.count()));
  curl_easy_setopt(handle, CURLOPT_PROXY, options.proxy.c_str());
  curl_easy_setopt(handle, CURLOPT_NOPROXY, "");
  if (!options.proxy.empty()) curl_easy_setopt(handle, CURLOPT_HTTPPROXYTUNNEL, 1L);
  const long ceiling = options.tls.allow_tls13 ? static_cast<long>(CURL_SSLVERSION_MAX_DEFAULT)
                                               : static_cast<long>(CURL_SSLVERSION_MAX_TLSv1_2);
  curl_easy_setopt(handle, CURLOPT_SSLVERSION,
                   static_cast<long>(CURL_SSLVERSION_TLSv1_2) | ceiling);
  curl_easy_setopt(handle, CURLOPT_SSL_VERIFYPEER, verify ? 1L : 0L);
  curl_easy_setopt(handle, CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L);
  curl_easy_setopt(handle, CURLOPT_CERTINFO, 1L);
  if (probe != nullptr) probe->install(handle);
  return curl;
}

struct CertificateFacts {
  std::string subject, issuer, expires;
  std::optional<long> days_left;
};

CertificateFacts certificate_facts(CURL* curl) {
  CertificateFacts facts;
  curl_certinfo* info = nullptr;
  if (curl_easy_getinfo(curl, CURLINFO_CERTINFO, &info) != CURLE_OK || info == nullptr ||
      info->num_of_certs < 1) {
    return facts;
  }
  for (curl_slist* field = info->certinfo[0]; field != nullptr; field = field->next) {
    const std::string_view line = field->data;
    const auto value = [&](std::string_view prefix) {
      return std::string(line.substr(prefix.size()));
    };
    if (line.starts_with("Subject:")) facts.subject = value("Subject:");
    if (line.starts_with("Issuer:")) facts.issuer = value("Issuer:");
    if (line.starts_with("Expire date:")) facts.expires = value("Expire date:");
  }
  if (!facts.expires.empty()) {
    const time_t when = curl_getdate(facts.expires.c_str(), nullptr);
    if (when > 0) facts.days_left = static_cast<long>((when - std::time(nullptr)) / 86'400);
  }
  return facts;
}

std::string describe(const CertificateFacts& facts) {
  std::string text = fmt::format("{}, issued by {}", facts.subject.empty() ? "?" : facts.subject,
                                 facts.issuer.empty() ? "?" : facts.issuer);
  if (!facts.expires.empty()) text += fmt::format(", valid until {}", facts.expires);
  return text;
}

}  // namespace

std::vector<CheckResult> check_connection(std::string_view url, const ClientOptions& options) {
  ensure_curl_initialised();
  std::vector<CheckResult> results;
  auto server = parse_server_address(url);
  if (!server) {
    results.push_back({"URL", false, "", server.error().message});
    return results;
  }
  const bool tls = server->scheme == "https";
  const auto finish_not_run = [&](std::vector<std::string> names) {
    for (auto& name : names) results.push_back(not_run(std::move(name)));
    return results;
  };

  std::string dns_host = server->host;
  if (!options.proxy.empty()) {
    auto proxy = parse_server_address(options.proxy);
    if (proxy) dns_host = proxy->host;
  }
  results.push_back(check_dns(dns_host));
  if (!options.proxy.empty()) results.back().detail += " (the proxy; it resolves the server)";
  if (!results.back().passed) return finish_not_run({"TCP", "TLS version", "TLS certificate"});

  TransferContext where;
  where.host_port = server->host_port();
  where.proxy = options.proxy.empty() ? "" : redact_url(options.proxy);
  where.connect_timeout = options.connect_timeout;
  where.timeout = options.connect_timeout;
  char error_buffer[CURL_ERROR_SIZE] = {};

  // TCP alone: the same host and port as plain http, so no TLS is involved yet.
  {
    const std::string tcp_url = fmt::format("http://{}/", server->host_port());
    Easy curl = connect_only(tcp_url, options, false, nullptr, error_buffer);
    const CURLcode code = curl ? curl_easy_perform(curl.get()) : CURLE_OUT_OF_MEMORY;
    if (code != CURLE_OK) {
      results.push_back({"TCP", false, "", transport_error(code, error_buffer, where).message});
      return finish_not_run({"TLS version", "TLS certificate"});
    }
    char* ip = nullptr;
    long port = 0;
    curl_easy_getinfo(curl.get(), CURLINFO_PRIMARY_IP, &ip);
    curl_easy_getinfo(curl.get(), CURLINFO_PRIMARY_PORT, &port);
    results.push_back({"TCP", true,
                       fmt::format("connected to {}:{}{}", ip != nullptr ? ip : "?", port,
                                   where.proxy.empty() ? "" : " (the proxy, tunnel open)"),
                       ""});
  }
  if (!tls) return results;

  std::shared_ptr<const ExtraCaBundle> extra_ca;
  std::optional<Error> ca_error;
  if (!options.tls.ca_bundle_path.empty()) {
    auto bundle = ExtraCaBundle::load(options.tls.ca_bundle_path);
    if (bundle) {
      extra_ca = *bundle;
    } else {
      ca_error = bundle.error();
    }
  }

  const std::string tls_url = fmt::format("https://{}/", server->host_port());
  error_buffer[0] = '\0';
  TlsVersionProbe probe{extra_ca.get(), {}};
  Easy verified = connect_only(tls_url, options, options.tls.verify, &probe, error_buffer);
  const CURLcode code = verified ? curl_easy_perform(verified.get()) : CURLE_OUT_OF_MEMORY;
  if (code == CURLE_OK) {
    results.push_back({"TLS version", true, probe.version, ""});
    const CertificateFacts facts = certificate_facts(verified.get());
    CheckResult certificate{"TLS certificate", true, describe(facts), ""};
    if (!options.tls.verify) {
      certificate.detail += "; NOT verified: verification is turned off in the [tls] settings";
    } else if (facts.days_left && *facts.days_left < 14) {
      certificate.detail += fmt::format("; expires in {} days: renew it", *facts.days_left);
    }
    results.push_back(std::move(certificate));
    return results;
  }
  const Error error = transport_error(code, error_buffer, where);
  if (code != CURLE_PEER_FAILED_VERIFICATION) {
    results.push_back({"TLS version", false, "", error.message});
    return finish_not_run({"TLS certificate"});
  }
  // The handshake works but the certificate is not trusted: shake hands once more without
  // verifying, only to show the admin which certificate the server presents.
  char unverified_buffer[CURL_ERROR_SIZE] = {};
  TlsVersionProbe unverified_probe;
  Easy unverified = connect_only(tls_url, options, false, &unverified_probe, unverified_buffer);
  std::string version, presented;
  if (unverified && curl_easy_perform(unverified.get()) == CURLE_OK) {
    version = unverified_probe.version;
    presented = describe(certificate_facts(unverified.get()));
  }
  results.push_back(
      {"TLS version", !version.empty(), version, version.empty() ? error.message : ""});
  std::string remedy = error.message;
  if (ca_error) remedy += "; also: " + ca_error->message;
  results.push_back({"TLS certificate", false,
                     presented.empty() ? "" : "the server presents " + presented, remedy});
  return results;
}

}  // namespace agendasync::net
