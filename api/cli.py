"""Flask CLI commands: `flask --app api db init`."""
import click
from flask.cli import AppGroup

from inspector.indexes import apply_indexes

from .context import db

db_cli = AppGroup("db", help="Database maintenance.")


@db_cli.command("init")
def db_init():
    """Create every declared index (idempotent)."""
    created = apply_indexes(db())
    for collection, names in created.items():
        click.echo(f"{collection}: {', '.join(names)}")


def register(app):
    """Attach the command groups to the app."""
    app.cli.add_command(db_cli)
