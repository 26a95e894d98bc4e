#!/usr/bin/python3
"""Differential check of CronPattern against Python's croniter (the library Mistral uses).

Usage: /usr/bin/python3 croniter_diff.py BUILD_DIR/orchestrator/triggers/cron_next [COUNT] [SEED]
Needs croniter (Debian: python3-croniter, 1.3.5 = what Mistral 15 uses). Generates random 5-field
patterns (values, names, ranges, steps, lists) and random start times, and compares the next match.
Differences of the two known croniter bugs (see cron_test.cc kCroniterBugCases) are counted apart;
any other difference fails.
"""
import calendar
import datetime
import random
import subprocess
import sys

from croniter import croniter

RANGES = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]
MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']
DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat']


def item(rng, i):
    lo, hi = RANGES[i]

    def value():
        v = rng.randint(lo, hi)
        if i == 3 and rng.random() < 0.3:
            return MONTHS[v - 1]
        if i == 4 and v < 7 and rng.random() < 0.3:
            return DAYS[v]
        return str(v)

    k = rng.random()
    if k < 0.35:
        return '*'
    if k < 0.5:
        return '*/%d' % rng.randint(1, max(1, hi // 2))
    if k < 0.7:
        return value()
    if k < 0.85:
        a = rng.randint(lo, hi)
        b = rng.randint(a, hi)
        s = '%d-%d' % (a, b)
        if rng.random() < 0.4:
            s += '/%d' % rng.randint(1, 5)
        return s
    return '%d/%d' % (rng.randint(lo, hi), rng.randint(1, 10))


def main():
    tool = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 7)
    lines, expected = [], []
    for _ in range(count):
        fields = []
        for i in range(5):
            n = 1 if rng.random() < 0.7 else rng.randint(2, 3)
            fields.append(','.join(item(rng, i) for _ in range(n)))
        pattern = ' '.join(fields)
        offset = datetime.timedelta(seconds=rng.randint(0, 3 * 365 * 86400))
        base = datetime.datetime(2026, 1, 1) + offset
        try:
            e = croniter(pattern, base).get_next(datetime.datetime).strftime('%Y-%m-%d %H:%M:%S')
        except Exception as ex:  # noqa: BLE001 - croniter's error classes vary by version
            e = 'NEVER' if 'find next' in str(ex) else 'ERR'
        lines.append('%s\t%d' % (pattern, calendar.timegm(base.timetuple()) * 1000000))
        expected.append(e)
    out = subprocess.run([tool], input='\n'.join(lines) + '\n', capture_output=True, text=True,
                         check=True).stdout.split('\n')
    known = unexpected = 0
    for line, e, o in zip(lines, expected, out):
        if e == o:
            continue
        if e == 'NEVER' or o[5:10] == '03-01':
            known += 1
        else:
            unexpected += 1
            print('DIFF %s croniter=%s bora=%s' % (line, e, o))
    print('%d patterns: %d equal, %d known croniter bugs, %d unexpected differences'
          % (count, count - known - unexpected, known, unexpected))
    return 1 if unexpected else 0


if __name__ == '__main__':
    sys.exit(main())
