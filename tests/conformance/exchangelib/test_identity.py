"""exchangelib against exsim: Basic and NTLM logons (requests_ntlm), wrong passwords, the 401
challenges IIS sends, Bearer tokens, impersonation allowed, denied and of unknown mailboxes,
and the TLS certificate check."""
import os

import requests
from exchangelib import CalendarItem, EWSDateTime, EWSTimeZone
from exchangelib.errors import (ErrorImpersonateUserDenied, ErrorNonExistentMailbox,
                                UnauthorizedError, TransportError)

from exsim_harness import Exsim, check, run, ALICE, BOB, SVC, NOIMP, PASSWORD

TZ = EWSTimeZone("UTC")
START = EWSDateTime(2025, 2, 3, 9, 0, tzinfo=TZ)
END = EWSDateTime(2025, 2, 3, 10, 0, tzinfo=TZ)

with Exsim(extra=["--bearer-token", "tok-123=alice@example.com"]) as ex:

    def challenges_on_401():
        r = requests.post(ex.ews_url, data=b"<x/>", verify=ex.ca, timeout=10)
        check(r.status_code == 401, f"status {r.status_code}")
        # requests folds repeated headers into one comma-separated value.
        offered = r.headers.get("WWW-Authenticate", "")
        for scheme in ("Negotiate", "NTLM", 'Basic realm="EXSIM"'):
            check(scheme in offered, f"challenge {scheme} missing in {offered!r}")

    def basic_and_wrong_password():
        acc = ex.account(auth="basic")
        check(acc.calendar.total_count is not None, "calendar readable with Basic")
        try:
            ex.account(password="wrong", auth="basic").calendar.total_count
            raise AssertionError("a wrong password must be refused")
        except (UnauthorizedError, TransportError):
            pass

    def ntlm_logon():
        acc = ex.account(user="EXSIM\\alice", auth="NTLM")
        item = CalendarItem(account=acc, folder=acc.calendar, subject="via NTLM", start=START, end=END)
        item.save()
        check(acc.calendar.get(id=item.id).subject == "via NTLM", "NTLM session works")
        try:
            ex.account(user="EXSIM\\alice", password="nope", auth="NTLM").calendar.total_count
            raise AssertionError("NTLM with a wrong password must be refused")
        except (UnauthorizedError, TransportError):
            pass

    def bearer_token():
        body = ("<?xml version='1.0'?><s:Envelope xmlns:s='http://schemas.xmlsoap.org/soap/envelope/' "
                "xmlns:m='http://schemas.microsoft.com/exchange/services/2006/messages' "
                "xmlns:t='http://schemas.microsoft.com/exchange/services/2006/types'><s:Header>"
                "<t:RequestServerVersion Version='Exchange2013'/></s:Header><s:Body><m:GetFolder>"
                "<m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape><m:FolderIds>"
                "<t:DistinguishedFolderId Id='calendar'/></m:FolderIds></m:GetFolder></s:Body></s:Envelope>")
        ok = requests.post(ex.ews_url, data=body, headers={"Authorization": "Bearer tok-123",
                                                           "Content-Type": "text/xml"},
                           verify=ex.ca, timeout=10)
        check(ok.status_code == 200 and "NoError" in ok.text, f"bearer: {ok.status_code}")
        bad = requests.post(ex.ews_url, data=body, headers={"Authorization": "Bearer nope"},
                            verify=ex.ca, timeout=10)
        check(bad.status_code == 401, f"unknown bearer token: {bad.status_code}")

    def impersonation_allowed():
        acc = ex.account(address=BOB, user=SVC, impersonate=True)
        item = CalendarItem(account=acc, folder=acc.calendar, subject="for Bob", start=START, end=END)
        item.save()
        items = ex.admin(f"mailboxes/{BOB}/items")
        check([i["subject"] for i in items] == ["for Bob"], f"Bob's mailbox: {items}")

    def impersonation_denied():
        acc = ex.account(address=BOB, user=NOIMP, impersonate=True)
        try:
            acc.calendar.total_count
            raise AssertionError("an account without the right must be refused")
        except ErrorImpersonateUserDenied:
            pass

    def impersonation_of_unknown_mailbox():
        acc = ex.account(address="nobody@example.com", user=SVC, impersonate=True)
        try:
            acc.calendar.total_count
            raise AssertionError("an unknown mailbox must be ErrorNonExistentMailbox")
        except ErrorNonExistentMailbox:
            pass

    def tls_certificate_is_checked():
        try:
            session = requests.Session()
            session.trust_env = False  # ignore REQUESTS_CA_BUNDLE: the system store only
            session.post(ex.ews_url, data=b"<x/>", verify=True, timeout=10)
            raise AssertionError("the generated CA is not a public one: verification must fail")
        except requests.exceptions.SSLError:
            pass

    run([challenges_on_401, basic_and_wrong_password, ntlm_logon, bearer_token,
         impersonation_allowed, impersonation_denied, impersonation_of_unknown_mailbox,
         tls_certificate_is_checked])
