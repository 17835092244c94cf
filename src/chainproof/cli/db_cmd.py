"""``chainproof db import|update|status|query``: the local advisory database."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chainproof.errors import NotFoundError, UsageError
from chainproof.vuln.paths import default_path

if TYPE_CHECKING:
    from chainproof.vuln.db import ImportReport

#: Past this age `db status` warns that the data is stale (Patch Tuesday is monthly).
DEFAULT_MAX_AGE_DAYS = 35


def add_db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        type=Path,
        default=None,
        metavar="PATH",
        help=f"advisory database file (default: {default_path()})",
    )


def register(subparsers: Any) -> None:
    db = subparsers.add_parser("db", help="manage the local advisory database")
    actions = db.add_subparsers(dest="db_action", metavar="ACTION", required=True)

    imp = actions.add_parser("import", help="import MSRC CVRF (XML/JSON) and OSV files")
    add_db_option(imp)
    imp.add_argument("files", nargs="+", type=Path, metavar="FILE", help="file, directory or zip")
    imp.add_argument("--format", choices=("text", "json"), default="text")
    imp.set_defaults(handler=run_import)

    upd = actions.add_parser("update", help="download MSRC and OSV feeds and import them")
    add_db_option(upd)
    upd.add_argument("--feed", action="append", choices=("msrc", "osv"), dest="feeds")
    upd.add_argument("--ecosystem", action="append", dest="ecosystems", metavar="NAME")
    upd.add_argument("--msrc-since", default=None, metavar="YYYY-MM")
    upd.add_argument("--msrc-url", default=None, metavar="URL", help="MSRC CVRF v3 API base")
    upd.add_argument("--osv-url", default=None, metavar="URL", help="OSV export bucket base")
    upd.add_argument("--cache-dir", type=Path, default=None, metavar="DIR")
    upd.add_argument("--no-progress", action="store_true")
    upd.add_argument("--format", choices=("text", "json"), default="text")
    upd.set_defaults(handler=run_update)

    st = actions.add_parser("status", help="sources, record counts and age of the database")
    add_db_option(st)
    st.add_argument("--max-age-days", type=float, default=DEFAULT_MAX_AGE_DAYS)
    st.add_argument("--format", choices=("text", "json"), default="text")
    st.set_defaults(handler=run_status)

    q = actions.add_parser(
        "query",
        help="MSRC rows of a CVE, product or KB, hotpatch and other SubTypes included",
    )
    add_db_option(q)
    q.add_argument("--cve", default="", metavar="CVE")
    q.add_argument("--product", default="", metavar="TEXT", help="part of the product name")
    q.add_argument("--kb", default="", metavar="KB")
    q.add_argument("--limit", type=int, default=1000, metavar="N")
    q.add_argument("--format", choices=("text", "json"), default="text")
    q.set_defaults(handler=run_query)


def _db_path(args: argparse.Namespace) -> Path:
    return args.db if args.db is not None else default_path()


def _print_reports(reports: list[ImportReport], fmt: str) -> None:
    if fmt == "json":
        print(json.dumps([r.__dict__ for r in reports], indent=2))
        return
    for r in reports:
        print(
            f"{r.source_id}: {r.advisories} advisories, {r.windows_fixes} MSRC fixes, "
            f"{r.skipped} skipped"
        )


def _quiet_skips() -> None:
    # Skipped records are logged one per line; show them on stderr without a traceback.
    logging.basicConfig(level=logging.WARNING, format="chainproof: %(message)s", stream=sys.stderr)


def run_import(args: argparse.Namespace) -> int:
    from chainproof.vuln.load import read_path

    _quiet_skips()
    for path in args.files:
        if not path.exists():
            raise NotFoundError(f"{path}: no such file or directory")
    from chainproof._files import creating
    from chainproof.vuln.db import AdvisoryDB

    batches = (pair for path in args.files for pair in read_path(path))
    # A database this import creates is removed again if the import fails: an empty one
    # would later scan clean.
    with creating(_db_path(args)) as path, AdvisoryDB(path) as db:
        reports = db.import_batches(batches)
    _print_reports(reports, args.format)
    return 0


def run_update(args: argparse.Namespace) -> int:
    from rich.console import Console

    from chainproof.vuln.update import UpdatePlan, run_update

    _quiet_skips()
    plan = UpdatePlan(db_path=_db_path(args))
    if args.feeds:
        plan.feeds = tuple(args.feeds)
    if args.ecosystems:
        plan.ecosystems = tuple(args.ecosystems)
    if args.msrc_since:
        plan.msrc_since = args.msrc_since
    if args.msrc_url:
        plan.msrc_url = args.msrc_url
    if args.osv_url:
        plan.osv_url = args.osv_url
    if args.cache_dir:
        plan.cache_dir = args.cache_dir
    console = None if args.no_progress else Console(stderr=True)
    reports = run_update(plan, console=console)
    _print_reports(reports, args.format)
    return 0


def run_status(args: argparse.Namespace) -> int:
    if args.max_age_days <= 0:
        raise UsageError("--max-age-days must be positive")
    from chainproof.vuln.db import AdvisoryDB

    with AdvisoryDB(_db_path(args), create=False) as db:
        status = db.status()
    age = status.age_days()
    stale = age is None or age > args.max_age_days
    if args.format == "json":
        print(
            json.dumps(
                {
                    "path": str(status.path),
                    "schema_version": status.schema_version,
                    "advisories": status.advisories,
                    "affected_packages": status.affected_packages,
                    "msrc_fixes": status.msrc_fixes,
                    "msrc_subtypes": dict(status.msrc_subtypes),
                    "newest": status.newest,
                    "age_days": None if age is None else round(age, 1),
                    "stale": stale,
                    "sources": [s.__dict__ for s in status.sources],
                },
                indent=2,
            )
        )
        return 0
    print(f"database: {status.path} (schema {status.schema_version})")
    print(
        f"records: {status.advisories} OSV advisories ({status.affected_packages} package "
        f"entries), {status.msrc_fixes} MSRC fixes"
    )
    if status.msrc_subtypes:
        print(
            "MSRC rows by SubType: "
            + ", ".join(f"{subtype or '(none)'} {count}" for subtype, count in status.msrc_subtypes)
        )
    print(f"newest advisory: {status.newest or 'none'}")
    for s in status.sources:
        print(f"  {s.feed:5} {s.source_id}: {s.records} records, newest {s.newest or '-'}")
    if stale:
        shown = "unknown" if age is None else f"{age:.0f} days"
        print(
            f"warning: advisory data is {shown} old (limit {args.max_age_days:g} days); "
            "run 'chainproof db update'",
            file=sys.stderr,
        )
    return 0


def run_query(args: argparse.Namespace) -> int:
    if not (args.cve or args.product or args.kb):
        raise UsageError("db query needs --cve, --product or --kb")
    if args.limit <= 0:
        raise UsageError("--limit must be positive")
    from chainproof.vuln.db import AdvisoryDB
    from chainproof.vuln.subtypes import role

    with AdvisoryDB(_db_path(args), create=False) as db:
        rows = db.msrc_rows(cve=args.cve, product=args.product, kb=args.kb, limit=args.limit)
    if args.format == "json":
        print(json.dumps([{**r.__dict__, "role": role(r.subtype)} for r in rows], indent=2))
        return 0
    if not rows:
        print("no MSRC rows match")
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table("CVE", "product", "KB", "fixed", "SubType", "for container images")
    for r in rows:
        fixed = r.fixed_build
        if r.framework_build is not None:
            fixed = f"{r.framework_line} build {r.framework_build}"
        table.add_row(
            r.cve, r.product, f"KB{r.kb}" if r.kb else "", fixed, r.subtype, role(r.subtype)
        )
    Console(width=200).print(table)
    return 0
