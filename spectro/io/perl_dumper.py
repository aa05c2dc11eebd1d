"""Safe reader for the Perl ``Data::Dumper`` text of old Athena projects.

Old Athena project files (Demeter before the JSON variant) are Perl source
written by ``Data::Dumper``: one statement per group field, separated by
``[record]`` marker lines, such as::

    $old_group = 'naqow';
    @x = ('8133.0','8143.0','8153.0');

Athena itself evaluates that text as Perl; this module parses it instead,
accepting only literal data:

- single-quoted strings (``\\\\`` and ``\\'`` are the only escapes, as in Perl),
  double-quoted strings (``\\n``, ``\\t``, ``\\\\``, ``\\"``, ``\\$``, ``\\@`` and
  ``\\x{hex}``), numbers, ``undef``;
- lists ``( ... )`` and array references ``[ ... ]``, hash references
  ``{ key => value, ... }``, and ``bless( value, 'Class' )`` (the class is
  dropped);
- statements ``$name = value;`` and ``@name = value;``, ``#`` comments, the
  ``[record]`` separator and the closing ``1;``.

Anything else (function calls, interpolation, arithmetic) is a
:class:`~spectro.errors.FormatError` giving the line number. Nothing is
ever evaluated.

Examples
--------
>>> records = parse_records("$old_group = 'ab';\\n@x = ('1.5',2);\\n[record]\\n1;\\n")
>>> records.records
[{'old_group': 'ab', 'x': ['1.5', 2]}]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import FormatError

__all__ = ["PerlRecords", "parse_records", "parse_value"]

_TOKEN = re.compile(
    r"""
    (?P<space>\s++|\#[^\r\n]*+)
  | (?P<single>'(?:[^'\\]++|\\.)*+')
  | (?P<double>"(?:[^"\\]++|\\.)*+")
  | (?P<number>[-+]?+(?>\d++\.?+\d*+|\.\d++)(?>[eE][-+]?+\d++)?+(?![\w.]))
  | (?P<arrow>=>)
  | (?P<punct>[\[\](){},;=])
  | (?P<variable>[$@%][A-Za-z_]\w*+)
  | (?P<word>[A-Za-z_][\w:]*+)
    """,
    re.VERBOSE | re.DOTALL,
)
_SCALAR = r"'[^'\\\n]*+'|[-+]?+(?>\d++\.?+\d*+|\.\d++)(?>[eE][-+]?+\d++)?+(?![\w.])"
#: A list of plain quoted strings and numbers up to its closing bracket: read in one step.
_FLAT = re.compile(rf"\s*+((?:(?:{_SCALAR})\s*+,\s*+)*+(?:(?:{_SCALAR})\s*+,?+\s*+)?+)([)\]])")
_FLAT_ITEM = re.compile(rf"{_SCALAR}")
_DOUBLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "e": "\x1b", "a": "\a"}
_DOUBLE_ESCAPE = re.compile(r"\\(x\{[0-9a-fA-F]+\}|x[0-9a-fA-F]{1,2}|.)", re.DOTALL)
_CLOSING = {"(": ")", "[": "]", "{": "}"}


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    pos: int


@dataclass
class PerlRecords:
    """Statements of a Data::Dumper text, grouped by ``[record]`` lines.

    Attributes
    ----------
    records : list of dict
        One dict per ``[record]`` block: variable name (without sigil) to value.
    trailing : dict
        Statements after the last ``[record]`` (e.g. ``journal``).
    """

    records: list[dict[str, Any]] = field(default_factory=list)
    trailing: dict[str, Any] = field(default_factory=dict)


def _unquote_single(text: str) -> str:
    return re.sub(r"\\([\\'])", r"\1", text[1:-1])


def _unquote_double(text: str) -> str:
    def replace(match: re.Match) -> str:
        esc = match.group(1)
        if esc.startswith("x"):
            return chr(int(esc[1:].strip("{}"), 16))
        return _DOUBLE_ESCAPES.get(esc, esc)

    return _DOUBLE_ESCAPE.sub(replace, text[1:-1])


class _Parser:
    """A recursive-descent parser over the text, reading one token ahead (no token list is kept)."""

    def __init__(self, text: str, file: object | None, max_depth: int = 64) -> None:
        self.text = text
        self.file = file
        self.max_depth = max_depth
        self.pos = 0
        self._next: _Token | None = None
        self._advance()

    def _line(self, pos: int) -> int:
        return self.text.count("\n", 0, pos) + self.text.count("\r", 0, pos) - self.text.count("\r\n", 0, pos) + 1

    def error(self, problem: str, pos: int | None = None) -> FormatError:
        if pos is None:
            pos = self._next.pos if self._next is not None else len(self.text)
        return FormatError(f"Athena project text, line {self._line(pos)}: {problem}", file=self.file)

    def _advance(self) -> None:
        text, n, pos = self.text, len(self.text), self.pos
        while pos < n:
            match = _TOKEN.match(text, pos)
            if match is None:
                snippet = text[pos : pos + 20].splitlines()[0] if text[pos:pos + 20].strip() else ""
                if text[pos] in "'\"":
                    raise self.error("unterminated string (is the file truncated?)", pos)
                raise self.error(f"unexpected text {snippet!r}", pos)
            kind = match.lastgroup
            if kind != "space":
                self._next = _Token(kind, match.group(), pos)
                self.pos = match.end()
                return
            pos = match.end()
        self._next = None
        self.pos = n

    def peek(self) -> _Token | None:
        return self._next

    def take(self, text: str | None = None) -> _Token:
        tok = self._next
        if tok is None:
            raise self.error("unexpected end of text (is the file truncated?)")
        if text is not None and tok.text != text:
            raise self.error(f"expected {text!r}, found {tok.text[:20]!r}")
        self._advance()
        return tok

    def value(self, depth: int = 0) -> Any:
        tok = self.take()
        if tok.kind == "single":
            return _unquote_single(tok.text)
        if tok.kind == "double":
            return _unquote_double(tok.text)
        if tok.kind == "number":
            return _number(tok.text)
        if tok.kind == "word" and tok.text == "undef":
            return None
        if tok.kind == "word" and tok.text == "bless":
            if depth >= self.max_depth:
                raise self._too_deep(tok.pos)
            self.take("(")
            obj = self.value(depth + 1)
            self.take(",")
            self.value(depth + 1)
            self.take(")")
            return obj
        if tok.text in _CLOSING:
            if depth >= self.max_depth:
                raise self._too_deep(tok.pos)
            items = self._flat(tok)
            if items is None:
                items = self.sequence(_CLOSING[tok.text], depth + 1)
            if tok.text == "{":
                if len(items) % 2:
                    raise self.error("hash with an odd number of elements", tok.pos)
                return {str(k): v for k, v in zip(items[::2], items[1::2])}
            return items
        raise self.error(f"unexpected {tok.text[:20]!r} where a value was expected", tok.pos)

    def _too_deep(self, pos: int) -> FormatError:
        from ..errors import LimitError

        return LimitError(
            f"Athena project text, line {self._line(pos)}: lists nested more than {self.max_depth} deep "
            "(the limit max_depth; --max-depth on the command line)",
            file=self.file,
        )

    def _flat(self, opening: _Token) -> list[Any] | None:
        """The items of a list of plain strings and numbers, read in one step (None for any other list)."""
        if opening.text == "{":
            return None
        start = opening.pos + 1
        match = _FLAT.match(self.text, start)
        if match is None or match.group(2) != _CLOSING[opening.text]:
            return None
        items = [item[1:-1] if item[0] == "'" else _number(item) for item in _FLAT_ITEM.findall(match.group(1))]
        self.pos = match.end()
        self._advance()
        return items

    def sequence(self, closing: str, depth: int = 0) -> list[Any]:
        items: list[Any] = []
        while True:
            tok = self.peek()
            if tok is None:
                raise self.error(f"missing {closing!r} (is the file truncated?)")
            if tok.text == closing:
                self._advance()
                return items
            items.append(self.value(depth))
            tok = self.peek()
            if tok is not None and tok.text in (",", "=>"):
                self._advance()
            elif tok is None or tok.text != closing:
                raise self.error(f"expected ',' or {closing!r}")

    def records(self) -> PerlRecords:
        out = PerlRecords()
        current: dict[str, Any] = {}
        while (tok := self.peek()) is not None:
            if tok.text == "[":
                self.take("[")
                word = self.take()
                self.take("]")
                if word.text != "record":
                    raise self.error(f"unknown marker [{word.text}]", tok.pos)
                out.records.append(current)
                current = {}
            elif tok.kind == "variable":
                self._advance()
                self.take("=")
                current[tok.text[1:]] = self.value()
                self.take(";")
            elif tok.kind == "number":
                self._advance()
                self.take(";")
            else:
                raise self.error(f"unexpected {tok.text[:20]!r} at the start of a statement", tok.pos)
        out.trailing = current
        return out


def _number(text: str) -> int | float:
    return float(text) if any(c in text for c in ".eE") else int(text)


def parse_records(text: str, *, file: object | None = None, max_depth: int = 64) -> PerlRecords:
    """Parse Data::Dumper statements separated by ``[record]`` lines.

    Parameters
    ----------
    text : str
        The decompressed project text.
    file : str or path-like, optional
        Named in errors.
    max_depth : int
        Deepest nesting of lists, hashes and ``bless`` allowed; deeper is a
        :class:`~spectro.errors.LimitError`.

    Returns
    -------
    PerlRecords

    Raises
    ------
    FormatError
        On anything that is not literal data, naming the line.

    Examples
    --------
    >>> parse_records("@args = ('label','  Ref a','n',3);\\n[record]\\n").records
    [{'args': ['label', '  Ref a', 'n', 3]}]
    >>> parse_records("system('rm');")
    Traceback (most recent call last):
    ...
    spectro.errors.FormatError: Athena project text, line 1: unexpected 'system' at the start of a statement
    """
    return _Parser(text, file, max_depth).records()


def parse_value(text: str, *, file: object | None = None) -> Any:
    """Parse one Perl literal (string, number, list, hash, ``bless``).

    Examples
    --------
    >>> parse_value("{'a' => [1, 'x\\\\'y'], 'b' => undef}")
    {'a': [1, "x'y"], 'b': None}
    >>> parse_value('"caf\\\\x{e9}"')
    'café'
    """
    parser = _Parser(text, file)
    value = parser.value()
    if parser.peek() is not None:
        raise parser.error("text after the value")
    return value
