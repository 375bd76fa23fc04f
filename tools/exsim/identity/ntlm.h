#pragma once
/// NTLM (MS-NLMP) server side: builds the CHALLENGE_MESSAGE and verifies the NTLMv2 response
/// of an AUTHENTICATE_MESSAGE against a known password. NTLMv1 responses are refused.
#include <optional>
#include <string>
#include <string_view>

namespace exsim {

/// What an AUTHENTICATE_MESSAGE says about the client.
struct NtlmAuthenticate {
  std::string user;
  std::string domain;
  std::string nt_response;  // raw bytes
  std::string lm_response;
};

/// 1, 2 or 3 for a well-formed NTLM message, else 0.
int ntlm_message_type(std::string_view raw);
/// CHALLENGE_MESSAGE for `server_challenge` (8 bytes), advertising `domain` and `host`.
std::string ntlm_challenge_message(std::string_view server_challenge, std::string_view domain,
                                   std::string_view host);
/// Parses an AUTHENTICATE_MESSAGE.
std::optional<NtlmAuthenticate> ntlm_parse_authenticate(std::string_view raw);
/// True when the NTLMv2 response was computed with `password` for this challenge.
bool ntlm_v2_verify(const NtlmAuthenticate& msg, std::string_view password,
                    std::string_view server_challenge);
/// MD4 (RFC 1320), needed for the NT hash; OpenSSL 3 keeps it in the legacy provider only.
std::string md4(std::string_view data);

}  // namespace exsim
