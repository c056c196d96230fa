"""The writing process's CPU time in each phase of a first ``daybook relate`` run.

``daybook relate`` computes the lists in worker processes while the process that reads
the store also builds the entries and writes them: that process is the longest path.
This runs the same steps as ``daybook.relate.refresh`` on a first run, in one process
(the workers forked as there), and prints that process's CPU seconds for each:

- read: ``Store.relate_items`` (every event, with its entity titles);
- index: ``Relation(..., later=True)`` (the inverted index);
- entries: receiving the lists from the workers and building their ``Related`` entries
  (all kept until written: more memory than ``refresh``, which writes them as they come);
- write: ``Store.save_relation(replace=True)``: the rows, the basis, the index on related
  events, the snapshot packed and the commit.

STORE is a store of events never related (such as ``ingested.db`` made by
``relate.py --store --workdir DIR``); it is copied, not changed.

Usage: python benchmarks/relate_phases.py STORE [--jobs 2]
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import shutil
import tempfile
from pathlib import Path

from daybook.relate import Relation, Settings
from daybook.relate.stage import SNAPSHOT_FORMAT, pack, settings_json
from daybook.store import Store


def cpu() -> float:
    """This process's user and system CPU seconds (not its workers')."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("store", type=Path)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    gc.disable()  # as refresh does
    with tempfile.TemporaryDirectory(dir=args.store.parent) as tmp:
        db = Path(tmp) / "phases.db"
        shutil.copyfile(args.store, db)
        phases = []
        with Store(db) as store:
            seen, _ = store.relate_days()  # as refresh passes it: no sweep for events deleted meanwhile
            started = cpu()
            items = store.relate_items()
            phases.append(("read", cpu() - started))
            started = cpu()
            relation = Relation(items, Settings(), workers=args.jobs, later=True)
            phases.append(("index", cpu() - started))
            started = cpu()
            lists = list(relation.computing())
            phases.append(("entries", cpu() - started))
            started = cpu()
            store.save_relation(
                settings_json(relation.settings),
                ((item, entries) for item, (_, entries) in zip(items, lists, strict=True)),
                replace=True,
                snapshot=lambda: (SNAPSHOT_FORMAT, pack(relation)),
                seen=seen,
            )
            phases.append(("write", cpu() - started))
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"events {len(items)}, jobs {args.jobs}, load {load}")
    print("parent CPU s: " + ", ".join(f"{name} {seconds:.2f}" for name, seconds in phases))


if __name__ == "__main__":
    main()
