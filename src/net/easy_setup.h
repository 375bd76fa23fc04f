#pragma once
/// Turns a Transfer into a configured curl easy handle for one attempt: URL, method, body,
/// headers, TLS floor and trust, proxy, timeouts and authentication.
#include <curl/curl.h>

#include "core/error.h"
#include "net/http.h"
#include "net/tls_trust.h"
#include "net/transfer.h"

namespace agendasync::net {

/// Creates `transfer.easy` (and its header lines) for the next attempt and resets
/// `transfer.response`. `reuse`, when given, is an idle handle (EasyPool) reset and used
/// instead of a new one. On failure nothing is left allocated (`reuse` included).
Result<void> prepare_attempt(Transfer& transfer, const ClientOptions& options, CURLSH* share,
                             const ExtraCaBundle* extra_ca, CURL* reuse = nullptr);

/// After an attempt's transfer: notes in Transfer::undecodable a compressed body that stopped
/// before its end (the HTTP framing was complete, the gzip or deflate data was not). Call
/// before end_attempt(), which lends the decoder back.
void note_unfinished_body(Transfer& transfer);

}  // namespace agendasync::net
