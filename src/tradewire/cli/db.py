"""``tradewire db``: schema migrations, status and read-model rebuild of the event store."""

from __future__ import annotations

import typer

DB_HELP = "Database URL (default: TRADEWIRE_DATABASE_URL, else sqlite:///./tradewire-data/tradewire.db)."


def register(app: typer.Typer) -> None:
    """Attach the ``db`` command group to ``app``."""
    db = typer.Typer(help="Event store database: migrations, status, read models.", no_args_is_help=True)

    @db.command("upgrade")
    def upgrade_cmd(db_url: str = typer.Option(None, "--db", help=DB_HELP),
                    revision: str = typer.Option("head", help="Target revision.")) -> None:  # fmt: skip
        """Apply schema migrations up to REVISION."""
        from tradewire.persistence.engine import create_db_engine, current_revision, upgrade

        engine = create_db_engine(db_url)
        try:
            before = current_revision(engine)
            upgrade(engine, revision)
            typer.echo(f"{engine.url.render_as_string()}: {before or 'empty'} -> {current_revision(engine)}")
        finally:
            engine.dispose()

    @db.command("status")
    def status_cmd(db_url: str = typer.Option(None, "--db", help=DB_HELP)) -> None:
        """Show the schema revision, event count and last sequence number."""
        from tradewire.persistence.engine import create_db_engine, current_revision, head_revision
        from tradewire.persistence.store import EventStore

        engine = create_db_engine(db_url)
        rev = current_revision(engine)
        typer.echo(f"database:  {engine.url.render_as_string()}")
        typer.echo(f"revision:  {rev or 'empty'} (newest {head_revision()})")
        if rev is None:
            engine.dispose()
            return
        with EventStore(engine) as store:
            typer.echo(f"events:    {store.count()}")
            typer.echo(f"last seq:  {store.last_seq()}")

    @db.command("rebuild")
    def rebuild_cmd(db_url: str = typer.Option(None, "--db", help=DB_HELP)) -> None:
        """Rebuild every read model (orders, fills, positions, closed trades, daily P&L) from the event log."""
        from tradewire.persistence import open_store
        from tradewire.persistence.read_models import rebuild_read_models

        with open_store(db_url) as store:
            summary = rebuild_read_models(store)
        typer.echo(" ".join(f"{k}={v}" for k, v in summary.items()))

    app.add_typer(db, name="db")
