#!/usr/bin/python3
"""Expands RRULEs with python-dateutil, an implementation independent of libical and of us.

Used by dateutil_crosscheck_test.cpp. Run with Debian's /usr/bin/python3 (python3-dateutil).
Input file: one rule per line, "<id>\t<DTSTART>\t<RRULE>", floating times ("19970902T090000").
Output file: "<id>\t<instance>,<instance>,..." (floating, same format), or "<id>\t!<error>".
Every rule must be bounded (COUNT or UNTIL); at most MAX_INSTANCES are listed.
"""
import itertools
import sys

from dateutil.rrule import rrulestr

MAX_INSTANCES = 5001


def expand(dtstart, rule):
    recurrence = rrulestr("DTSTART:%s\nRRULE:%s" % (dtstart, rule))
    return [d.strftime("%Y%m%dT%H%M%S") for d in itertools.islice(recurrence, MAX_INSTANCES)]


def main(input_path, output_path):
    with open(input_path, encoding="utf-8") as rules, \
            open(output_path, "w", encoding="utf-8") as out:
        for line in rules:
            line = line.rstrip("\n")
            if not line:
                continue
            ident, dtstart, rule = line.split("\t")
            try:
                out.write("%s\t%s\n" % (ident, ",".join(expand(dtstart, rule))))
            except Exception as error:  # reported per rule, the C++ test fails on it
                out.write("%s\t!%s: %s\n" % (ident, type(error).__name__, error))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: dateutil_expand.py RULES_IN INSTANCES_OUT")
    main(sys.argv[1], sys.argv[2])
