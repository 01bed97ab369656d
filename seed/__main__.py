"""python -m seed load --scale small|medium|large ; python -m seed labels --out labels.pdf"""
import argparse
import os
import sys

from inspector.store import connection as store
from inspector.settings import SettingsError, load_settings


def main(argv=None):
    """Run the seed command line."""
    parser = argparse.ArgumentParser(prog="python -m seed", description="The demo dataset and its printable labels.")
    sub = parser.add_subparsers(dest="command", required=True)
    load_cmd = sub.add_parser("load", help="load the dataset into MONGO_URI/MONGO_DB (idempotent)")
    load_cmd.add_argument("--scale", choices=("small", "medium", "large"), default="small")
    load_cmd.add_argument("--force", action="store_true", help="re-write every document even if already loaded")
    labels_cmd = sub.add_parser("labels", help="write a PDF of labels for the planted and some clean batches")
    labels_cmd.add_argument("--out", default="labels.pdf")
    labels_cmd.add_argument("--scale", choices=("small", "medium", "large"), default="small")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        sys.exit(f"configuration error: {exc}")
    db = store.database(settings)
    from seed.loader import load

    if args.command == "load":
        if settings.demo:
            print("MONGO_URI is not set: loading into a throwaway in-memory store (the service loads its own demo "
                  "data at start). Set MONGO_URI to load a real database.")
        summary = load(db, args.scale, force=args.force)
        print(", ".join(f"{k}={v}" for k, v in summary.items()))
    else:
        from seed.labels import label_rows, write_labels

        load(db, args.scale)
        count = write_labels(label_rows(db), args.out)
        print(f"wrote {count} labels to {os.path.abspath(args.out)}")


if __name__ == "__main__":
    main()
