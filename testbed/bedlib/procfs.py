"""/proc for the test bed: one parser of /proc/PID/stat for the bed, its checks and its suite."""
from __future__ import annotations

import os


def stat_fields(pid: int, tid: int | None = None) -> list[str]:
    """The fields of /proc/PID/stat (or of a thread's) after the command name, so that
    field 0 is the state, 1 the parent PID, 11/12 utime/stime and 19 the start time.
    The name may hold spaces and parentheses, hence the split at the last ')'."""
    path = f"/proc/{pid}/task/{tid}/stat" if tid is not None else f"/proc/{pid}/stat"
    with open(path) as f:
        s = f.read()
    return s[s.rfind(")") + 2:].split()


def proc_starttime(pid: int) -> str | None:
    """The process's start time in clock ticks after boot: with the PID, it names one process."""
    try:
        return stat_fields(pid)[19]
    except (OSError, IndexError):
        return None


def proc_alive(pid: int) -> bool:
    """True while the process exists and is neither a zombie nor dead."""
    try:
        return stat_fields(pid)[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def children_by_parent() -> dict[int, list[int]]:
    """Every process on the host, grouped under its parent's PID."""
    children: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            children.setdefault(int(stat_fields(int(d))[1]), []).append(int(d))
        except (OSError, ValueError, IndexError):
            pass
    return children


def descendants(pid: int) -> list[int]:
    """The process's children, their children, and so on (not the process itself)."""
    children = children_by_parent()
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out
