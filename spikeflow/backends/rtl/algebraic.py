"""Algebraic equivalence of two combinational arithmetic netlists (Yosys JSON, flip-flops removed): each output word as
a polynomial over the input bits, compared modulo 2^width.

SAT sweeping (ABC) proves two lane sums equal only where their additions are associated alike, node by node; a sum
regrouped over more than a handful of elements stays undecided (bench/reassociation_proof.py). Here the association
does not matter. Every net bit is one of
  - a small-support bit: a Boolean function of at most MAX_SUPPORT input bits, kept as a truth table (logic cells:
    $and, $or, $xor, $xnor, $not, $mux), or
  - bit i of an arithmetic word ($add, $sub, $neg, $pos, $mul, $shl/$sshl by a constant), whose value is kept as an
    exact integer polynomial P over the input bits (multilinear: x^2 = x) with word == P mod 2^width.
An operand's value is the sum of its bits' weights: a small-support bit contributes its truth table's polynomial (the
Moebius transform), the low n bits of a word contribute P. Those n bits equal P only modulo 2^n; where more than that
is needed (the bits sign- or zero-extended, or other bits above them), P's range must fit n bits. Bits k.. of a word
(a right shift by a constant, which Yosys turns into wiring) are read by splitting its exact value W = Q 2^k + R
coefficient by coefficient: when R provably lies in [0, 2^k), they are Q. Ranges are exact per group of variables
that share monomials, found by enumeration (MAX_GROUP variables at most); a larger group is bounded by the sums of
its negative and of its positive coefficients, which encloses its range. Anything else (a word's bits entering
logic, a split or range that cannot be shown, an unknown cell) leaves the check undecided: it never guesses.

A function {0,1}^n -> Z/2^w has exactly one multilinear polynomial, so the outputs are equal for all inputs if and
only if their polynomials are equal modulo 2^w; when they are not, the smallest monomial whose coefficient differs,
with its variables set to 1 and all others to 0, is an input where the outputs differ.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MAX_SUPPORT = 12  # input bits a logic bit may depend on
MAX_GROUP = 16  # variables of one independent group when a word's range is enumerated

Monomial = frozenset
Polynomial = dict[Monomial, int]
Bit = int | str


class Undecided(Exception):
    """The netlist uses a construct the algebraic check does not model; the message names it."""


@dataclass(frozen=True)
class Logic:
    """A small-support bit: truth table `table` over `support` (assignment a: bit i of a is support[i])."""

    support: tuple[Any, ...]
    table: int


@dataclass(frozen=True)
class WordBit:
    """Bit `index` of the arithmetic word driven by cell `cell`."""

    cell: str
    index: int


def add(a: Polynomial, b: Polynomial, k: int = 1) -> Polynomial:
    out = dict(a)
    for m, c in b.items():
        v = out.get(m, 0) + k * c
        if v:
            out[m] = v
        else:
            out.pop(m, None)
    return out


def multiply(a: Polynomial, b: Polynomial, modulus: int) -> Polynomial:
    """a * b with x^2 = x, without the monomials whose coefficient is a multiple of `modulus` (a word's product is
    only kept modulo 2^width); the others exact, so that ranges stay tight."""
    out: dict[Monomial, int] = defaultdict(int)
    for ma, ca in a.items():
        for mb, cb in b.items():
            out[ma | mb] += ca * cb
    return {m: c for m, c in out.items() if c % modulus}


def logic_polynomial(bit: Logic) -> Polynomial:
    """The multilinear polynomial of a truth table (Moebius transform over its support)."""
    n = len(bit.support)
    f = [(bit.table >> a) & 1 for a in range(1 << n)]
    for i in range(n):
        for a in range(1 << n):
            if a >> i & 1:
                f[a] -= f[a ^ (1 << i)]
    return {frozenset(bit.support[i] for i in range(n) if a >> i & 1): c for a, c in enumerate(f) if c}


def polynomial_range(p: Polynomial) -> tuple[int, int]:
    """Bounds lo <= p <= hi over {0,1}^n: the sum over groups of variables that share monomials of each group's
    extremes, found by enumeration (exact); a group of more than MAX_GROUP variables contributes the sum of its
    negative and of its positive coefficients instead (an enclosure of its range)."""
    parent: dict[Any, Any] = {}

    def find(v: Any) -> Any:
        while parent.setdefault(v, v) != v:
            parent[v] = parent[parent[v]]
            v = parent[v]
        return v

    for m in p:
        vs = list(m)
        for v in vs[1:]:
            parent[find(v)] = find(vs[0])
    groups: dict[Any, list[tuple[Monomial, int]]] = defaultdict(list)
    lo = hi = 0
    for m, c in p.items():
        if m:
            groups[find(next(iter(m)))].append((m, c))
        else:
            lo += c
            hi += c
    for terms in groups.values():
        variables = sorted({v for m, _ in terms for v in m}, key=repr)
        if len(variables) > MAX_GROUP:
            lo += sum(c for _, c in terms if c < 0)
            hi += sum(c for _, c in terms if c > 0)
            continue
        index = {v: i for i, v in enumerate(variables)}
        masks = [(sum(1 << index[v] for v in m), c) for m, c in terms]
        values = [sum(c for mask, c in masks if a & mask == mask) for a in range(1 << len(variables))]
        lo += min(values)
        hi += max(values)
    return lo, hi


def _reindex(bit: Logic, union: tuple[Any, ...]) -> int:
    pos = [union.index(v) for v in bit.support]
    out = 0
    for a in range(1 << len(union)):
        sub = 0
        for i, p in enumerate(pos):
            sub |= ((a >> p) & 1) << i
        out |= ((bit.table >> sub) & 1) << a
    return out


def _minimal(support: tuple[Any, ...], table: int) -> Logic:
    """The same function over only the support bits it depends on."""
    n = len(support)
    keep = [j for j in range(n)
            if any(((table >> a) & 1) != ((table >> (a | 1 << j)) & 1) for a in range(1 << n) if not a >> j & 1)]
    if len(keep) == n:
        return Logic(support, table)
    out = 0
    for a in range(1 << len(keep)):
        full = sum(((a >> i) & 1) << j for i, j in enumerate(keep))
        out |= ((table >> full) & 1) << a
    return Logic(tuple(support[j] for j in keep), out)


ZERO = Logic((), 0)
ONE = Logic((), 1)
LOGIC_FUNCTIONS: dict[str, Callable[..., int]] = {
    "$and": lambda a, b: a & b, "$or": lambda a, b: a | b, "$xor": lambda a, b: a ^ b,
    "$xnor": lambda a, b: 1 - (a ^ b), "$not": lambda a: 1 - a}
ARITHMETIC = ("$add", "$sub", "$neg", "$pos", "$mul", "$shl", "$sshl")


class Evaluation:
    """The bits and words of one module, evaluated on demand from its inputs. Input bit j of port P is the
    variable (P, j), so that two modules with the same ports share their variables."""

    def __init__(self, module: dict[str, Any]) -> None:
        self.cells: dict[str, dict[str, Any]] = module["cells"]
        self.bits: dict[Bit, Logic | WordBit] = {"0": ZERO, "1": ONE}
        self.words: dict[str, Polynomial] = {}
        for name, port in module["ports"].items():
            if port["direction"] == "input":
                for j, b in enumerate(port["bits"]):
                    self.bits[b] = Logic(((name, j),), 0b10)
        self.applied: set[str] = set()
        self.driver: dict[Bit, str] = {}
        for name, cell in self.cells.items():
            for port, bits in cell["connections"].items():
                if cell["port_directions"][port] == "output":
                    for b in bits:
                        self.driver[b] = name

    def bit(self, b: Bit) -> Logic | WordBit:
        if b not in self.bits:
            if b not in self.driver:
                raise Undecided(f"bit {b!r} is undefined or undriven")
            self._evaluate(self.driver[b])
        return self.bits[b]

    def _evaluate(self, name: str) -> None:
        stack = [name]  # the cells driving a cell's inputs first, without recursion
        while stack:
            if stack[-1] in self.applied:
                stack.pop()
                continue
            cell = self.cells[stack[-1]]
            pending = list(dict.fromkeys(self.driver[b] for port, bits in cell["connections"].items()
                                         if cell["port_directions"][port] == "input" for b in bits
                                         if b not in self.bits and b in self.driver))
            if pending:
                stack.extend(pending)
                continue
            self._apply(stack[-1], cell)
            self.applied.add(stack.pop())

    def _apply(self, name: str, cell: dict[str, Any]) -> None:
        kind = cell["type"]
        conn = cell["connections"]
        params = {k: int(v, 2) if isinstance(v, str) and v and set(v) <= {"0", "1"} else v
                  for k, v in cell.get("parameters", {}).items()}
        y = conn["Y"] if "Y" in conn else []
        if kind == "$mux":
            a, b, s = conn["A"], conn["B"], conn["S"]
            for i, out in enumerate(y):
                self.bits[out] = self._gate(lambda p, q, r: q if r else p, [a[i], b[i], s[0]])
        elif kind in LOGIC_FUNCTIONS:
            ports = ["A"] if kind == "$not" else ["A", "B"]
            if len({params.get(f"{p}_SIGNED", 0) for p in ports}) > 1:
                raise Undecided(f"cell {name} ({kind}) mixes signed and unsigned operands")
            operands = [self._extended(conn[p], bool(params.get(f"{p}_SIGNED", 0)), len(y)) for p in ports]
            for i, out in enumerate(y):
                self.bits[out] = self._gate(LOGIC_FUNCTIONS[kind], [op[i] for op in operands])
        elif kind in ARITHMETIC:
            self.words[name] = self._arithmetic(name, kind, conn, params, len(y))
            for i, out in enumerate(y):
                self.bits[out] = WordBit(name, i)
        else:
            raise Undecided(f"cell {name} of type {kind} is not modelled")

    def _arithmetic(self, name: str, kind: str, conn: dict[str, list[Bit]], params: dict[str, Any],
                    width: int) -> Polynomial:
        if kind in ("$pos", "$neg", "$shl", "$sshl"):
            signed = bool(params.get("A_SIGNED", 0))
        else:  # Yosys: signed arithmetic only when both operands are signed
            signed = bool(params.get("A_SIGNED", 0)) and bool(params.get("B_SIGNED", 0))
        a = self.value(conn["A"], signed, width)
        if kind == "$pos":
            return a
        if kind == "$neg":
            return {m: -c for m, c in a.items()}
        if kind in ("$shl", "$sshl"):
            amount = self.value(conn["B"], False, len(conn["B"]) + 1)
            if set(amount) - {frozenset()}:
                raise Undecided(f"cell {name} shifts by a variable amount")
            return {m: c << amount.get(frozenset(), 0) for m, c in a.items()}
        b = self.value(conn["B"], signed, width)
        if kind == "$add":
            return add(a, b)
        if kind == "$sub":
            return add(a, b, -1)
        for x, y in ((a, b), (b, a)):  # $mul: one operand constant
            if set(y) <= {frozenset()}:
                k = y.get(frozenset(), 0)
                return {m: c * k for m, c in x.items()} if k else {}
        return multiply(a, b, 1 << width)

    def _extended(self, bits: list[Bit], signed: bool, width: int) -> list[Bit]:
        bits = list(bits) or ["0"]
        while len(bits) < width:
            bits.append(bits[-1] if signed else "0")
        return bits[:width]

    def _gate(self, fn: Callable[..., int], inputs: list[Bit]) -> Logic:
        values = [self.bit(b) for b in inputs]
        logic: list[Logic] = []
        for v in values:
            if not isinstance(v, Logic):
                raise Undecided(f"bit {v.index} of arithmetic word {v.cell} enters logic")
            logic.append(v)
        union = tuple(dict.fromkeys(s for v in logic for s in v.support))
        if len(union) > MAX_SUPPORT:
            raise Undecided(f"a logic bit depends on {len(union)} input bits (at most {MAX_SUPPORT})")
        tables = [_reindex(v, union) for v in logic]
        table = 0
        for a in range(1 << len(union)):
            table |= (fn(*[(t >> a) & 1 for t in tables]) & 1) << a
        return _minimal(union, table)

    def _high_bits(self, cell: str, k: int) -> Polynomial:
        """Q with bits k.. of word `cell` == Q mod 2^(width-k), from its exact value W = Q 2^k + R, 0 <= R < 2^k."""
        width = len(self.cells[cell]["connections"]["Y"])
        exact = self.words[cell]
        lo, hi = polynomial_range(exact)
        if not 0 <= lo <= hi < 1 << width:  # the word is P modulo 2^width: try P's coefficients reduced
            exact = {m: c % (1 << width) for m, c in exact.items() if c % (1 << width)}
            lo, hi = polynomial_range(exact)
            if not 0 <= lo <= hi < 1 << width:
                raise Undecided(f"word {cell}'s exact value is not known ({lo}..{hi} is not within {width} bits), "
                                f"so its bits from {k} up are not")
        high = {m: c >> k for m, c in exact.items() if c >> k}
        low = {m: c - ((c >> k) << k) for m, c in exact.items() if c - ((c >> k) << k)}
        lo, hi = polynomial_range(low)
        if not 0 <= lo <= hi < 1 << k:
            raise Undecided(f"bits from {k} up of word {cell}: the part below ranges over {lo}..{hi} and may carry")
        return high

    def value(self, bits: list[Bit], signed: bool, width: int) -> Polynomial:
        """A polynomial congruent modulo 2^width to the bits `bits`, extended to `width` (sign-extended when
        `signed`). Raises Undecided where that needs a word's range and the range does not fit."""
        bits = self._extended(bits, signed, width)
        # a run of copies of the top bit (a sign extension): its lowest copy weighs -2^position, the others drop
        top = len(bits) - 1
        while top > 0 and bits[top - 1] == bits[-1] and bits[-1] not in ("0", "1"):
            top -= 1
        negative_top = top < len(bits) - 1
        bits = bits[:top + 1]
        out: Polynomial = {}
        i = 0
        while i < len(bits):
            v = self.bit(bits[i])
            if isinstance(v, Logic):
                weight = -(1 << i) if negative_top and i == len(bits) - 1 else 1 << i
                out = add(out, logic_polynomial(v), weight)
                i += 1
                continue
            n = 1
            while i + n < len(bits) and self.bit(bits[i + n]) == WordBit(v.cell, v.index + n):
                n += 1
            p = self.words[v.cell] if v.index == 0 else self._high_bits(v.cell, v.index)
            at_top = i + n == len(bits)
            if at_top and negative_top:  # the word's low n bits read as a signed number
                lo, hi = polynomial_range(p)
                if not -(1 << (n - 1)) <= lo <= hi < 1 << (n - 1):
                    raise Undecided(f"word {v.cell} ranges over {lo}..{hi} and is read as {n}-bit signed")
            elif not at_top:  # read as an unsigned number below other bits
                lo, hi = polynomial_range(p)
                if not 0 <= lo <= hi < 1 << n:
                    raise Undecided(f"word {v.cell} ranges over {lo}..{hi} and is read as {n}-bit unsigned")
            out = add(out, p, 1 << i)  # at the top without sign copies: P modulo 2^width is all that counts
            i += n
        return out


