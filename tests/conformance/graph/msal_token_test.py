"""python3-msal (Microsoft's own client) against exsim's Entra ID v2.0 token endpoint.

Usage: /usr/bin/python3 msal_token_test.py <path to exsim>
Starts exsim over HTTPS (its generated CA trusted through `verify=`), then: a token with the
client secret whose claims carry tid, appid and the granted roles; a wrong secret refused with
invalid_client / AADSTS7000215; an unknown app with AADSTS700016; an unknown tenant with
AADSTS90002; a token with a certificate (MSAL's own client assertion, x5t) that Graph accepts;
an expired certificate refused with AADSTS700027; Graph answering 403 ErrorAccessDenied for an
app without Calendars roles. Exits non-zero on the first failure.
"""
import base64
import json
import os
import subprocess
import sys
import tempfile
import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

import msal
import requests

TENANT = "11111111-2222-3333-4444-555555555555"
CLIENT_ID = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
CERT_CLIENT_ID = "cccccccc-bbbb-cccc-dddd-eeeeeeeeeeee"
EXPIRED_CLIENT_ID = "dddddddd-bbbb-cccc-dddd-eeeeeeeeeeee"
NO_ROLE_CLIENT_ID = "eeeeeeee-bbbb-cccc-dddd-eeeeeeeeeeee"
SCOPE = ["https://graph.microsoft.com/.default"]
SESSIONS = []  # closed before exsim is stopped: open keep-alive connections delay its exit


def claims_of(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def check(condition, message):
    if not condition:
        print("FAIL:", message, file=sys.stderr)
        sys.exit(1)


def certificate(days_from, days_to):
    """A key and a self-signed certificate valid between the given days from now."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "agendasync-conformance")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now + datetime.timedelta(days=days_from))
            .not_valid_after(now + datetime.timedelta(days=days_to))
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    return key_pem, cert_pem, cert.fingerprint(hashes.SHA1()).hex()


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
        key_pem, cert_pem, thumb = certificate(-1, 365)
        old_key_pem, old_cert_pem, old_thumb = certificate(-30, -1)
        cert_path = os.path.join(work, "cert.pem")
        with open(cert_path, "w") as f:
            f.write(cert_pem)
        config = {"mailboxes": ["user@example.com"],
                  "tls": {"enabled": True, "ca_out": ca},
                  "graph": {"apps": [{"tenant": TENANT, "client_id": CLIENT_ID, "secret": secret,
                                      "roles": ["Calendars.ReadWrite", "User.Read.All"]},
                                     {"tenant": TENANT, "client_id": CERT_CLIENT_ID,
                                      "certificates": [cert_path],
                                      "roles": ["Calendars.ReadWrite"]},
                                     {"tenant": TENANT, "client_id": EXPIRED_CLIENT_ID,
                                      "certificates": [old_cert_pem],
                                      "roles": ["Calendars.ReadWrite"]},
                                     {"tenant": TENANT, "client_id": NO_ROLE_CLIENT_ID,
                                      "secret": secret, "roles": ["User.Read.All"]}]}}
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

            by_cert = app_for(base, {"private_key": key_pem, "thumbprint": thumb},
                              client_id=CERT_CLIENT_ID, ca=ca).acquire_token_for_client(scopes=SCOPE)
            check("access_token" in by_cert, f"no token with the certificate: {by_cert}")
            check(claims_of(by_cert["access_token"])["appid"] == CERT_CLIENT_ID, "cert appid")
            graph = requests.Session()
            graph.trust_env = False
            graph.verify = ca
            SESSIONS.append(graph)
            events = graph.get(f"{base}/v1.0/users/user@example.com/events",
                               headers={"Authorization": "Bearer " + by_cert["access_token"]})
            check(events.status_code == 200, f"Graph with the certificate's token: {events.text}")

            expired = app_for(base, {"private_key": old_key_pem, "thumbprint": old_thumb},
                              client_id=EXPIRED_CLIENT_ID, ca=ca).acquire_token_for_client(
                                  scopes=SCOPE)
            check(expired.get("error") == "invalid_client", f"expired certificate: {expired}")
            check(700027 in expired.get("error_codes", []), f"expired cert code: {expired}")

            no_role = app_for(base, secret, client_id=NO_ROLE_CLIENT_ID,
                              ca=ca).acquire_token_for_client(scopes=SCOPE)
            check("access_token" in no_role, f"no token for the app without roles: {no_role}")
            denied = graph.get(f"{base}/v1.0/users/user@example.com/events",
                               headers={"Authorization": "Bearer " + no_role["access_token"]})
            check(denied.status_code == 403, f"missing role: {denied.status_code} {denied.text}")
            check(denied.json()["error"]["code"] == "ErrorAccessDenied", f"403 body {denied.text}")
        finally:
            for session in SESSIONS:
                session.close()
            server.terminate()
            server.wait(timeout=10)
        check(server.returncode is not None, "exsim did not stop")
    print("msal token endpoint: all checks passed")


if __name__ == "__main__":
    main()
