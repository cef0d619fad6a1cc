"""Brightpearl's id sets ("1-5,99,202"), kept compact: read into ranges that are never expanded
wholesale, written back as text, and checked against Brightpearl in few lookups.

A webhook's id set is the sender's word for which records changed. A range costs a few
characters to send and expands to thousands of ids, so nothing here builds the list of ids
unless asked for a bounded number of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence

from connectors.webhooks import IdItem, ids_count, ids_expand

Ranges = list[IdItem]
# One lookup: the ids of a chunk in, the ones Brightpearl has out.
Lookup = Callable[[Ranges], set[int]]


def parse_idset(value: str) -> Ranges:
    """'7,1-3,2' -> [[1, 3], 7]: sorted, overlaps merged, a lone id as itself. Raises
    ValueError with the reason. Costs the number of parts, never the number of ids."""
    spans: list[tuple[int, int]] = []
    for part in str(value).split(","):
        part = part.strip()
        if not part:
            continue
        lo, sep, hi = part.partition("-")
        if not lo.isdigit() or (sep and not hi.isdigit()):
            raise ValueError(f"“{part[:40]}” is not an id or a range of ids.")
        start, end = int(lo), int(hi) if sep else int(lo)
        if end < start:
            raise ValueError(f"“{part[:40]}” is a range that runs backwards.")
        spans.append((start, end))
    if not spans:
        raise ValueError("The id set is empty.")
    spans.sort()
    merged: list[list[int]] = [list(spans[0])]
    for start, end in spans[1:]:
        last = merged[-1]
        if start <= last[1] + 1:
            last[1] = max(last[1], end)
        else:
            merged.append([start, end])
    return [a if a == b else [a, b] for a, b in merged]


def idset_text(items: Sequence[IdItem]) -> str:
    """[[1, 3], 7] -> '1-3,7'."""
    return ",".join(f"{i[0]}-{i[1]}" if isinstance(i, list) else str(i) for i in items)


def idset(ids: Iterable[int | str]) -> str:
    """Brightpearl's id-set syntax, with runs folded into ranges: 1,2,3,7 -> '1-3,7'."""
    numbers = sorted({int(i) for i in ids})
    parts: list[str] = []
    start = prev = None
    for n in numbers:
        if start is None:
            start = prev = n
        elif n == prev + 1:
            prev = n
        else:
            parts.append(str(start) if start == prev else f"{start}-{prev}")
            start = prev = n
    if start is not None:
        parts.append(str(start) if start == prev else f"{start}-{prev}")
    return ",".join(parts)


def _text_len(item: IdItem) -> int:
    return len(idset_text([item])) + 1  # and its comma


def idset_chunks(items: Sequence[IdItem], *, max_ids: int, max_chars: int) -> Iterator[Ranges]:
    """The items in order, in chunks of at most `max_ids` ids whose text is at most about
    `max_chars` long (a range wider than `max_ids` is split)."""
    chunk: Ranges = []
    count = chars = 0
    for item in items:
        lo, hi = (item[0], item[1]) if isinstance(item, list) else (item, item)
        while lo <= hi:
            take = min(hi - lo + 1, max_ids - count)
            piece: IdItem = lo if take == 1 else [lo, lo + take - 1]
            if chunk and (chars + _text_len(piece) > max_chars):
                yield chunk
                chunk, count, chars = [], 0, 0
                continue
            chunk.append(piece)
            count, chars, lo = count + take, chars + _text_len(piece), lo + take
            if count >= max_ids:
                yield chunk
                chunk, count, chars = [], 0, 0
    if chunk:
        yield chunk


def known_ids(
    id_sets: Sequence[Ranges], lookup: Lookup, *, max_ids: int, max_chars: int
) -> list[set[str]]:
    """For each id set, the ids Brightpearl has, costing at most one lookup per id set whose
    ids it does not know.

    - Id sets that fit one lookup are packed together: many small webhooks cost one lookup
      between them, not one each.
    - A larger set is looked up chunk by chunk and stops at the first chunk that finds
      nothing: the rest is taken as unknown. A real set whose first chunk was all deleted
      loses the rest to this, and the flow's next scheduled run (which reads every change
      by its date) picks those records up; that is the price of a junk set costing one
      lookup however it is spelt.
    """
    found: list[set[int]] = [set() for _ in id_sets]
    pack: list[int] = []
    size = chars = 0  # the pack's

    def flush() -> None:
        if not pack:
            return
        hits = lookup(parse_idset(idset_text([item for i in pack for item in id_sets[i]])))
        for i in pack:
            # Each packed set fits one lookup, so expanding it is bounded by max_ids.
            found[i] = {n for n in ids_expand(id_sets[i]) if n in hits}
        pack.clear()

    for index, items in enumerate(id_sets):
        count, text = ids_count(items), len(idset_text(items)) + 1
        if count > max_ids or text > max_chars:
            for chunk in idset_chunks(items, max_ids=max_ids, max_chars=max_chars):
                hits = lookup(chunk)
                found[index] |= hits
                if not hits:
                    break
            continue
        if pack and (size + count > max_ids or chars + text > max_chars):
            flush()
            size = chars = 0
        pack.append(index)
        size, chars = size + count, chars + text
    flush()
    return [{str(n) for n in ids} for ids in found]
