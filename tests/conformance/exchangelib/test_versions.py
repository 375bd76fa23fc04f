"""exchangelib's version discovery against exsim configured as each Exchange version: the
ServerVersionInfo header carries that version's build, and RequestServerVersion values newer
than the server are refused so that the client steps down (plain HTTP: TLS is not the point)."""
from exchangelib import CalendarItem, EWSDateTime, EWSTimeZone

from exsim_harness import Exsim, check, run

EXPECTED = {
    "Exchange2013": ((15, 0, 516), "Exchange2013"),
    "Exchange2013_SP1": ((15, 0, 847), "Exchange2013_SP1"),
    "Exchange2016": ((15, 1, 2507), "Exchange2016"),
    "Exchange2019": ((15, 2, 1118), "Exchange2016"),  # exchangelib speaks Exchange2016 to 2019
}


def case(version):
    def check_version():
        with Exsim(tls=False, version=version, trace_subdir=version) as ex:
            acc = ex.account()
            build, api = EXPECTED[version]
            got = acc.version
            check((got.build.major_version, got.build.minor_version, got.build.major_build) == build,
                  f"{version}: build {got.build}")
            check(got.api_version == api, f"{version}: API version {got.api_version}")
            tz = EWSTimeZone("UTC")
            item = CalendarItem(account=acc, folder=acc.calendar, subject=version,
                                start=EWSDateTime(2025, 5, 1, 9, tzinfo=tz),
                                end=EWSDateTime(2025, 5, 1, 10, tzinfo=tz))
            item.save()
            check(acc.calendar.get(id=item.id).subject == version, "works at that version")
    check_version.__name__ = f"version_{version}"
    return check_version


run([case(v) for v in EXPECTED])
