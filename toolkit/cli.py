"""The ``upo`` command line: thin wrappers over the library.

Each command parses its arguments, makes one library call and turns a
:class:`~toolkit.exceptions.ToolkitError` into one line on stderr and exit code 1.
Usage errors exit with 2. Heavy modules are imported inside the commands so
``upo --help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
from pathlib import Path
from typing import Any, Callable, Sequence

from ._version import __version__
from .exceptions import ToolkitError

__all__ = ["main", "build_parser", "COMMANDS"]

log = logging.getLogger("toolkit")


# --------------------------------------------------------------------------- output helpers
def _records(df: Any) -> list[dict[str, Any]]:
    out = []
    for rec in df.to_dict(orient="records"):
        clean = {}
        for k, v in rec.items():
            if hasattr(v, "item"):
                v = v.item()
            if isinstance(v, float) and math.isnan(v):
                v = None
            clean[str(k)] = v
        out.append(clean)
    return out


def emit(df: Any, fmt: str, out: Any = None) -> None:
    """Write a DataFrame as ``table``, ``csv`` or ``json`` (a list of flat records; NaN → null)."""
    out = out or sys.stdout
    if fmt == "json":
        json.dump(_records(df), out, ensure_ascii=False, indent=1)
        out.write("\n")
    elif fmt == "csv":
        df.to_csv(out, index=False)
    else:
        if df.empty:
            out.write("(no rows)\n")
        else:
            shown = df.where(df.notna(), math.nan)  # None in object columns prints as –, too
            out.write(shown.to_string(index=False, float_format=lambda x: f"{x:.3f}", na_rep="–") + "\n")


def emit_rows(columns: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str, out: Any = None) -> None:
    """:func:`emit` for plain rows of strings and numbers (no pandas: the store's lists print without it).

    JSON and CSV are what :func:`emit` writes for the same frame; the table right-aligns each column
    like pandas' ``to_string`` (None as –, floats with three decimals).
    """
    out = out or sys.stdout
    records = [{str(c): (None if isinstance(v, float) and math.isnan(v) else v) for c, v in zip(columns, row)} for row in rows]
    if fmt == "json":
        json.dump(records, out, ensure_ascii=False, indent=1)
        out.write("\n")
    elif fmt == "csv":
        import csv

        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([["" if v is None else v for v in rec.values()] for rec in records])
    elif not records:
        out.write("(no rows)\n")
    else:
        cells = [[_cell(v) for v in rec.values()] for rec in records]
        # pandas gives a numeric column's header one space more (room for a sign)
        numeric = [any(r[c] is not None for r in records) and all(_is_number(r[c]) for r in records if r[c] is not None)
                   for c in records[0]]
        header = [(" " if num else "") + str(c) for c, num in zip(columns, numeric)]
        widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(header)]
        for line in [header, *cells]:
            out.write(" ".join(text.rjust(w) for text, w in zip(line, widths)) + "\n")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


# --------------------------------------------------------------------------- commands
def cmd_init(a: argparse.Namespace) -> int:
    from .store import Store

    store = Store.init(a.db, cohort=a.cohort, min_group_size=a.min_group_size, key_path=a.key)
    reused = f" (a copy of {a.key})" if a.key else ""
    where = store.path.name if store.dialect == "postgresql" else store.path
    print(f"created {where} (cohort {a.cohort!r}, min group size {a.min_group_size}); code key: {store.key_path}{reused}")
    print("the key is secret: with it and the database, participants' codes can be guessed; it does not hide the answers. "
          "It is not beside the database, so copies of the database do not carry it; hand it over with 'upo key export'")
    return 0


def cmd_key_export(a: argparse.Namespace) -> int:
    from .codes import write_key
    from .store import Store

    store = Store(a.db)
    path = write_key(a.file, store.key, cohort=store.cohort_uid)
    print(f"wrote the code key of {store.path.name} to {path} (readable only by you); hand it over in person or encrypted, "
          "then delete this copy; the colleague runs 'upo key import FILE'")
    return 0


def cmd_key_import(a: argparse.Namespace) -> int:
    from .codes import key_path_for, parse_key, read_key, write_key

    key = read_key(a.file)  # refuses short keys and files readable by others
    _, cohort = parse_key(Path(a.file).read_text(), source=a.file)
    if a.db:
        from .store import Store

        store = Store(a.db, key_path=a.file)
        if cohort and cohort != store.cohort_uid:
            raise _Fail(f"{a.file}: the key of cohort {cohort}, but {a.db} is cohort {store.cohort_uid}; give the matching key")
        cohort = store.cohort_uid
        store.key  # noqa: B018 - checks the key against the database's check value
    if not cohort:
        raise _Usage("this key file names no cohort (an older format); give the database with --db DB")
    target = key_path_for(cohort)
    if target.exists():
        if read_key(target) == key:
            print(f"the key is installed already: {target}")
            return 0
        raise _Fail(f"{target}: another key is installed for cohort {cohort}; move it away first if it is wrong")
    write_key(target, key, cohort=cohort)
    print(f"installed the code key of cohort {cohort} at {target}; you may delete {a.file} now")
    return 0


def cmd_instrument_validate(a: argparse.Namespace) -> int:
    from .exceptions import InstrumentError
    from .instruments import resolve_instrument, shipped_instruments

    failed = 0
    for path in a.files:
        try:
            inst = resolve_instrument(path)
        except InstrumentError as exc:
            failed += 1
            print(str(exc), file=sys.stderr)
            continue
        shipped = shipped_instruments()
        where = f"{path} ({shipped[path]})" if path in shipped and not Path(path).exists() else path
        print(
            f"{where}: ok: {inst.id} {inst.version} ({len(inst.dimensions)} dimensions, {len(inst.items)} items, hash {inst.short_hash})"
        )
    return 1 if failed else 0


def cmd_demo(a: argparse.Namespace) -> int:
    if a.authorities:
        from .demo_large import large_demo_command

        return large_demo_command(Path(a.out), a.authorities, participants=a.participants, force=a.force, db=a.db)
    from .demo import run_demo

    return run_demo(out=Path(a.out), jobs=a.jobs, lang=a.lang, force=a.force, formats=a.format, echo=print)


def cmd_import(a: argparse.Namespace) -> int:
    from .io import import_file
    from .store import Store

    result = import_file(
        Store(a.db, key_path=a.key),
        a.file,
        instrument=a.instrument,
        wave=a.wave,
        format=a.format,
        authority=a.authority,
        authority_column=a.authority_column,
        participant_column=a.participant_column,
        incomplete=a.incomplete,
        mapping=a.mapping,
    )
    print(result.summary_text())
    return 1 if result.n_quarantined else 0


def cmd_scores(a: argparse.Namespace) -> int:
    from .store import Store
    from .summaries import score_summary

    emit(score_summary(Store(a.db), a.instrument, wave=a.wave, by=a.by), a.format)
    return 0


def cmd_reliability(a: argparse.Namespace) -> int:
    from .store import Store
    from .summaries import reliability_summary

    rel = reliability_summary(Store(a.db), a.instrument, wave=a.wave, missing=a.missing)
    emit(rel, a.format)
    if a.format == "table":  # the JSON carries negative_items; the table reader gets the hint spelt out
        for _, r in rel.iterrows():
            if isinstance(r["negative_items"], str) and r["negative_items"]:
                print(f"note: {r['wave']} {r['dimension']}: {r['negative_items']} load(s) negatively on the scale's factor; "
                      "is a reverse key (reverse: true) missing? omega_total flips them, as psych does", file=sys.stderr)
    return 0


def cmd_change(a: argparse.Namespace) -> int:
    from .store import Store
    from .summaries import change_summary

    emit(change_summary(Store(a.db), a.instrument, a.from_wave, a.to_wave, by=a.by), a.format)
    return 0


def cmd_report(a: argparse.Namespace) -> int:
    from .reports import render_reports

    if not a.all and not a.authority and not a.cohort:
        raise _Usage("give --authority CODE ..., --cohort or --all")
    result = render_reports(
        a.db,
        authorities=None if a.all else (a.authority or []),
        out=Path(a.out),
        formats=[f.strip() for f in a.format.split(",") if f.strip()],
        jobs=a.jobs,
        lang=a.lang,
        force=a.force,
        cohort=a.all or a.cohort,
        scheduler=a.scheduler,
    )
    print(result.summary_text())
    return 0 if result.ok else 1


def cmd_audit(a: argparse.Namespace) -> int:
    from .reports.audit import cohort_audit

    result = cohort_audit(a.db, k=a.min_group_size)
    print(result.text(limit=None))
    return 0 if result.ok else 1


def cmd_workshop(a: argparse.Namespace) -> int:
    from .workshop import serve

    if a.processes is not None and a.processes < 1:
        raise _Usage(f"--processes {a.processes}: give at least 1 (default: one per usable core)")

    return serve(a.db, instrument=a.instrument, wave=a.wave, authority=a.authority, host=a.host, port=a.port, kiosk=a.kiosk,
                 join_code=a.join_code, lang=a.lang, pool_size=a.pool, processes=a.processes)


def cmd_export(a: argparse.Namespace) -> int:
    from .io import export
    from .store import Store

    path = export(Store(a.db), Path(a.out), format=a.format, instrument=a.instrument)
    print(f"wrote {path}")
    return 0


def cmd_erase(a: argparse.Namespace) -> int:
    from .reports.manifest import mark_erased
    from .store import Store

    store = Store(a.db, key_path=a.key)
    if a.code:  # pseudonyms are authority-specific: the person's code in every authority (or the one given)
        codes = [a.authority] if a.authority else list(store.authorities()["authority"])
        whos = [store.pseudonym(code, a.code) for code in codes]
    else:
        whos = [a.participant]
    n, authorities, found = 0, set(), []
    for who in whos:
        done = store.erase_details(who, wait=a.wait)
        n += done["n_submissions"]
        authorities |= set(done["authorities"])
        found += [who] if done["n_submissions"] else []
    label = ", ".join(found) if found else ("the person with this code" if a.code else a.participant)
    if n:
        print(f"erased {n} submissions of {label}; the erasure is recorded (without the code)")
    else:
        print(f"nothing to erase: no submissions of {label} (already erased or unknown code); the file is cleaned")
    stale = mark_erased(store, sorted(authorities), extra=[Path(d) for d in a.reports or []]) if n else []
    for path in stale:
        print(f"removed stale report {path}; 'upo report' renders it again without the erased answers")
    return 0


def cmd_migrate(a: argparse.Namespace) -> int:
    from .store.migrate import migrate_to_postgresql

    print(migrate_to_postgresql(a.source, a.target).summary_text())
    return 0


def cmd_authority_add(a: argparse.Namespace) -> int:
    from .store import Store

    Store(a.db).add_authority(a.code, name=a.name, ministry=a.ministry)
    print(f"authority {a.code} ({a.name or 'no name'}, {a.ministry or 'no ministry'}) is in the cohort")
    return 0


def cmd_authority_list(a: argparse.Namespace) -> int:
    from .store import Store

    emit_rows(*Store(a.db).authority_rows(), a.format)
    return 0


def cmd_wave_add(a: argparse.Namespace) -> int:
    from .store import Store

    store = Store(a.db)
    store.add_wave(a.label, date=a.date)
    print(f"wave {a.label} is in the cohort (waves: {', '.join(store.wave_labels())})")
    return 0


def cmd_wave_list(a: argparse.Namespace) -> int:
    from .store import Store

    emit_rows(*Store(a.db).wave_rows(), a.format)
    return 0


class _Usage(Exception):
    pass


class _Fail(Exception):
    pass


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


# --------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="upo",
        description="upo-toolkit: cohort surveys, competence reflection and stakeholder analysis for public authorities.",
    )
    p.add_argument("--version", action="version", version=f"upo-toolkit {__version__}")
    p.add_argument("-v", "--verbose", action="store_true", help="log progress details to stderr")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, func: Callable[[argparse.Namespace], int], help: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help, description=help)
        sp.set_defaults(func=func)
        return sp

    sp = add("demo", cmd_demo, "build the demo cohort and render all reports")
    sp.add_argument("--out", default="demo-out", help="output folder (default: demo-out)")
    sp.add_argument("--jobs", type=int, default=None, help="parallel report workers (default: number of cores)")
    sp.add_argument("--lang", choices=["de", "en"], default="de", help="report language (default: de)")
    sp.add_argument("--format", default="html", help="html, pdf or html,pdf (default: html)")
    sp.add_argument("--force", action="store_true", help="rebuild the database and re-render every report")
    sp.add_argument("--authorities", type=int, metavar="N",
                    help="instead: build a synthetic large cohort of N units (20 people each, three waves) without rendering")
    sp.add_argument("--participants", type=int, default=20, help="people per unit for --authorities (default: 20)")
    sp.add_argument("--db", help="with --authorities: the SQLite file or empty PostgreSQL database to fill (default: OUT/large-N.sqlite)")

    sp = add("init", cmd_init, "create a cohort database file and its code key")
    sp.add_argument("db", help="the SQLite file to create, or an empty PostgreSQL database (postgresql://...)")
    sp.add_argument("--cohort", default="Kohorte", help="cohort name")
    sp.add_argument("--min-group-size", type=int, default=5, help="minimum group size for any aggregate shown (default: 5)")
    sp.add_argument("--key", metavar="FILE", help="reuse this existing code key on purpose (default: create a new key)")

    sp = add("key", cmd_erase, "hand the cohort's code key to a colleague: export, import")
    sp.set_defaults(func=lambda a, parser=sp: _help(parser))
    ksub = sp.add_subparsers(dest="key_command", metavar="SUBCOMMAND")
    k_ = ksub.add_parser("export", help="write the cohort's code key to FILE (0600)", description="write the cohort's code key to FILE (0600)")
    k_.add_argument("file")
    k_.add_argument("--db", required=True, help="the cohort database whose key to export")
    k_.add_argument("--key", metavar="FILE", help=argparse.SUPPRESS)
    k_.set_defaults(func=cmd_key_export)
    k_ = ksub.add_parser("import", help="install a code key from FILE in your data directory",
                         description="install a code key from FILE in your data directory")
    k_.add_argument("file")
    k_.add_argument("--db", help="check the key against this database (needed for key files of older versions)")
    k_.set_defaults(func=cmd_key_import)

    sp = add("instrument", cmd_erase, "work with instrument files")
    sp.set_defaults(func=lambda a, parser=sp: _help(parser))
    isub = sp.add_subparsers(dest="instrument_command", metavar="SUBCOMMAND")
    v = isub.add_parser("validate", help="validate instrument YAML files", description="validate instrument YAML files")
    v.add_argument("files", nargs="+", help="instrument YAML files or ids of shipped instruments")
    v.set_defaults(func=cmd_instrument_validate)

    sp = add("import", cmd_import, "import answers from a CSV, XLSX or LimeSurvey export")
    sp.add_argument("db")
    sp.add_argument("file")
    sp.add_argument("--instrument", required=True, help="instrument id (stored or shipped) or YAML path")
    sp.add_argument("--wave", required=True, help="wave label, e.g. t0")
    sp.add_argument("--format", choices=["csv", "xlsx", "limesurvey"], default=None, help="default: from the file name")
    g = sp.add_mutually_exclusive_group()
    g.add_argument("--authority-column", help="column holding the authority code (default: a column named authority, "
                   "or the column a LimeSurvey mapping sends to authority)")
    g.add_argument("--authority", help="authority code for every row")
    sp.add_argument("--participant-column", help="column holding a pseudonymous participant id (default: code-element columns)")
    sp.add_argument("--incomplete", choices=["quarantine", "import", "skip"], default="quarantine",
                    help="LimeSurvey responses without submitdate: quarantine (default), import or skip (skipped rows are listed)")
    sp.add_argument("--mapping", metavar="FILE", help="LimeSurvey question codes -> item ids, participant, authority or ignore (YAML or CSV); "
                    "default: the instrument's limesurvey mapping")
    sp.add_argument("--key", metavar="FILE", help=_KEY_HELP)

    for name, func, help in (
        ("scores", cmd_scores, "dimension scores (aggregated, privacy rules applied)"),
        ("reliability", cmd_reliability, "reliability per dimension: Cronbach's alpha with Feldt CI, omega total"),
    ):
        sp = add(name, func, help)
        sp.add_argument("db")
        sp.add_argument("--instrument", required=True)
        sp.add_argument("--wave")
        if name == "scores":
            sp.add_argument("--by", choices=["authority", "ministry"], default=None)
            sp.add_argument("--format", choices=["table", "csv", "json"], default="table")
        else:
            sp.add_argument("--missing", choices=["pairwise", "listwise"], default="pairwise",
                            help="missing answers: pairwise-complete item covariances (default, as psych) or listwise "
                                 "(only people with every item of the scale); the output's method field says which")
            sp.add_argument("--format", choices=["table", "json"], default="table")

    sp = add("change", cmd_change, "change between two waves on linked participants")
    sp.add_argument("db")
    sp.add_argument("--instrument", required=True)
    sp.add_argument("--from", dest="from_wave", required=True)
    sp.add_argument("--to", dest="to_wave", required=True)
    sp.add_argument("--by", choices=["authority", "ministry"], default=None)
    sp.add_argument("--format", choices=["table", "json"], default="table")

    sp = add("report", cmd_report, "render reports per authority and for the cohort (HTML, PDF)")
    sp.add_argument("db")
    g = sp.add_mutually_exclusive_group()
    g.add_argument("--authority", nargs="+", metavar="CODE")
    g.add_argument("--all", action="store_true", help="every authority, the cohort report and the index")
    sp.add_argument("--cohort", action="store_true", help="render the cohort report (implied by --all); alone: only the cohort report")
    sp.add_argument("--out", default="reports", help="output folder (default: reports)")
    sp.add_argument("--format", default="html", help="html, pdf, html,pdf; add pptx for the cohort slides (html,pptx), or pptx alone")
    sp.add_argument("--jobs", type=int, default=None)
    sp.add_argument("--lang", choices=["de", "en"], default="de")
    sp.add_argument("--force", action="store_true", help="render even when nothing changed")
    sp.add_argument("--scheduler", metavar="ADDRESS",
                    help="render on a Dask cluster: tcp://HOST:8786 (a running scheduler) or local[:N] (a LocalCluster of N workers)")

    sp = add("workshop", cmd_workshop, "serve the participant form and the presenter view for a live workshop")
    sp.add_argument("db")
    sp.add_argument("--instrument", required=True)
    sp.add_argument("--wave", required=True)
    sp.add_argument("--authority")
    sp.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; 0.0.0.0 for the room's LAN)")
    sp.add_argument("--port", type=int, default=8866)
    sp.add_argument("--kiosk", action="store_true", help="shared device: reset the form after each submission")
    sp.add_argument("--join-code", nargs="?", const="", default=None, metavar="CODE",
                    help="ask participants once for a short code shown on the projector (without CODE: a random one)")
    sp.add_argument("--lang", choices=["de", "en"], default="de", help="the form's starting language (participants can switch)")
    sp.add_argument("--pool", type=int, default=None, metavar="N", help="light page sessions created ahead while the server is quiet, for a room joining at once (default 60; 0: none)")
    sp.add_argument("--processes", type=int, default=None, metavar="N",
                    help="form server processes behind the one address, each page stays with one (default: one per usable core)")
    sp.add_argument("--key", metavar="FILE", help=_KEY_HELP)

    sp = add("export", cmd_export, "export answers (pseudonymous) as CSV, XLSX, Parquet, SPSS or LimeSurvey structure")
    sp.add_argument("db")
    sp.add_argument("--out", required=True)
    sp.add_argument("--format", choices=["csv", "xlsx", "parquet", "sav", "limesurvey"], default=None, help="default: from --out")
    sp.add_argument("--instrument", help="limit to one instrument (required for the LimeSurvey structure)")

    for noun, add_help, list_help in (
        ("authority", "add an authority (Behörde) to the cohort, or update its name and ministry", "list the cohort's authorities"),
        ("wave", "add a wave (e.g. t0, t1) to the cohort; waves are ordered as added", "list the cohort's waves"),
    ):
        sp = add(noun, cmd_erase, f"manage the cohort's {noun}s: add, list")
        sp.set_defaults(func=lambda a, parser=sp: _help(parser))
        nsub = sp.add_subparsers(dest=f"{noun}_command", metavar="SUBCOMMAND")
        a_ = nsub.add_parser("add", help=add_help, description=add_help)
        a_.add_argument("db")
        if noun == "authority":
            a_.add_argument("code", help="short code, e.g. BVA")
            a_.add_argument("--name", help="full name, e.g. Bundesverwaltungsamt")
            a_.add_argument("--ministry", help="ministry (Ressort), e.g. BMI")
        else:
            a_.add_argument("label", help="wave label, e.g. t1")
            a_.add_argument("--date", help="date of the wave, e.g. 2026-03-05")
        a_.set_defaults(func=cmd_authority_add if noun == "authority" else cmd_wave_add)
        ls = nsub.add_parser("list", help=list_help, description=list_help)
        ls.add_argument("db")
        ls.add_argument("--format", choices=["table", "csv", "json"], default="table")
        ls.set_defaults(func=cmd_authority_list if noun == "authority" else cmd_wave_list)

    sp = add("migrate", cmd_migrate, "copy a cohort from its SQLite file into PostgreSQL and verify the copy")
    sp.add_argument("source", metavar="SQLITE_FILE", help="the cohort's SQLite file")
    sp.add_argument("target", metavar="URL", help="an empty PostgreSQL database, e.g. postgresql://user@host:5432/cohort")

    sp = add("audit", cmd_audit, "disclosure audit: render every output in memory, check that no group below k can be derived")
    sp.add_argument("db")
    sp.add_argument("--min-group-size", type=int, default=None, help="audit with a stricter threshold (as the reports use it)")

    sp = add("erase", cmd_erase, "erase every submission of one participant")
    sp.add_argument("db")
    g = sp.add_mutually_exclusive_group(required=True)
    g.add_argument("--participant", help="the participant's pseudonymous code (P-...)")
    g.add_argument("--code", nargs="+", metavar="ELEMENT",
                   help="the four personal-code answers the person gives (e.g. MA 07 K HA); the pseudonym is computed with the key")
    sp.add_argument("--authority", help="with --code: only in this authority (default: in every authority)")
    sp.add_argument("--reports", nargs="*", metavar="DIR", help="report folders to clean besides those 'upo report' recorded")
    sp.add_argument("--wait", type=float, default=10.0, metavar="SECONDS",
                    help="wait this long for other programs reading the database (default 10)")
    sp.add_argument("--key", metavar="FILE", help=_KEY_HELP)
    return p


_KEY_HELP = "the cohort's code key file (default: the key installed in your data directory)"

COMMANDS = ["demo", "init", "key", "instrument", "authority", "wave", "import", "scores", "reliability", "change", "report", "workshop",
            "export", "erase", "audit", "migrate"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    if getattr(args, "key", None) and args.command not in ("init",):
        import os

        from .codes import KEY_FILE_ENV

        os.environ[KEY_FILE_ENV] = str(Path(args.key).expanduser().resolve())  # kernels and servers find it too
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Printable(out, _CONTROL), _Printable(err, _CONTROL_ERR)
    try:
        return int(args.func(args) or 0)
    except _Usage as exc:
        print(f"upo {args.command}: {exc}", file=sys.stderr)
        return 2
    except (ToolkitError, _Fail) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        damaged = _damaged_db_message(exc, getattr(args, "db", None)) or _postgres_message(exc, getattr(args, "db", None))
        if damaged is None:
            raise
        print(f"error: {damaged}", file=sys.stderr)
        return 1
    finally:
        sys.stdout, sys.stderr = out, err


_CONTROL = dict.fromkeys(c for c in [*range(0x00, 0x20), *range(0x7F, 0xA0)] if c not in (0x09, 0x0A))
_CONTROL_ERR = {c: v for c, v in _CONTROL.items() if c != 0x0D}  # progress bars redraw with a carriage return


def clean_text(text: str) -> str:
    """``text`` without control characters (terminal escape sequences lose their ESC); tab and newline stay."""
    return text.translate(_CONTROL)


class _Printable:
    """A text stream wrapper that strips control characters from everything the CLI prints."""

    def __init__(self, stream: Any, table: dict[int, None]):
        self._stream = stream
        self._table = table

    def write(self, text: str) -> int:
        return self._stream.write(text.translate(self._table))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _damaged_db_message(exc: BaseException, db: Any) -> str | None:
    """One line for a database file whose pages are damaged (SQLite or pandas' wrapper of it); None for other errors."""
    import sqlite3

    if isinstance(exc, sqlite3.OperationalError) and "no such" in str(exc):
        return (f"{db or 'the database'}: the database lacks part of its structure ({' '.join(str(exc).split())}); "
                "restore it from a backup")
    cause = exc if isinstance(exc, sqlite3.DatabaseError) else exc.__cause__
    is_pandas = type(exc).__name__ == "DatabaseError" and type(exc).__module__.startswith("pandas")
    if not isinstance(cause, sqlite3.DatabaseError) or not (cause is exc or is_pandas) or isinstance(cause, sqlite3.OperationalError):
        return None
    detail = " ".join(str(cause).split())
    return (f"{db or 'the database'}: the database file is damaged ({detail}); restore it from a backup "
            "(sqlite3 FILE 'PRAGMA integrity_check' lists the damage)")


def _postgres_message(exc: BaseException, db: Any) -> str | None:
    """One line for an error of the PostgreSQL server or connection (e.g. the server went away); None for others."""
    if not type(exc).__module__.startswith("psycopg"):
        return None
    from .store.dialect import DatabaseURL

    where = DatabaseURL(db).name if isinstance(db, str) and db.startswith(("postgresql://", "postgres://")) else (db or "the database")
    detail = " ".join(str(exc).split())
    return f"{where}: PostgreSQL: {detail}; check that the server runs and try again"
