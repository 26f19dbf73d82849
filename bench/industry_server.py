"""The server side of bench/industry.py: its CPU, its log, and the reports it kept.

Split from industry.py (which drives the clients and prints the table) so that each stays short.
"""

from intake import count_in_database  # bench/ is on the path: industry.py put it there


def present(env: dict, ids: list[int]) -> int:
    """How many of the acknowledged reports have their case and both files."""
    query = (
        "from django.db.models import Count\n"
        "from openmnr.industry.models import Case\n"
        "print(Case.objects.filter(report_id__in=ids).annotate(n=Count('report__files')).filter(n=2).count())\n"
    )
    return count_in_database(env, query, ids)


def children_cpu(server, database: str | None) -> tuple[float, float]:
    """CPU of the server's processes, including decoder children that have already exited (the fork
    server reaps them; their time is in its children's times), and of the PostgreSQL backends
    serving this run's database only: the machine is shared, and other people's PostgreSQL work
    must not be counted as ours. Returns (all CPU seconds, of which in the kernel): a share of
    system time far above usual points at the machine (page reclaim, faults), not at our code."""
    import psutil

    tree = [psutil.Process(server.pid), *psutil.Process(server.pid).children(recursive=True)]
    total = system = 0.0
    for process in tree:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        total, system = total + times.user + times.system, system + times.system
    if database:
        for process in psutil.process_iter(["name", "cmdline"]):
            if (process.info["name"] or "").startswith("postgres") and database in " ".join(
                process.info["cmdline"] or []
            ):
                try:
                    times = process.cpu_times()
                except psutil.Error:
                    continue
                total, system = total + times.user + times.system, system + times.system
    for process in tree:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        total += times.children_user + times.children_system
        system += times.children_system
    return total, system


def log_summary(path: str, offset: int) -> dict:
    """What one server wrote to the kept log from ``offset`` on: gunicorn workers booted (as many
    as --workers at the start; more means workers died or were killed and replaced), worker
    timeouts, and the 1000 answers the application logged (``ispws.failure``), counted by request
    and by the innermost exception of each (the line "raised from ..." last before the next
    unindented line, else the first line's own)."""
    with open(path, encoding="utf-8", errors="replace") as log:
        log.seek(offset)
        lines = log.read().splitlines()
    failures: dict[str, int] = {}
    for number, line in enumerate(lines):
        if not (line.startswith("ispws /ispws/") and " failed" in line):
            continue
        request = line.split()[1]
        if "answered 1000" in line:  # this tree's ``ispws.failure``: the innermost "raised from"
            cause = line.split("): ", 1)[-1]
            for following in lines[number + 1 :]:
                if not following.startswith(" "):
                    break
                if following.startswith("  raised from "):
                    cause = following.removeprefix("  raised from ")
        else:  # an older server's logger.exception: the exception line after the traceback
            cause = next(
                (f for f in lines[number + 1 :] if f and not f.startswith((" ", "Traceback", "During"))),
                "?",
            )[:120]
        failures[f"{request}: {cause}"] = failures.get(f"{request}: {cause}", 0) + 1
    return {
        "worker_boots": sum("Booting worker" in line for line in lines),
        "worker_timeouts": sum("WORKER TIMEOUT" in line for line in lines),
        "failures_logged": failures,
    }
