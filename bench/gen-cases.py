#!/usr/bin/env python3
"""Synthetic cases for the benchmark: N rows for `smsgwctl import-cases`
(valid GB 11643 ID numbers, one distinct phone per case) and the
(key, msisdn) list smsc-sim --load-cases reads (receipt or ID, alternately).

usage: gen-cases.py N CASES.csv LOADCASES.csv
       gen-cases.py --new N CASES.csv   N more cases, ready for pickup, with
                                        phones 131... (no load sender's), to
                                        import with --notify
"""
import datetime
import sys

W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
CHECK = "10X98765432"
STATUSES = ["accepted", "reviewing", "producing", "producing", "ready"]


def id_number(i):
    born = datetime.date(1950, 1, 1) + datetime.timedelta(days=i // 1000)
    body = "110105%s%03d" % (born.strftime("%Y%m%d"), i % 1000)
    return body + CHECK[sum(int(c) * w for c, w in zip(body, W)) % 11]


def new_cases(n, path):
    with open(path, "w", encoding="utf-8") as cases:
        cases.write("receipt_no,id_number,name,msisdn,status,submitted_at,"
                    "pickup_place\n")
        for i in range(n):
            cases.write("NX%010d,%s,李四,131%08d,ready,2026-10-%02d,"
                        "城关派出所户籍窗口\n" %
                        (i, id_number(3000000 + i), i, 1 + i % 28))


def main():
    if sys.argv[1] == "--new":
        new_cases(int(sys.argv[2]), sys.argv[3])
        return
    n = int(sys.argv[1])
    with open(sys.argv[2], "w", encoding="utf-8") as cases, \
            open(sys.argv[3], "w", encoding="utf-8") as load:
        cases.write("receipt_no,id_number,name,msisdn,status,submitted_at,"
                    "pickup_place\n")
        load.write("key,msisdn\n")
        out, lout = [], []
        for i in range(n):
            receipt = "BX%010d" % i
            idn = id_number(i)
            msisdn = "130%08d" % i
            st = STATUSES[i % len(STATUSES)]
            place = "城关派出所户籍窗口" if st == "ready" else ""
            out.append("%s,%s,张三,%s,%s,2026-%02d-%02d,%s\n" %
                       (receipt, idn, msisdn, st, 9 + i % 3, 1 + i % 28,
                        place))
            lout.append("%s,%s\n" % (receipt if i % 2 else idn, msisdn))
            if len(out) == 10000:
                cases.write("".join(out))
                load.write("".join(lout))
                out, lout = [], []
        cases.write("".join(out))
        load.write("".join(lout))


if __name__ == "__main__":
    main()
