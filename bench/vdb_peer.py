"""Peer side of bench/vuln.py: AppThreat vulnerability-db (``vdb``, used by OWASP dep-scan).

Run with the interpreter of a virtualenv where ``pip install appthreat-vulnerability-db``
was done (it is not a chainproof dependency): imports the same OSV zip through vdb's own OSV
importer (served from a loopback HTTP server, since vdb only fetches URLs), then matches the
same CycloneDX SBOM with ``search_by_cdx_bom``. Prints one JSON line of figures and writes
the (purl prefix, CVE) pairs it found to ``--pairs``.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import resource
import tempfile
import threading
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("export", type=Path)
    parser.add_argument("sbom", type=Path)
    parser.add_argument("--pairs", type=Path, required=True)
    args = parser.parse_args()
    os.environ["VDB_HOME"] = tempfile.mkdtemp(prefix="vdb-bench-")
    handler = functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(args.export.parent)
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/{args.export.name}"

    from vdb.lib import db as vdb_db
    from vdb.lib import search
    from vdb.lib.osv import OSVSource

    wall, cpu = time.perf_counter(), time.process_time()
    OSVSource().fetch(url, store_results=True, feed_key="npm")
    import_wall, import_cpu = time.perf_counter() - wall, time.process_time() - cpu
    rows = vdb_db.stats()[0]
    wall, cpu = time.perf_counter(), time.process_time()
    results = [r for r in search.search_by_cdx_bom(str(args.sbom)) or [] if r]
    match_wall, match_cpu = time.perf_counter() - wall, time.process_time() - cpu
    server.shutdown()
    pairs = sorted({(h.get("purl_prefix", ""), h.get("cve_id", "")) for r in results for h in r})
    args.pairs.write_text(json.dumps(pairs))
    print(
        json.dumps(
            {
                "rows": rows,
                "import_wall": import_wall,
                "import_cpu": import_cpu,
                "match_wall": match_wall,
                "match_cpu": match_cpu,
                "pairs": len(pairs),
                "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


if __name__ == "__main__":
    main()
