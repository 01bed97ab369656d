"""Flask CLI commands: `flask --app api db init`, `db recover`, `users create`, `users sign-out-all`, `epcis deliver`."""
from datetime import datetime, timezone

import click
from flask.cli import AppGroup

from inspector import recovery
from inspector.accounts import users as accounts
from inspector.audit import chain as audit
from inspector.accounts import sessions
from inspector.notifications import sweep as notification_sweep, worker as notification_worker
from inspector.store.indexes import apply_indexes
from inspector.store.connection import UNAVAILABLE_ERRORS

from .audit_cli import audit_cli
from .context import db, settings

db_cli = AppGroup("db", help="Database maintenance.")


@db_cli.command("init")
def db_init():
    """Create every declared index (idempotent)."""
    created = apply_indexes(db())
    for collection, names in created.items():
        click.echo(f"{collection}: {', '.join(names)}")


@db_cli.command("recover")
def db_recover():
    """Finish what stopped processes left (rollbacks, half-applied submissions, audit promises), as a start does."""
    finished = recovery.at_start(db(), datetime.now(timezone.utc), {})
    click.echo(f"rollbacks resumed: {len(finished['rollbacks_resumed'])}; half-applied submissions rolled back: "
               f"{len(finished['stalled_rolled_back'])}; audit entries written: {finished['promises_settled']}")


users_cli = AppGroup("users", help="User accounts.")


@users_cli.command("create")
@click.option("--username", required=True)
@click.option("--role", required=True, type=click.Choice(accounts.ROLES))
@click.option("--enterprise-id", default=None, help="Required for, and only for, the enterprise role.")
@click.option("--province", "provinces", multiple=True, help="Supervisors only; repeat for several.")
@click.option("--display-name", default=None)
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
def users_create(username, role, enterprise_id, provinces, display_name, password_stdin):
    """Create a user, such as the first admin of a production database."""
    if password_stdin:
        password = click.get_text_stream("stdin").readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user, _ = accounts.register_user(db(), {"username": "cli", "role": "system"}, username, role,
                                         password=password, enterprise_id=enterprise_id,
                                         provinces=list(provinces) or None, display_name=display_name)
    except (accounts.AccountError, *UNAVAILABLE_ERRORS) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created {user['role']} {user['username']} ({user['_id']})")


@users_cli.command("sign-out-all")
@click.option("--reason", required=True, help="Kept on every revoked session, e.g. 'restored from backup'.")
def users_sign_out_all(reason):
    """Revoke every live session, so that every device signs in again (after a restore, or a leaked key)."""
    try:
        revoked = sessions.revoke(db(), {}, reason)
        audit.record(db(), {"username": "cli", "role": "system"}, "sessions.revoke_all", {"sessions": revoked},
                     {"reason": reason})
    except UNAVAILABLE_ERRORS as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"revoked {revoked} live session(s)")


notifications_cli = AppGroup("notifications", help="The notification worker: deadlines, e-mail, webhooks.")


@notifications_cli.command("sweep")
def notifications_sweep():
    """Record the events the clock raises now (deadlines soon and passed, missing ledgers); sends nothing."""
    found = notification_sweep.sweep(db(), settings(), datetime.now(timezone.utc))
    click.echo(", ".join(f"{k}: {v}" for k, v in found.items()))


@notifications_cli.command("work")
@click.option("--once", is_flag=True, help="One round, then exit (for cron).")
@click.option("--interval", default=60, show_default=True, help="Seconds between rounds.")
def notifications_work(once, interval):
    """Sweep, send the e-mails due and POST the webhooks due, every interval (outside any web request)."""
    if once:
        click.echo(notification_worker.run_once(db(), settings()))
        return
    notification_worker.run_forever(db(), settings(), interval)


epcis_cli = AppGroup("epcis", help="The EPCIS repository.")


@epcis_cli.command("deliver")
def epcis_deliver():
    """Push named queries' new events to their webhook subscribers (run it once a minute, from cron)."""
    from inspector.ledger.epcis.delivery import deliver
    for sent in deliver(db(), datetime.now(timezone.utc)):
        click.echo(f"{sent['subscriptionID']}: {sent['sent']} event(s), {sent['status']}")


def register(app):
    """Attach the command groups to the app."""
    app.cli.add_command(db_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(notifications_cli)
    app.cli.add_command(epcis_cli)
