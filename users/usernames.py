"""Look-alike usernames: one comparison key per name, so ``аlice`` (Cyrillic а) cannot join
next to ``alice``, nor ``STRASSE`` next to ``straße``.

The key is Unicode's recipe for "do these two strings look the same" (UTS #39), simplified:
NFKC (fullwidth, ligatures, compatibility forms), casefold (``ß`` -> ``ss``), then every
character replaced by one representative of its confusable class, from the Unicode
confusables data shipped with ``confusable_homoglyphs``. Two names with one key are refused
as duplicates; names themselves are stored as typed (NFKC).
"""

from __future__ import annotations

import functools
import json
import unicodedata
from pathlib import Path

import confusable_homoglyphs

_BIDI_MARKS = str.maketrans("", "", "\u200e\u200f")


@functools.cache
def _representatives() -> dict[str, str]:
    """Character -> the smallest code point confusable with it (transitively), single
    characters only: union-find over the pairs of Unicode's confusables table."""
    path = Path(confusable_homoglyphs.__file__).with_name("confusables.json")
    table = json.loads(path.read_text(encoding="utf-8"))
    parent: dict[str, str] = {}

    def find(char: str) -> str:
        while parent.get(char, char) != char:
            parent[char] = parent.get(parent[char], parent[char])
            char = parent[char]
        return char

    for char, homoglyphs in table.items():
        for homoglyph in homoglyphs:
            other = homoglyph["c"].translate(_BIDI_MARKS)
            if len(char) == 1 and len(other) == 1:
                a, b = find(char), find(other)
                if a != b:
                    low, high = sorted((a, b))
                    parent[high] = low
    return {char: find(char) for char in parent}


def username_fold(username: str) -> str:
    """The sign-in form of a name: NFKC then casefold, so ``ALICE`` and fullwidth ``ａｌｉｃｅ``
    name ``alice``. Unlike :func:`username_key` it keeps homoglyphs apart: a Cyrillic ``а``
    typed at sign-in is a different name, never a way into the Latin account."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", username.strip()).casefold())


def username_key(username: str) -> str:
    """The comparison key of a username: equal keys look alike.

    Equal folds (:func:`username_fold`) always give equal keys, so the indexed key finds
    every account a sign-in name may fold to.
    """
    representatives = _representatives()
    skeleton = "".join(representatives.get(char, char) for char in username_fold(username))
    return unicodedata.normalize("NFKC", skeleton)
