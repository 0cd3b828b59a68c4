"""What genoscrub-audit found in one file, counted by class and location.

A finding is located by a position (``chr1:1234``, ``header line 5``, ``record 17``) and
a field *name* (``QNAME``, ``@RG CN``, ``aux XZ``, ``INFO/SAMPLE``): never by the value
that was found, never by a read name, so the audit's output and report can go to a
reviewer who must not see the identifiers. Counts are exact; the positions listed are
the first few of each key, so memory stays flat however many findings a file holds.
Workers count into their own ``Findings`` and the parent merges them (``merge``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

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


@dataclass
class Findings:
    """Every class of one file, plus what was read (format, records)."""

    classes: dict[str, FindingClass] = field(default_factory=lambda: {name: FindingClass(name) for name in CLASSES})
    records: int = 0

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

    def merge(self, other: Findings) -> None:
        self.records += other.records
        for name, found in other.classes.items():
            self.classes[name].merge(found)

    def as_dict(self) -> dict[str, Any]:
        return {name: found.as_dict() for name, found in self.classes.items()}
