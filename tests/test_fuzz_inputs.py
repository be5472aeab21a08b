"""Fuzzing every parser of user input: whatever the bytes, one clear line or success.

Each parser (event files as JSONL and CSV, topology, profile and plan files,
``twin append``'s ``key=value``) is fed structured inputs (plausible records
with wrong types, unknown fields, control characters, huge numbers, deep
nesting, duplicate keys) and byte-level ones (random bytes, and valid files
with bytes flipped, cut or inserted). The property is the house rule: the
input is accepted, or refused with :class:`~twin.errors.TwinInputError`, which
the CLI prints as one terminal-safe line with exit 2; never another exception,
never a traceback; and a refused import or append writes nothing.

The parsers are called directly (milliseconds each); the CLI's mapping of
their errors to one line is checked on a sample through ``twin`` itself.
``TWIN_FUZZ_EXAMPLES=2000 uv run pytest tests/test_fuzz_inputs.py`` runs a
long campaign; the default keeps the suite quick.
"""

from __future__ import annotations

import json
import math
import os
import string
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from journal import Journal
from tests.cli_helpers import run_twin
from twin.errors import TwinInputError
from twin.event_files import read_event_file
from twin.events import CORE_EVENTS, default_registry
from twin.plan.parse import read_plan
from twin.plugin_manager import TwinPluginManager
from twin.profile import load_profile
from twin.textsafe import first_unsafe
from twin.topology import read_topology

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = int(os.environ.get("TWIN_FUZZ_EXAMPLES", "30"))
fuzz = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
cli_fuzz = settings(
    max_examples=max(4, EXAMPLES // 6),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

REGISTRY = default_registry()
TYPES = [cls.event_type for cls in CORE_EVENTS]
FIELDS = sorted({name for t in TYPES for name in REGISTRY.fields(t)})
ENVELOPE = ["ts", "occurred_at", "actor", "reason", "correlation_id", "causation_id", "event_id"]
NASTY_TEXT = [
    "",
    " ",
    "1_01",
    "1_01\n",
    "\x1b[2J",
    "\u202e",
    "\x00",
    "[/x]",
    "[bold]x",
    "nan",
    "inf",
    "-1",
    "1e400",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "2026-03-14T02:10:00Z",
    "\ud800",
    "é" * 3,
    "a" * 300,
]


def well_formed(error: TwinInputError) -> None:
    """What every refusal must look like: one terminal-safe line."""
    line = error.one_line()
    assert line and "\n" not in line and first_unsafe(line) is None, repr(line)


# -- values and records ------------------------------------------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(NASTY_TEXT),
    st.text(max_size=20),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def records(draw: st.DrawFn) -> dict[str, Any]:
    """An event record that looks like one: a type, some of its fields, maybe envelope keys."""
    kind = draw(st.sampled_from([*TYPES, "not_a_type", ""]) | st.text(max_size=8))
    known = list(REGISTRY.fields(kind)) if kind in REGISTRY else FIELDS
    names = draw(st.lists(st.sampled_from(known + ENVELOPE + ["bogus"]), max_size=6, unique=True))
    record: dict[str, Any] = {"type": kind}
    for name in names:
        record[name] = draw(values)
    return record


GENESIS = [
    {"ts": "2026-03-14T01:00:00Z", "type": "site_added", "site": 1},
    {"type": "group_created", "group": 1},
    {"type": "member_added", "member": "1_01", "group": 1, "site": 1},
    {"type": "member_added", "member": "1_02", "group": 1, "site": 1},
    {"type": "link_added", "link": "l1", "a": "1_01", "b": "1_02", "kind": "sync"},
]


def jsonl_text(rows: list[dict[str, Any]], garbage: list[str]) -> str:
    lines = [json.dumps(r, ensure_ascii=False, allow_nan=True) for r in rows]
    for at, junk in enumerate(garbage):
        lines.insert(min(at * 2, len(lines)), junk)
    return "\n".join(lines) + "\n"


jsonl_files = st.builds(
    lambda genesis, rows, garbage: jsonl_text([*(GENESIS if genesis else []), *rows], garbage),
    st.booleans(),
    st.lists(records(), max_size=6),
    st.lists(
        st.sampled_from(
            [
                "{",
                "[1]",
                "null",
                '{"type":"note","text":"a","text":"b"}',
                "\x00",
                "# comment",
                "",
                '"x"',
                "{}" * 2,
            ]
        ),
        max_size=2,
    ),
)


def csv_text(rows: list[dict[str, Any]]) -> str:
    header = sorted({k for r in rows for k in r} | {"type"})
    lines = [",".join(header)]
    for r in rows:
        cells = []
        for h in header:
            v = r.get(h)
            cell = "" if v is None else str(v)
            if any(c in cell for c in ',"\n'):
                cell = '"' + cell.replace('"', '""') + '"'
            cells.append(cell)
        lines.append(",".join(cells))
    return "\n".join(lines) + "\n"


csv_files = st.builds(
    lambda genesis, rows: csv_text([*(GENESIS if genesis else []), *rows]),
    st.booleans(),
    st.lists(records(), max_size=6),
)


@st.composite
def mutated(draw: st.DrawFn, base: bytes) -> bytes:
    """``base`` with a few bytes flipped, cut, or inserted."""
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "cut", "insert", "truncate"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif op == "cut" and data:
            del data[at : at + draw(st.integers(1, 8))]
        elif op == "insert":
            data[at:at] = draw(
                st.sampled_from([b'"', b",", b"\n", b"\x00", b"\xff", b"[", b"{", b"=", b"\\"])
            )
        elif op == "truncate":
            del data[at:]
    return bytes(data)


def valid_jsonl() -> bytes:
    return jsonl_text(
        [
            *GENESIS,
            {"type": "load_changed", "group": 1, "cpu_pct": 40, "ts": "2026-03-14T02:00:00Z"},
        ],
        [],
    ).encode()


# -- event files ---------------------------------------------------------------------------------


def read_all(path: Path) -> None:
    try:
        list(read_event_file(path, REGISTRY))
    except TwinInputError as error:
        well_formed(error)


@fuzz
@given(text=jsonl_files)
def test_jsonl_structured(tmp_path: Path, text: str) -> None:
    path = tmp_path / "fuzz.jsonl"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    read_all(path)


@fuzz
@given(data=st.binary(max_size=300) | mutated(valid_jsonl()))
def test_jsonl_bytes(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.jsonl"
    path.write_bytes(data)
    read_all(path)


@fuzz
@given(text=csv_files)
def test_csv_structured(tmp_path: Path, text: str) -> None:
    path = tmp_path / "fuzz.csv"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    read_all(path)


@fuzz
@given(data=st.binary(max_size=300) | mutated(csv_text(GENESIS).encode()))
def test_csv_bytes(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.csv"
    path.write_bytes(data)
    read_all(path)


@fuzz
@given(text=jsonl_files | csv_files, suffix=st.sampled_from([".jsonl", ".csv"]))
def test_a_refused_import_writes_nothing(tmp_path: Path, text: str, suffix: str) -> None:
    journal = tmp_path / "j.db"
    if not journal.exists():
        with Journal.create(journal) as j:
            j.import_file(_write(tmp_path / "g.jsonl", jsonl_text(GENESIS, [])))
    source = _write(tmp_path / f"fuzz{suffix}", text)
    with Journal.open(journal) as j:
        before = (j.head(), j.verify_all())
        try:
            j.import_file(source)
        except TwinInputError as error:
            well_formed(error)
            assert (j.head(), j.verify_all()) == before
            return
        assert all(r.ok for r in j.verify_all())


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    return path


# -- TOML documents: topology, profile, plan ------------------------------------------------


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    return json.dumps("" if value is None else str(value))


toml_scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(NASTY_TEXT[:-2]),
    st.text(alphabet=string.printable, max_size=10),
)
toml_values = st.recursive(
    toml_scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=4), inner, max_size=2
        )
    ),
    max_leaves=5,
)


