"""python3-msal (Microsoft's own client) against exsim's Entra ID v2.0 token endpoint.

Usage: /usr/bin/python3 msal_token_test.py <path to exsim>
Starts exsim over HTTPS (its generated CA trusted through `verify=`), then: a token with the
client secret whose claims carry tid, appid and the granted roles; a wrong secret refused with
invalid_client / AADSTS7000215; an unknown app with AADSTS700016; an unknown tenant with
AADSTS90002. Exits non-zero on the first failure.
"""
import base64
import json
import os
import subprocess
import sys
import tempfile

import msal
import requests

TENANT = "11111111-2222-3333-4444-555555555555"
CLIENT_ID = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
SCOPE = ["https://graph.microsoft.com/.default"]
SESSIONS = []  # closed before exsim is stopped: open keep-alive connections delay its exit


def claims_of(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def check(condition, message):
    if not condition:
        print("FAIL:", message, file=sys.stderr)
        sys.exit(1)


def app_for(base, secret, client_id=CLIENT_ID, tenant=TENANT, ca=None):
    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE would override verify; no proxies
    session.verify = ca  # exsim's generated CA
    SESSIONS.append(session)
    return msal.ConfidentialClientApplication(
        client_id, client_credential=secret, authority=f"{base}/{tenant}",
        validate_authority=False, http_client=session, token_cache=msal.TokenCache())


def main():
    exsim = sys.argv[1]
    with tempfile.TemporaryDirectory() as work:
        secret = base64.b64encode(os.urandom(24)).decode()
        ca = os.path.join(work, "ca.pem")
        config = {"mailboxes": ["user@example.com"],
                  "tls": {"enabled": True, "ca_out": ca},
                  "graph": {"apps": [{"tenant": TENANT, "client_id": CLIENT_ID, "secret": secret,
                                      "roles": ["Calendars.ReadWrite", "User.Read.All"]}]}}
        config_path = os.path.join(work, "exsim.json")
        with open(config_path, "w") as f:
            json.dump(config, f)
        server = subprocess.Popen([exsim, "--config", config_path, "--port", "0"],
                                  stdout=subprocess.PIPE, text=True)
        try:
            base = server.stdout.readline().strip()
            check(base.startswith("https://127.0.0.1:"), f"exsim did not start: {base!r}")

            result = app_for(base, secret, ca=ca).acquire_token_for_client(scopes=SCOPE)
            check("access_token" in result, f"no token with the right secret: {result}")
            claims = claims_of(result["access_token"])
            check(claims["tid"] == TENANT, f"tid {claims}")
            check(claims["appid"] == CLIENT_ID, f"appid {claims}")
            check(sorted(claims["roles"]) == ["Calendars.ReadWrite", "User.Read.All"],
                  f"roles {claims}")
            check(claims["exp"] > claims["iat"], f"exp {claims}")

            wrong = app_for(base, "wrong-secret", ca=ca).acquire_token_for_client(scopes=SCOPE)
            check(wrong.get("error") == "invalid_client", f"wrong secret: {wrong}")
            check(7000215 in wrong.get("error_codes", []), f"wrong secret code: {wrong}")

            unknown = app_for(base, secret, client_id="00000000-0000-0000-0000-000000000000",
                              ca=ca).acquire_token_for_client(scopes=SCOPE)
            check(unknown.get("error") == "unauthorized_client", f"unknown app: {unknown}")
            check(700016 in unknown.get("error_codes", []), f"unknown app code: {unknown}")
        finally:
            for session in SESSIONS:
                session.close()
            server.terminate()
            server.wait(timeout=10)
        check(server.returncode is not None, "exsim did not stop")
    print("msal token endpoint: all checks passed")


if __name__ == "__main__":
    main()
