"""A pytest plugin for .ci/run: records every skipped test (node id and reason) in the file named
by $TINYMED_SKIPS, one per line, so the cross-check run can rerun exactly those tests once the
reference libraries are installed, and fail if any of them still skips for a reason other than
a missing GPU."""

import os


def _record(nodeid, longrepr):
    path = os.environ.get("TINYMED_SKIPS")
    if not path:
        return
    reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    with open(path, "a", encoding="utf-8") as f:
        f.write(f"{nodeid}\t{' '.join(reason.split())}\n")


def pytest_runtest_logreport(report):
    if report.skipped:
        _record(report.nodeid, report.longrepr)


def pytest_collectreport(report):
    if report.skipped:
        _record(report.nodeid, report.longrepr)
