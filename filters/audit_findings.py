"""What genoscrub-audit found in one file, counted by class and location.

A finding is located by a position (``chr1:1234``, ``header line 5``, ``record 17``) and
a field *name* (``QNAME``, ``@RG CN``, ``aux XZ``, ``INFO/SAMPLE``): never by the value
that was found, never by a read name, so the audit's output and report can go to a
reviewer who must not see the identifiers. Counts are exact; the positions listed are
the first few of each key, so memory stays flat however many findings a file holds.
Workers count into their own ``Findings`` and the parent merges them (``merge``).

A forbidden string met inside a keyed read name (24 random hex digits) is held apart until the
whole file is read (``KeyedNameHits``): only a count beyond chance is a finding (see there).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from genoscrub.audit_allowlist import HASHED_NAME_LENGTH, READ_COUNTER_PAST_RECORDS
from genoscrub.audit_mates import MateJoin
from genoscrub.audit_split_reads import SplitJoin

CLASSES = ("forbidden", "metadata", "germline", "population", "regions")
"""Finding classes, in the order they are printed."""

EXAMPLES_PER_KEY = 3
KEYS_PER_LINE = 8


@dataclass
class FindingClass:
    """Findings of one class: a count per key (a field name, a site) and its first positions."""

    name: str
    checked: bool = False
    reason: str = ""  # why a class was not checked ("not requested", "not aligned")
    counts: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def add(self, key: str, where: str | None = None, amount: int = 1) -> None:
        self.counts[key] += amount
        if where is not None:
            found = self.examples.setdefault(key, [])
            if len(found) < EXAMPLES_PER_KEY:
                found.append(where)

    def add_all(self, key: str, wheres: list[str], amount: int) -> None:
        """``amount`` findings of which ``wheres`` are the first positions (in file order)."""
        self.counts[key] += amount
        found = self.examples.setdefault(key, [])
        found.extend(wheres[: EXAMPLES_PER_KEY - len(found)])

    def merge(self, other: FindingClass) -> None:
        self.counts.update(other.counts)
        for key, positions in other.examples.items():
            found = self.examples.setdefault(key, [])
            found.extend(positions[: EXAMPLES_PER_KEY - len(found)])

    def line(self) -> str:
        """``N: key count (at, at), ...``, the keys with most findings first."""
        if not self.checked:
            return f"not checked ({self.reason})" if self.reason else "not checked"
        if not self.counts:
            return "0"
        ranked = sorted(self.counts.items(), key=lambda item: (-item[1], item[0]))
        parts = []
        for key, count in ranked[:KEYS_PER_LINE]:
            where = self.examples.get(key)
            parts.append(f"{key} {count}" + (f" ({', '.join(where)})" if where else ""))
        if len(ranked) > KEYS_PER_LINE:
            parts.append(f"and {len(ranked) - KEYS_PER_LINE} more")
        return f"{self.total}: " + "; ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"checked": self.checked, "count": self.total}
        if not self.checked:
            data["reason"] = self.reason
        if self.counts:
            data["by_key"] = dict(sorted(self.counts.items()))
            data["examples"] = {key: list(value) for key, value in sorted(self.examples.items())}
        return data


CHANCE_TAIL = 1e-9
"""How unlikely under chance a count of hits in keyed names must be to be a finding: ~0.1 false
finding in a cohort of 1M genomes, each with a few files and a list of ~25 strings."""
CLUMP = 4
"""Records that may share one keyed name in a BAM (a pair's two, a supplementary, a secondary):
``ceiling`` lets each name chance hits give bring this many."""


def poisson_ceiling(expected: float, tail: float = CHANCE_TAIL) -> int:
    """The least count ``k`` that a Poisson count of mean ``expected`` reaches with probability
    at most ``tail``: its terms summed down from far above the mean, where they are negligible
    (in logarithms: a term too small for a float is no zero the next one is made from)."""
    if expected <= 0:
        return 1
    top = int(expected + 40 * math.sqrt(expected) + 60)
    log_term = -expected + top * math.log(expected) - math.lgamma(top + 1)
    reached = 0.0
    for count in range(top, 0, -1):
        reached += math.exp(log_term)
        if reached > tail:
            return count + 1
        log_term += math.log(count / expected)
    return 1


@dataclass
class KeyedNameHits:
    """Hits of the forbid list's hex strings inside keyed read names, held until the file is read.

    A keyed name is 24 random hex digits, so a string of hex digits turns up in them by chance:
    a 7-digit number (a hospital's sample number) ~80 times among a 30x genome's 1.2 billion
    names, an 8-digit one ~5 times, a 3-character folder name (``b44``) in one name of 186. Such
    hits say nothing of the delivery, and a gate failing on them would hold back every genome of a
    lab that numbers its samples. A string the scrubbers copied would sit in every name, or in a
    run of them: so hits of a string of length L among N names are a finding only where chance
    reaches that many with probability at most ``CHANCE_TAIL``, the names' expected count being
    N x (24 - L + 1) / 16^L (``ceiling``), a BAM's records sharing names in pairs and more."""

    names: int = 0
    clump: int = 1
    counts: Counter[tuple[str, int]] = field(default_factory=Counter)
    """Hits by key (``QNAME (list line 3)``) and the length of the string that hit."""
    examples: dict[str, list[str]] = field(default_factory=dict)

    def add_all(self, key: str, length: int, wheres: list[str], amount: int) -> None:
        self.counts[key, length] += amount
        found = self.examples.setdefault(key, [])
        found.extend(wheres[: EXAMPLES_PER_KEY - len(found)])

    def merge(self, other: KeyedNameHits) -> None:
        self.names += other.names
        self.clump = max(self.clump, other.clump)
        self.counts.update(other.counts)
        for key, positions in other.examples.items():
            found = self.examples.setdefault(key, [])
            found.extend(positions[: EXAMPLES_PER_KEY - len(found)])

    def expected(self, length: int) -> float:
        """Hits of one string of ``length`` hex digits that chance gives among the names searched."""
        return self.names * max(HASHED_NAME_LENGTH - length + 1, 0) / 16.0**length

    def ceiling(self, length: int) -> int:
        """The least count of hits that is a finding: the lesser of two counts chance reaches
        with probability at most ``CHANCE_TAIL``, each a bound. Names: chance puts the string in
        no more than ``poisson_ceiling(expected) - 1`` names (fewer names than records are
        searched), each with at most ``clump`` hits; so a single hit is a finding where chance
        gives almost none (a short file, a long string). Clumps: the hits' mean is ``expected``
        however the records share names, and spread most when every name has ``clump`` records,
        ``clump`` times a Poisson count of mean ``expected / clump``; so a count far above the mean
        is one (a string in every name)."""
        expected = self.expected(length)
        names = self.clump * (poisson_ceiling(expected) - 1) + 1
        return min(names, self.clump * poisson_ceiling(expected / self.clump))

    def settle(self, found: FindingClass) -> dict[str, dict[str, float]]:
        """Keys with hits beyond chance go to ``found`` (all their hits); the others are returned,
        each with its hits and ceiling, for the report. Called once, when the file is read."""
        beyond = {key for (key, length), hits in self.counts.items() if hits >= self.ceiling(length)}
        within: dict[str, dict[str, float]] = {}
        for (key, length), hits in sorted(self.counts.items()):
            if key in beyond:
                found.add_all(key, self.examples.get(key, []), hits)
            else:
                seen = within.setdefault(key, {"hits": 0, "expected": 0.0, "ceiling": 0})
                seen["hits"] += hits
                seen["expected"] = round(seen["expected"] + self.expected(length), 3)
                seen["ceiling"] = max(seen["ceiling"], self.ceiling(length))
        self.counts.clear()
        self.examples.clear()
        return within


@dataclass
class Findings:
    """Every class of one file, plus what was read (format, records)."""

    classes: dict[str, FindingClass] = field(default_factory=lambda: {name: FindingClass(name) for name in CLASSES})
    records: int = 0
    keyed_names: KeyedNameHits = field(default_factory=KeyedNameHits)
    within_chance: dict[str, dict[str, float]] = field(default_factory=dict)
    """Hits in keyed names that chance explains (``KeyedNameHits.settle``): reported, not findings."""
    largest_read_counter: int = 0
    """The largest read counter (``READ<n>``) read, and where (``counted_read``)."""
    largest_read_counter_at: str = ""
    mate_join: MateJoin = field(default_factory=MateJoin)
    """What a BAM's blocks leave of the join of records with their mates (``audit_mates``), settled when the file is read."""
    split_join: SplitJoin = field(default_factory=SplitJoin)
    """What a BAM's blocks leave of the join of supplementary records with their primaries (``audit_split_reads``)."""

    def __getitem__(self, name: str) -> FindingClass:
        return self.classes[name]

    @property
    def forbidden(self) -> FindingClass:
        return self.classes["forbidden"]

    @property
    def metadata(self) -> FindingClass:
        return self.classes["metadata"]

    @property
    def germline(self) -> FindingClass:
        return self.classes["germline"]

    @property
    def population(self) -> FindingClass:
        return self.classes["population"]

    @property
    def regions(self) -> FindingClass:
        return self.classes["regions"]

    @property
    def total(self) -> int:
        return sum(found.total for found in self.classes.values())

    def counted_read(self, number: int, where: str) -> None:
        """A read named by a counter (``READ<number>``) at ``where``: the file's largest is held."""
        if number > self.largest_read_counter:
            self.largest_read_counter, self.largest_read_counter_at = number, where

    def merge(self, other: Findings) -> None:
        self.records += other.records
        if other.largest_read_counter > self.largest_read_counter:
            self.largest_read_counter, self.largest_read_counter_at = other.largest_read_counter, other.largest_read_counter_at
        for name, found in other.classes.items():
            self.classes[name].merge(found)
        self.keyed_names.merge(other.keyed_names)
        self.mate_join.merge(other.mate_join)
        self.split_join.merge(other.split_join)

    def settle(self) -> None:
        """The file is read: hits in keyed names beyond chance become findings (``KeyedNameHits``),
        and so does a read counter above the count of records (``READ_COUNTER_PAST_RECORDS``: the
        scrubbers number a file's reads from 1, so a larger one is a number written there)."""
        self.within_chance.update(self.keyed_names.settle(self.forbidden))
        if self.largest_read_counter > self.records:
            self.metadata.add(READ_COUNTER_PAST_RECORDS, self.largest_read_counter_at)

    def as_dict(self) -> dict[str, Any]:
        return {name: found.as_dict() for name, found in self.classes.items()}