@st.composite
def topologies(draw: st.DrawFn) -> str:
    lines: list[str] = []
    if draw(st.booleans()):
        lines.append("[deployment]")
        for key in draw(
            st.lists(
                st.sampled_from(["name", "ts", "actor", "checkpoint_interval_s", "bogus"]),
                max_size=3,
                unique=True,
            )
        ):
            lines.append(f"{key} = {toml_value(draw(toml_values))}")
    for table, kind in (
        ("site", "site_added"),
        ("group", "group_created"),
        ("member", "member_added"),
        ("link", "link_added"),
        ("bogus", "note"),
    ):
        for _ in range(draw(st.integers(0, 2))):
            lines.append(f"[[{table}]]")
            known = list(REGISTRY.fields(kind))
            for key in draw(st.lists(st.sampled_from([*known, "x"]), max_size=4, unique=True)):
                lines.append(f"{key} = {toml_value(draw(toml_values))}")
    return "\n".join(lines) + "\n"


def read_toml(reader: Any, path: Path) -> None:
    try:
        reader(path)
    except TwinInputError as error:
        well_formed(error)


@fuzz
@given(
    text=topologies()
    | st.builds(
        bytes.decode,
        mutated((ROOT / "examples" / "dual-site.toml").read_bytes()),
        st.just("latin-1"),
    )
)
def test_topology(tmp_path: Path, text: str) -> None:
    path = _write(tmp_path / "t.toml", text)
    read_toml(lambda p: read_topology(p, REGISTRY), path)


BASE_PROFILE = TwinPluginManager(autoload=False).load().profile()
PARAMETERS = sorted(BASE_PROFILE.parameters)


