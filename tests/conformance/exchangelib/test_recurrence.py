"""exchangelib against exsim: recurring series with every EWS pattern and range, occurrences by
index and through the calendar view, modified and deleted occurrences, time zones."""
import datetime

from exchangelib import CalendarItem, EWSDateTime, EWSTimeZone
from exchangelib.fields import MONDAY, THURSDAY, FRIDAY, WEEK_DAY as WEEKDAY, FIRST, LAST, SEPTEMBER, MARCH
from exchangelib.recurrence import (AbsoluteMonthlyPattern, AbsoluteYearlyPattern, DailyPattern,
                                    Recurrence, RelativeMonthlyPattern, RelativeYearlyPattern,
                                    WeeklyPattern)

from exsim_harness import Exsim, check, run

TZ = EWSTimeZone("Europe/Berlin")
UTC = EWSTimeZone("UTC")


def local(y, m, d, h=9):
    return EWSDateTime(y, m, d, h, 0, tzinfo=TZ)


with Exsim() as ex:
    acc = ex.account()

    def series(subject, start, recurrence, minutes=60):
        item = CalendarItem(account=acc, folder=acc.calendar, subject=subject, start=start,
                            end=start + datetime.timedelta(minutes=minutes), recurrence=recurrence)
        item.save()
        return acc.calendar.get(id=item.id)

    def occurrence_starts(subject, start, end):
        return [o.start.astimezone(TZ) for o in acc.calendar.view(start=start, end=end)
                if o.subject == subject]

    def weekly_numbered_across_dst():
        master = series("Weekly", local(2024, 3, 18),
                        Recurrence(pattern=WeeklyPattern(interval=1, weekdays=[MONDAY, THURSDAY]),
                                   start=datetime.date(2024, 3, 18), number=4))
        check(master.type == "RecurringMaster", f"type {master.type}")
        starts = occurrence_starts("Weekly", local(2024, 3, 1), local(2024, 5, 1))
        # 09:00 Berlin before and after the switch to summer time on 2024-03-31.
        check(starts == [local(2024, 3, 18), local(2024, 3, 21), local(2024, 3, 25),
                         local(2024, 3, 28)], f"weekly {starts}")
        check(master.first_occurrence.start == local(2024, 3, 18), "FirstOccurrence")
        check(master.last_occurrence.start == local(2024, 3, 28), "LastOccurrence")
        pattern = master.recurrence.pattern
        check(isinstance(pattern, WeeklyPattern) and master.recurrence.boundary.number == 4,
              f"Recurrence read back: {master.recurrence}")

    def every_pattern_and_range():
        cases = [
            ("Daily", DailyPattern(interval=2), dict(start=datetime.date(2024, 6, 1), number=3),
             [local(2024, 6, 1), local(2024, 6, 3), local(2024, 6, 5)]),
            ("AbsMonthly", AbsoluteMonthlyPattern(interval=1, day_of_month=31),
             dict(start=datetime.date(2024, 1, 31), end=datetime.date(2024, 4, 30)),
             [local(2024, 1, 31), local(2024, 2, 29), local(2024, 3, 31), local(2024, 4, 30)]),
            ("RelMonthly", RelativeMonthlyPattern(interval=1, weekday=FRIDAY, week_number=LAST),
             dict(start=datetime.date(2024, 1, 1), number=3),
             [local(2024, 1, 26), local(2024, 2, 23), local(2024, 3, 29)]),
            ("AbsYearly", AbsoluteYearlyPattern(day_of_month=15, month=MARCH),
             dict(start=datetime.date(2024, 1, 1), number=2),
             [local(2024, 3, 15), local(2025, 3, 15)]),
            ("RelYearly", RelativeYearlyPattern(weekday=WEEKDAY, week_number=FIRST, month=SEPTEMBER),
             dict(start=datetime.date(2024, 1, 1)),  # no end
             [local(2024, 9, 2), local(2025, 9, 1)]),
        ]
        for subject, pattern, boundary, expected in cases:
            first = expected[0]
            master = series(subject, first, Recurrence(pattern=pattern, **boundary))
            check(master.type == "RecurringMaster", f"{subject}: {master.type}")
            starts = occurrence_starts(subject, local(2024, 1, 1, 0), local(2025, 12, 31, 0))
            check(starts == expected, f"{subject}: {starts}")

    def modify_and_delete_occurrences():
        master = series("Standup", local(2024, 7, 1),
                        Recurrence(pattern=DailyPattern(interval=1), start=datetime.date(2024, 7, 1),
                                   number=5), minutes=15)
        third = master.occurrence(index=3)
        third.refresh()
        check(third.type == "Occurrence", f"third is {third.type}")
        check(third.start == local(2024, 7, 3), f"third starts {third.start}")
        third.subject = "Standup (moved)"
        third.start, third.end = local(2024, 7, 3, 11), local(2024, 7, 3, 12)
        third.save(update_fields=["subject", "start", "end"])
        fourth = master.occurrence(index=4)
        fourth.refresh()
        fourth.delete()
        master = acc.calendar.get(id=master.id)
        check(len(master.modified_occurrences) == 1, f"modified {master.modified_occurrences}")
        check(master.modified_occurrences[0].original_start == local(2024, 7, 3),
              "ModifiedOccurrence OriginalStart")
        check(len(master.deleted_occurrences) == 1 and
              master.deleted_occurrences[0].start == local(2024, 7, 4), "DeletedOccurrences")
        view = [(o.subject, o.start.astimezone(TZ), o.type)
                for o in acc.calendar.view(start=local(2024, 7, 1, 0), end=local(2024, 7, 8, 0))
                if o.subject.startswith("Standup")]
        check(view == [("Standup", local(2024, 7, 1), "Occurrence"),
                       ("Standup", local(2024, 7, 2), "Occurrence"),
                       ("Standup (moved)", local(2024, 7, 3, 11), "Exception"),
                       ("Standup", local(2024, 7, 5), "Occurrence")], f"view {view}")
        exception = master.occurrence(index=3)
        exception.refresh()
        check(exception.type == "Exception" and exception.subject == "Standup (moved)", "exception")
        back = exception.recurring_master()
        back.refresh()
        check(back.id == master.id and back.type == "RecurringMaster", "RecurringMasterItemId")

    def edit_one_occurrence_and_save():
        # exchangelib's ordinary edit of one occurrence: fetch it, change the subject, save()
        # without update_fields. It sends DeleteItemField for every empty field (Body,
        # Location, Categories, attendees ...), which Exchange applies to that occurrence
        # alone: it becomes an exception without those values, the series keeps them.
        master = series("Review", local(2024, 9, 2),
                        Recurrence(pattern=DailyPattern(interval=1), start=datetime.date(2024, 9, 2),
                                   number=4), minutes=30)
        master.location = "Room 1"
        master.categories = ["Blue"]
        master.save(update_fields=["location", "categories"])
        occurrence = master.occurrence(index=2)
        occurrence.refresh()
        check(occurrence.location == "Room 1", f"occurrence inherits {occurrence.location}")
        occurrence.subject = "Review (edited)"
        occurrence.location = None
        occurrence.categories = None
        occurrence.save()
        occurrence.refresh()
        check(occurrence.type == "Exception", f"edited occurrence is {occurrence.type}")
        check(occurrence.subject == "Review (edited)", f"subject {occurrence.subject}")
        check(not occurrence.location, f"location deleted on the occurrence: {occurrence.location}")
        check(not occurrence.categories, f"categories deleted: {occurrence.categories}")
        master = acc.calendar.get(id=master.id)
        check(master.location == "Room 1" and master.categories == ["Blue"],
              f"the series keeps its values: {master.location} {master.categories}")
        other = master.occurrence(index=3)
        other.refresh()
        check(other.location == "Room 1" and other.type == "Occurrence",
              f"other occurrences unchanged: {other.location} {other.type}")

    def customised_time_zone_kept():
        # exchangelib sends the zone's full definition; any Id Exchange does not know is kept.
        item = CalendarItem(account=acc, folder=acc.calendar, subject="Kolkata",
                            start=EWSDateTime(2024, 8, 1, 9, 0, tzinfo=EWSTimeZone("Asia/Kolkata")),
                            end=EWSDateTime(2024, 8, 1, 10, 0, tzinfo=EWSTimeZone("Asia/Kolkata")))
        item.save()
        got = acc.calendar.get(id=item.id)
        check(got.start == EWSDateTime(2024, 8, 1, 3, 30, tzinfo=UTC), f"start {got.start}")
        check(got._start_timezone is not None or got.start_timezone is not None, "StartTimeZone kept")

    run([weekly_numbered_across_dst, every_pattern_and_range, modify_and_delete_occurrences,
         edit_one_occurrence_and_save, customised_time_zone_kept])
