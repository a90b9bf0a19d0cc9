"""Text normalisation shared by the lexicon compiler and the classifier.

`normalise` turns a raw buyer message into one canonical string: NFKC (full-width to
half-width), lower case, traditional to simplified Chinese (t2s), runs of 3+
identical characters collapsed ("在吗吗吗", "???", "soooo"), common Chinese typos
fixed, and the pinyin of common shop-chat words written in Chinese (pinyin.py).
`en_view` turns that string into space-separated, lightly stemmed English tokens
(contractions expanded, common misspellings fixed), so English keywords match on word
boundaries and regardless of "ship/shipped/shipping".
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from .pinyin import from_pinyin
from .t2s import to_simplified

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
ASCII_WORD = re.compile(r"[a-z0-9]")

# Homophone typos and chat slang (already simplified) -> standard form.
_ZH_FIXES = {
    "神马": "什么",
    "啥时候": "什么时候",
    "几时": "什么时候",
    "何时": "什么时候",
    "肿么": "怎么",
    "咋": "怎么",
    "木有": "没有",
    "米有": "没有",
    "没得": "没有",
    "快地": "快递",
    "快第": "快递",
    "快弟": "快递",
    "物留": "物流",
    "发或": "发货",
    "退宽": "退款",
    "退欵": "退款",
    "东东": "东西",
    "介个": "这个",
    "酱紫": "这样",
    "好滴": "好的",
    "在嘛": "在吗",
    "在麽": "在吗",
    "在么": "在吗",
}
_ZH_FIX_RE = re.compile("|".join(sorted(map(re.escape, _ZH_FIXES), key=len, reverse=True)))
# Runs of 3+ letters/punctuation ("sooo", "???"); CJK keywords match inside runs anyway.
_REPEAT = re.compile(r"([a-z?!.,~。，！？、…])\1{2,}")


def _fullwidth_table() -> list[int]:
    """A str.translate table (indexed by BMP code point) that folds full-width
    ASCII (U+FF01-FF5E) and the ideographic space (U+3000) to ASCII, and keeps every
    other character. These are exactly their NFKC forms, and they are what makes
    most Chinese chat lines ("在吗？", "发货了吗，") not NFKC-normalised, so folding them
    first spares the full NFKC pass for nearly every message. A list, not a dict: a
    dict table raises and catches a KeyError for every character it does not map
    (str.translate, CPython; characters past the BMP still take that path). The list
    costs about 2 MB once per process."""
    table = list(range(0x10000))
    table[0x3000] = 0x20
    for code in range(0xFF01, 0xFF5F):
        table[code] = code - 0xFEE0
    return table


_FULLWIDTH = _fullwidth_table()
_QUOTE_CHARS = re.compile("[\u2018\u2019`\u201c\u201d]")
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u201c": '"', "\u201d": '"'})


def normalise(text: str) -> str:
    """Return the canonical form of `text` that every keyword is matched against."""
    if not text:
        return ""
    if not text.isascii():
        text = text.translate(_FULLWIDTH)  # NFKC(folded) == NFKC(text): the folds are NFKC's
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    t = " ".join(text.lower().split())
    if _QUOTE_CHARS.search(t):
        t = t.translate(_QUOTES)
    if _REPEAT.search(t):
        t = _REPEAT.sub(r"\1", t)
    if ASCII_WORD.search(t):
        t = from_pinyin(t)
    if CJK.search(t):
        t = to_simplified(t)
        if _ZH_FIX_RE.search(t):
            t = _ZH_FIX_RE.sub(lambda m: _ZH_FIXES[m.group()], t)
    return t


_EN_FIXES = {
    "dont": "do not",
    "doesnt": "does not",
    "didnt": "did not",
    "isnt": "is not",
    "arent": "are not",
    "wasnt": "was not",
    "werent": "were not",
    "hasnt": "has not",
    "havent": "have not",
    "hadnt": "had not",
    "cant": "can not",
    "cannot": "can not",
    "couldnt": "could not",
    "wont": "will not",
    "wouldnt": "would not",
    "shouldnt": "should not",
    "im": "i am",
    "ive": "i have",
    "wheres": "where is",
    "whats": "what is",
    "whens": "when is",
    "hows": "how is",
    "thats": "that is",
    "theres": "there is",
    "youre": "you are",
    "theyre": "they are",
    "u": "you",
    "ur": "your",
    "r": "are",
    "pls": "please",
    "plz": "please",
    "plse": "please",
    "thx": "thanks",
    "thanx": "thanks",
    "tks": "thanks",
    "ty": "thanks",
    "recieve": "receive",
    "recieved": "received",
    "recived": "received",
    "pacakge": "package",
    "packge": "package",
    "pakage": "package",
    "pkg": "package",
    "parcle": "parcel",
    "adress": "address",
    "addres": "address",
    "refnd": "refund",
    "refud": "refund",
    "shiping": "shipping",
    "shiped": "shipped",
    "delivary": "delivery",
    "delievery": "delivery",
    "wat": "what",
    "wen": "when",
    "whr": "where",
    "b4": "before",
    "tmr": "tomorrow",
    "tmrw": "tomorrow",
    "msg": "message",
    "cuz": "because",
    "nvm": "never mind",
    "colour": "color",
    "ppl": "people",
}
_TOKEN = re.compile(r"[a-z0-9']+|[^\sa-z0-9']+")


_PROTECTED = frozenset({"not", "no", "on", "in", "is", "us", "it", "do"})


def _stem(word: str) -> str:
    """Crude suffix stripper: shipped/shipping/ships -> ship, arrived/arrive -> arriv."""
    w = word
    if len(w) <= 3 or not w.isalpha():
        return w
    for suf in ("ing", "ed", "es", "s"):
        if w.endswith(suf) and len(w) - len(suf) >= 3:
            if suf == "s" and w.endswith(("ss", "us", "is")):
                break
            w = w[: -len(suf)]
            if suf in ("ing", "ed") and w[-1] == w[-2] and w[-1] not in "lsz":
                w = w[:-1]
            break
    if w.endswith("e") and len(w) > 3:
        w = w[:-1]
    return w if w not in _PROTECTED else word


_APOSTROPHES = {
    "it's": "it is",
    "i'll": "i will",
    "you'll": "you will",
    "we'll": "we will",
    "they'll": "they will",
    "can't": "can not",
    "won't": "will not",
    "what's": "what is",
    "where's": "where is",
    "that's": "that is",
    "there's": "there is",
    "how's": "how is",
    "when's": "when is",
    "who's": "who is",
    "let's": "let us",
    "i'd": "i would",
}


@lru_cache(maxsize=65536)
def _word(tok: str) -> str:
    if not ASCII_WORD.match(tok):
        return tok
    tok = tok.strip("'")
    if "'" in tok:
        if tok in _APOSTROPHES:
            tok = _APOSTROPHES[tok]
        elif tok.endswith("n't"):
            tok = tok[:-3] + " not"
        elif tok.endswith("'s"):
            tok = tok[:-2]
        tok = tok.replace("'", "")
    return " ".join(_stem(w) for part in tok.split() for w in _split(part))


def _split(word: str) -> list[str]:
    return _EN_FIXES.get(word, word).split()


def en_view(norm: str) -> str:
    """Stemmed tokens of a normalised string joined and padded by single spaces.

    Punctuation and CJK runs are kept as tokens, so phrases never match across them.
    """
    return " " + " ".join(map(_word, _TOKEN.findall(norm))) + " "
