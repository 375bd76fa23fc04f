#pragma once
/// Turns a Transfer into a configured curl easy handle for one attempt: URL, method, body,
/// headers, TLS floor and trust, proxy, timeouts and authentication.
#include <curl/curl.h>

#include "core/error.h"
#include "net/http.h"
#include "net/tls_trust.h"
#include "net/transfer.h"

namespace agendasync::net {

/// Responses larger than this are cut off with an error rather than exhausting memory.
inline constexpr std::size_t kMaxResponseBytes = std::size_t{512} << 20;

/// Creates `transfer.easy` (and its header list) for the next attempt and resets
/// `transfer.response`. `reuse`, when given, is an idle handle (EasyPool) reset and used
/// instead of a new one. On failure nothing is left allocated (`reuse` included).
Result<void> prepare_attempt(Transfer& transfer, const ClientOptions& options, CURLSH* share,
                             const ExtraCaBundle* extra_ca, CURL* reuse = nullptr);

}  // namespace agendasync::net
