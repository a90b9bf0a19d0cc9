"""Keyword scanning: an Aho-Corasick automaton per script, plus gap ("A…B") patterns.

All keywords of one script go into one automaton; a scan finds, at every position, the
longest keyword starting there.
Overlapping keywords are all reported; a keyword inside a longer one ("运费" inside
"运费险") is dropped, which is how longer phrases and `_neutral` words take precedence.
"""

from __future__ import annotations

import re

from ahocorasick_rs import AhoCorasick, Implementation

from .normalise import CJK, en_view, normalise

_ZH_PUNCT = r"[^,.!?;:，。！？；：、~\s]"
_BRACES = re.compile(r"\{([^{}]*)\}")
_Table = dict[str, list[tuple[str, str]]]


Hit = tuple[str, str, int, int]
"""One keyword occurrence: (intent, the word as the lexicon/shop wrote it, start, end)."""


class Matcher:
    """Scanner for one script.

    Chinese: scans the normalised text. English (`english=True`): scans a padded
    `en_view` (" tok tok "), so every keyword starts with a space and whole tokens match.
    `gaps` are (A, B, intent, label) entries for "A…B" keywords: A joins the trie, and
    only where A is found is the short tail regex for B tried.
    """

    def __init__(
        self,
        words: dict[str, list[tuple[str, str]]],
        gaps: list[tuple[str, str, str, str]],
        *,
        english: bool,
    ) -> None:
        heads: dict[str, dict[str, list[tuple[str, str]]]] = {}
        for a, b, intent, label in gaps:
            heads.setdefault(a, {}).setdefault(b, []).append((intent, label))
        self._tails = {}
        for a, tails in heads.items():
            alt = "|".join(re.escape(b) for b in sorted(tails, key=len, reverse=True))
            gap = "(?: [a-z0-9']+){0,3} " if english else _ZH_PUNCT + "{0,6}?"
            self._tails[a] = (re.compile(f"{gap}(?:{alt})" + ("(?= )" if english else "")), tails)
        # entry word -> (its hits, or those of its longest keyword prefix; gap heads it starts with)
        self._entries: dict[str, tuple[list[tuple[str, str]], int, list[str]]] = {}
        for w in set(words) | set(heads):
            own = (
                w
                if w in words
                else max((k for k in words if _prefix(k, w, english)), key=len, default="")
            )
            starts = [a for a in heads if _prefix(a, w, english)]
            self._entries[w] = (words.get(own, []), len(own), starts)
        words = list(self._entries)
        self._info = [self._entries[w] for w in words]  # by the automaton's word index
        self._automaton = (  # a contiguous NFA: ~0.8 MB per Classifier, a DFA ~3.7 MB
            AhoCorasick(words, implementation=Implementation.ContiguousNFA) if words else None
        )
        self._english = english

    def scan(self, view: str) -> list[Hit]:
        """All keyword hits (intent, label, start, end) in `view`, in text order.

        A keyword lying inside a longer keyword that starts earlier is left out.
        """
        hits: list[Hit] = []
        info, max_end = self._info, -1
        for start, index in self._longest_words(view):
            own, size, heads = info[index]
            end = start + size
            if own and end > max_end:
                max_end = end
                hits.extend([(i, label, start, end) for i, label in own])
            for a in heads:
                tail_re, tails = self._tails[a]
                t = tail_re.match(view, start + len(a))
                if t:
                    b = max((b for b in tails if t.group().endswith(b)), key=len)
                    hits.extend([(i, label, start, t.end()) for i, label in tails[b]])
        return hits

    def _longest_words(self, view: str) -> list[tuple[int, int]]:
        """(start, index of the longest entry word starting there) at every position that
        starts one, in text order; English words start and end at token boundaries (the
        spaces of en_view).

        One pass of an Aho-Corasick automaton (ahocorasick-rs: Rust) finds every
        occurrence of every word, in order of their ends; so the last one reported for
        a start is the longest. Walking a trie of dicts in Python instead took ~6x the
        instructions and was the classifier's hottest loop."""
        if self._automaton is None:
            return []
        found = self._automaton.find_matches_as_indexes(view, overlapping=True)
        if self._english:
            last = len(view) - 1
            longest = {s: i for i, s, e in found if s and view[s - 1] == " " and e <= last
                       and view[e] == " "}
        else:
            longest = {s: i for i, s, _ in found}
        return sorted(longest.items())


def _prefix(short: str, long: str, english: bool) -> bool:
    """`short` is a prefix of `long` (ending at a token boundary for English)."""
    return long.startswith(short) and (
        not english or len(long) == len(short) or long[len(short)] == " "
    )


def _expand(entry: str) -> list[str]:
    m = _BRACES.search(entry)
    if not m:
        return [entry]
    head, tail = entry[: m.start()], entry[m.end() :]
    return [w for alt in m.group(1).split("|") for w in _expand(head + alt + tail)]


class Builder:
    """Collects normalised keywords per script before compiling the matchers."""

    def __init__(self) -> None:
        self.words: dict[bool, _Table] = {False: {}, True: {}}
        self.gaps: dict[bool, list[tuple[str, str, str, str]]] = {False: [], True: []}

    def add(self, intent: str, raw: str) -> None:
        for word in _expand(raw):
            parts = [normalise(p) for p in word.split("…")]
            if not all(parts) or len(parts) > 2:
                continue
            english = not any(CJK.search(p) for p in parts)
            if english:
                parts = [en_view(p).strip() for p in parts]
            if len(parts) == 2:
                self.gaps[english].append((parts[0], parts[1], intent, word))
                continue
            entries = self.words[english].setdefault(parts[0], [])
            if all(i != intent for i, _ in entries):
                entries.append((intent, word))
