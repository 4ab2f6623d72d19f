"""Plain-language explanations of technical terms, for messages to customers.

Probe findings and notes speak the engineer's language ("OOM killer ran", "out of inodes").
:func:`explain` finds such terms in a text and returns a one-sentence explanation of each, so a
customer update can append a short "What this means" list. Add a term by appending to
:data:`TERMS` (a regex matched case-insensitively on word boundaries, the term as shown, and a
sentence a non-specialist understands).
"""

from __future__ import annotations

import re

TERMS: tuple[tuple[str, str, str], ...] = (
    (r"OOM(?:[ -]killer)?|out of memory", "OOM (out of memory)",
     "the system ran out of memory and stopped a program to keep itself running."),
    (r"inodes?", "inode",
     ("a slot the filesystem uses to keep track of one file; when they run out, no new files "
     "can be created even if there is free space.")),
    (r"load average", "load average",
     ("how many tasks were waiting for the processor on average; high values mean the system "
     "was busier than it could keep up with.")),
    (r"swap(?:ping|ped)?", "swap",
     "disk space used as overflow memory; using it heavily makes the system slow."),
    (r"systemd units?|(?:failed )?units?(?= \S+ failed)|systemctl", "systemd unit",
     "a background service or task that the operating system starts and watches."),
    (r"NTP|clock (?:is )?not synchroni[sz]ed|time drift", "clock synchronisation (NTP)",
     ("the service that keeps the computer's clock correct; a wrong clock can break logins, "
     "certificates and log times.")),
    (r"DNS|resolv\.conf|name server", "DNS",
     "the service that turns names such as example.com into network addresses."),
    (r"I/O wait|iowait", "I/O wait",
     ("time the processor spent waiting for the disk; high values mean storage is the "
     "bottleneck.")),
    (r"steal time|CPU steal", "CPU steal",
     ("time the virtual machine wanted the processor but the hosting platform gave it to "
     "someone else.")),
    (r"read-only", "read-only filesystem",
     ("the disk was switched to read-only, usually to protect data after an error; nothing "
     "can be saved on it until it is fixed.")),
    (r"zombie process(?:es)?", "zombie process",
     ("a finished program whose exit was not collected by its parent; harmless in small "
     "numbers.")),
    (r"uninterruptible sleep|D state|hung tasks?|blocked tasks?", "hung task",
     "a program stuck waiting, usually for a disk or network storage that does not answer."),
    (r"kernel", "kernel", "the core of the operating system."),
    (r"default route", "default route",
     "the path the machine uses to reach other networks, such as the internet."),
    (r"file descriptors?|open files", "open files limit",
     "the maximum number of files and connections a program may have open at once."),
    (r"memory overcommit(?:ted)?|overcommitted", "memory overcommit",
     "programs have been promised more memory than the machine has."),
    (r"certificates?|TLS|SSL", "certificate",
     ("the digital ID a server uses to prove who it is and encrypt traffic; it stops working "
     "when it expires.")),
    (r"host key", "host key",
     "the fingerprint a server uses to prove its identity when we connect to it."),
    (r"filesystem", "filesystem", "the way a disk is organised to store files."),
)

_COMPILED = tuple((re.compile(rf"(?<![\w-])(?:{pattern})(?![\w])", re.IGNORECASE), term, text)
                  for pattern, term, text in TERMS)


def explain(text: str) -> list[tuple[str, str]]:
    """``(term, plain explanation)`` for each known term in ``text``, in order of first use."""
    found: list[tuple[int, str, str]] = []
    for regex, term, meaning in _COMPILED:
        m = regex.search(text)
        if m:
            found.append((m.start(), term, meaning))
    found.sort()
    return [(term, meaning) for _, term, meaning in found]


__all__ = ["TERMS", "explain"]
