"""A facts document's JSON, bounded: json.loads with integers of at most MAX_INT_DIGITS
digits, and every refusal (not JSON, not UTF-8, nested too deeply) one FactsError line."""

from __future__ import annotations

import json

from envlock.errors import FactsError

# A facts integer is a count or a byte size (20 digits at most). json.loads hands longer
# digit runs to int(), which refuses more than 4,300 digits with a ValueError that is
# not a JSONDecodeError: the bound is checked first, and said as one line.
MAX_INT_DIGITS = 100


class _HugeInt(Exception):
    def __init__(self, digits: int) -> None:
        super().__init__(digits)
        self.digits = digits


def _bounded_int(text: str) -> int:
    digits = len(text) - text.startswith("-")
    if digits > MAX_INT_DIGITS:
        raise _HugeInt(digits)
    return int(text)


def load_json(text: str | bytes) -> object:
    """A facts document's JSON; FactsError (one line) when it is not JSON, is nested too
    deeply, or holds an integer of more than MAX_INT_DIGITS digits."""
    try:
        return json.loads(text, parse_int=_bounded_int)
    except _HugeInt as exc:
        raise FactsError(
            f"facts JSON holds an integer of {exc.digits} digits (at most {MAX_INT_DIGITS})"
        ) from None
    except json.JSONDecodeError as exc:
        raise FactsError(f"facts are not valid JSON: {exc}") from None
    except RecursionError:
        raise FactsError("facts JSON is nested too deeply") from None
    except ValueError as exc:  # bytes that are not UTF-8, or any other refusal of json's
        raise FactsError(f"facts are not valid JSON: {str(exc).splitlines()[0][:200]}") from None
