"""Severity: how much a finding matters. Its own module, below both the catalog (default
severities) and the findings (each finding's), so neither imports the other back."""

from __future__ import annotations

import enum


class Severity(enum.IntEnum):
    INFO = 0
    WARNING = 1
    ERROR = 2

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        return cls[text.upper()]