@st.composite
def profiles(draw: st.DrawFn) -> str:
    lines: list[str] = []
    if draw(st.booleans()):
        lines += ["[profile]", f"name = {toml_value(draw(toml_values))}"]
    lines.append("[parameters]")
    for name in draw(st.lists(st.sampled_from([*PARAMETERS, "nope.x"]), max_size=4, unique=True)):
        if draw(st.booleans()):
            lines.append(f"{json.dumps(name)} = {toml_value(draw(toml_values))}")
        else:
            spec = draw(
                st.dictionaries(
                    st.sampled_from(["value", "low", "high", "source", "provenance", "x"]),
                    toml_values,
                    max_size=4,
                )
            )
            lines.append(f"{json.dumps(name)} = {toml_value(spec)}")
    return "\n".join(lines) + "\n"


@fuzz
@given(text=profiles())
def test_profile(tmp_path: Path, text: str) -> None:
    path = _write(tmp_path / "p.toml", text)
    read_toml(lambda p: load_profile(p, BASE_PROFILE), path)


@fuzz
@given(data=st.binary(max_size=200) | mutated(b'[parameters]\n"sync.network_gbps" = 10\n'))
def test_profile_bytes(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "p.toml"
    path.write_bytes(data)
    read_toml(lambda p: load_profile(p, BASE_PROFILE), path)


PLANS = sorted((ROOT / "examples" / "plans").glob("*.toml"))


@fuzz
@given(which=st.sampled_from(PLANS), data=st.data())
def test_plan(tmp_path: Path, which: Path, data: st.DataObject) -> None:
    text = data.draw(mutated(which.read_bytes()))
    path = tmp_path / which.name
    path.write_bytes(text)
    read_toml(lambda p: read_plan(p, REGISTRY), path)


# -- the command line: key=value, and the CLI's one-line mapping ---------------------------


@cli_fuzz
@given(
    kind=st.sampled_from([*TYPES, "[/x]", "nope"]),
    pairs=st.lists(
        st.tuples(
            st.sampled_from([*FIELDS, *ENVELOPE, "type", ""]),
            st.sampled_from(NASTY_TEXT[:-2]) | st.text(max_size=8),
        ),
        max_size=4,
    ),
)
def test_append_key_value(tmp_path: Path, kind: str, pairs: list[tuple[str, str]]) -> None:
    journal = tmp_path / "j.db"
    if not journal.exists():
        assert run_twin("init", journal).code == 0
        assert (
            run_twin("import", journal, _write(tmp_path / "g.jsonl", jsonl_text(GENESIS, []))).code
            == 0
        )
    assume(all("\x00" not in f"{k}={v}" for k, v in pairs))  # argv cannot carry NUL
    with Journal.open(journal) as j:
        before = j.head()
    result = run_twin("append", journal, kind, *(f"{k}={v}" for k, v in pairs))
    assert result.traceback is None, result.traceback
    assert result.code in (0, 2), result
    with Journal.open(journal) as j:
        assert j.head() == before + (1 if result.code == 0 else 0)
    if result.code == 2:
        assert result.one_line_error and first_unsafe(result.err.rstrip("\n")) is None


@cli_fuzz
@given(text=jsonl_files, suffix=st.sampled_from([".jsonl", ".csv"]))
def test_the_cli_says_any_refusal_in_one_line(tmp_path: Path, text: str, suffix: str) -> None:
    source = _write(tmp_path / f"fuzz{suffix}", text)
    result = run_twin("log", source)
    assert result.traceback is None, result.traceback
    assert result.code in (0, 2)
    if result.code == 2:
        assert result.one_line_error and first_unsafe(result.err.rstrip("\n")) is None


# -- the corpus of nasty files ---------------------------------------------------------------------

CORPUS = ROOT / "tests" / "corpus"


def corpus_cases() -> list[Any]:
    return [pytest.param(path, id=path.name) for path in sorted(CORPUS.iterdir())]


@pytest.mark.parametrize("path", corpus_cases())
def test_every_nasty_file_is_refused_in_one_line_and_writes_nothing(
    tmp_path: Path, path: Path
) -> None:
    journal = tmp_path / "j.db"
    name = path.name
    if name.startswith("topology-"):
        result = run_twin("init", journal, "--topology", path)
        assert not journal.exists()
    elif name.startswith("profile-"):
        result = run_twin("profile", "--profile", path)
    elif name.startswith("plan-"):
        result = run_twin("plan", "check", path)
    else:
        run_twin("init", journal)
        run_twin("import", journal, _write(tmp_path / "g.jsonl", jsonl_text(GENESIS, [])))
        result = run_twin("import", journal, path)
        with Journal.open(journal) as j:
            assert j.head() == len(GENESIS)
    assert result.one_line_error, result
    assert first_unsafe(result.err.rstrip("\n")) is None
