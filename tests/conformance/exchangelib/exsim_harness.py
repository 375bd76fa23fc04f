"""Starts exsim for one conformance case and hands out exchangelib accounts.

Every case runs against a fresh exsim on a free 127.0.0.1 port (TLS with a CA generated for
the run, trusted through REQUESTS_CA_BUNDLE), records its traffic with --trace-dir for the
schema check, and stops it at exit. Usage in a case:  with Exsim(args) as ex: ...
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
import ssl

ALICE = "alice@example.com"
BOB = "bob@example.com"
SVC = "svc@example.com"
NOIMP = "noimp@example.com"
PASSWORD = "Passw0rd!"
ADMIN_TOKEN = "exsim-admin-token"


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--exsim", required=True, help="path of the exsim binary")
    p.add_argument("--trace-dir", required=True, help="where exsim records the exchanges")
    return p.parse_args()


class Exsim:
    def __init__(self, tls=True, version="Exchange2016", extra=(), trace_subdir=None):
        self.args = parse_args()
        self.trace_dir = self.args.trace_dir
        if trace_subdir:  # several servers in one case file keep separate traces
            self.trace_dir = os.path.join(self.trace_dir, trace_subdir)
        self.tls = tls
        self.version = version
        self.extra = list(extra)

    def __enter__(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.ca = os.path.join(self.tmp.name, "ca.pem")
        config = {
            "version": self.version,
            "mailboxes": [{"address": ALICE, "name": "Alice"}, {"address": BOB, "name": "Bob"}],
            "accounts": [
                {"user": ALICE, "password": PASSWORD},
                {"user": BOB, "password": PASSWORD},
                {"user": SVC, "password": PASSWORD, "impersonation": True},
                {"user": NOIMP, "password": PASSWORD},
            ],
            "admin_token": ADMIN_TOKEN,
            "trace_dir": self.trace_dir,
            "streaming_keepalive_seconds": 1,
        }
        if self.tls:
            config["tls"] = {"enabled": True, "min_version": "1.2", "ca_out": self.ca}
        path = os.path.join(self.tmp.name, "exsim.json")
        with open(path, "w") as f:
            json.dump(config, f)
        # Start from an empty trace folder: the schema check reads everything in it.
        shutil.rmtree(self.trace_dir, ignore_errors=True)
        os.makedirs(self.trace_dir, exist_ok=True)
        self.proc = subprocess.Popen([self.args.exsim, "--config", path, "--port", "0"] + self.extra,
                                     stdout=subprocess.PIPE, text=True)
        self.url = self.proc.stdout.readline().strip()
        if not self.url.startswith("http"):
            self.proc.kill()
            raise SystemExit("exsim did not print its base URL; is the binary built?")
        if self.tls:
            os.environ["REQUESTS_CA_BUNDLE"] = self.ca
        self.ews_url = self.url + "/EWS/Exchange.asmx"
        return self

    def __exit__(self, *exc):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.tmp.cleanup()
        return False

    def account(self, address=ALICE, user=None, password=PASSWORD, auth="basic",
                impersonate=False):
        from exchangelib import Account, Configuration, Credentials, DELEGATE, IMPERSONATION
        from exchangelib.protocol import BaseProtocol
        BaseProtocol.SESSION_POOLSIZE = 1
        cfg = Configuration(service_endpoint=self.ews_url,
                            credentials=Credentials(user or address, password), auth_type=auth,
                            max_connections=1)
        return Account(address, config=cfg, autodiscover=False,
                       access_type=IMPERSONATION if impersonate else DELEGATE)

    def admin(self, path, body=None):
        req = urllib.request.Request(self.url + "/exsim/admin/" + path,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"X-Exsim-Admin-Token": ADMIN_TOKEN,
                                              "Content-Type": "application/json"},
                                     method="GET" if body is None else "POST")
        ctx = ssl.create_default_context(cafile=self.ca) if self.tls else None
        with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
            return json.loads(r.read())

    def post_raw(self, body, user=ALICE, password=PASSWORD, headers=None):
        """POSTs raw bytes to EWS with Basic auth; returns (status, text)."""
        import requests
        h = {"Content-Type": "text/xml; charset=utf-8"}
        h.update(headers or {})
        r = requests.post(self.ews_url, data=body, auth=(user, password), headers=h,
                          verify=self.ca if self.tls else True, timeout=30)
        return r.status_code, r.text


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def run(cases):
    """Runs each case function; exits non-zero when one fails."""
    failed = 0
    for case in cases:
        try:
            case()
            print(f"PASS {case.__name__}")
        except Exception as e:  # report every failing case, not just the first
            import traceback
            traceback.print_exc()
            print(f"FAIL {case.__name__}: {e!r}")
            failed += 1
    sys.exit(1 if failed else 0)
