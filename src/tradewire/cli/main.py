"""`tradewire` command line (typer). Sub-command groups live in their own modules and are added here."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="tradewire",
    help="tradewire: backtest, paper and live trading on one event-driven engine.",
    no_args_is_help=True,
    add_completion=False,
)


def _register() -> None:
    """Attach sub-command modules (each defines ``register(app)``)."""
    import importlib

    for mod in (
        "tradewire.cli.backtest", "tradewire.cli.run", "tradewire.cli.data", "tradewire.cli.db", "tradewire.cli.export",
        "tradewire.cli.webhook", "tradewire.cli.connections", "tradewire.cli.orderflow", "tradewire.cli.risk",
    ):  # fmt: skip
        try:
            module = importlib.import_module(mod)
        except ModuleNotFoundError as exc:
            if exc.name == mod:
                continue  # that command group is not part of this build
            raise
        module.register(app)


_register()

if __name__ == "__main__":
    app()
