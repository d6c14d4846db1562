"""Alembic, configured from code: the migrations ship inside the package, so a wheel migrates."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect

from .engine import make_engine, normalise_url

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    # '%' is ConfigParser interpolation: a password may contain it
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(config(url), revision)


def downgrade(url: str, revision: str) -> None:
    """Back to `revision` (tests of a migration's way down and of data from before it)."""
    command.downgrade(config(url), revision)


def is_empty(url: str) -> bool:
    """True when the database has none of our tables yet (serve migrates it then)."""
    engine = make_engine(url)
    try:
        return "alembic_version" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()
