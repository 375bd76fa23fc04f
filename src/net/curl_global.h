#pragma once
/// libcurl's process-wide initialisation, done once before the first handle whatever thread
/// asks first.
namespace agendasync::net {

/// Calls curl_global_init once per process; later calls return at once.
void ensure_curl_initialised();

}  // namespace agendasync::net