def output_polynomial(module: dict[str, Any], port: str, lo: int = 0,
                      width: int | None = None) -> tuple[Polynomial, int]:
    """The polynomial of bits lo .. lo+width-1 (default: all) of output `port` of a combinational module, read as an
    unsigned number, coefficients reduced modulo 2^width; and width."""
    bits = module["ports"][port]["bits"]
    bits = bits[lo:] if width is None else bits[lo:lo + width]
    p = Evaluation(module).value(bits, False, len(bits))
    modulus = 1 << len(bits)
    return {m: c % modulus for m, c in p.items() if c % modulus}, len(bits)


def compare(module_a: dict[str, Any], module_b: dict[str, Any], port: str, word_bits: int | None = None
            ) -> tuple[str, str]:
    """("equivalent" | "different" | "undecided", detail) for output `port` of two combinational modules whose
    input ports have the same names and widths; with `word_bits`, each word of that many bits of the port (a lane)
    is compared on its own, modulo 2^word_bits."""
    width_a = len(module_a["ports"][port]["bits"])
    width_b = len(module_b["ports"][port]["bits"])
    if width_a != width_b:
        return "different", f"{port} is {width_a} bits wide on one side and {width_b} on the other"
    step = word_bits or width_a
    monomials = 0
    for lo in range(0, width_a, step):
        where = f"{port}[{lo + step - 1}:{lo}]" if word_bits else port
        try:
            pa, width = output_polynomial(module_a, port, lo, step)
            pb, _ = output_polynomial(module_b, port, lo, step)
        except Undecided as exc:
            return "undecided", f"algebraic check, {where}: {exc}"
        diff = {m: (pa.get(m, 0) - pb.get(m, 0)) % (1 << width) for m in set(pa) | set(pb)}
        diff = {m: c for m, c in diff.items() if c}
        if diff:
            witness = min(diff, key=lambda m: (len(m), sorted(m, key=repr)))
            ones = ", ".join(f"{p}[{j}]" for p, j in sorted(witness, key=repr)) or "none"
            return "different", f"{where} differs with these input bits 1 and all others 0: {ones}"
        monomials += len(pa)
    words = f" in {width_a // step} words of {step} bits" if word_bits else ""
    return "equivalent", f"equal polynomials modulo 2^{step}{words} ({monomials} monomials)"
