"""`allfhir apikey create NAME --scope S... | list | revoke NAME`: service-account API keys.

The key is printed once, as the last line of output; only its sha256 is stored.
"""

from __future__ import annotations

import argparse
import sys

from .db_cli import migrated_store


def cmd_create(args: argparse.Namespace) -> int:
    from .api.scopes import permissions
    from .store import apikeys

    bad = [s for s in args.scope if permissions(s) is None]
    if bad:
        print(f"not a SMART system scope: {', '.join(bad)} (e.g. system/*.read, "
              "system/DiagnosticReport.rs, system/*.write)", file=sys.stderr)
        return 2
    try:
        key = apikeys.create(migrated_store(), args.name, args.scope)
    except apikeys.KeyExists:
        print(f"an API key named '{args.name}' exists (revoke it, or choose another name)",
              file=sys.stderr)
        return 2
    print(f"API key '{args.name}' with scopes {' '.join(args.scope)}; shown once, store it now:")
    print(key)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from .store import apikeys

    for k in apikeys.listing(migrated_store()):
        state = "revoked" if k.revoked else "active"
        print(f"{k.name}\t{state}\t{k.created.date().isoformat()}\t{' '.join(k.scopes)}")
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    from .store import apikeys

    if not apikeys.revoke(migrated_store(), args.name):
        print(f"no API key named '{args.name}'", file=sys.stderr)
        return 2
    print(f"revoked '{args.name}'")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    keys = sub.add_parser("apikey", help="API keys of service accounts")
    actions = keys.add_subparsers(dest="apikey_command", required=True)
    create = actions.add_parser("create", help="make a key (printed once, as the last line)")
    create.add_argument("name")
    create.add_argument("--scope", nargs="+", required=True,
                        help="SMART system scopes, e.g. system/*.read system/*.write")
    create.set_defaults(func=cmd_create)
    actions.add_parser("list", help="names, state and scopes (never the keys)").set_defaults(func=cmd_list)
    revoke = actions.add_parser("revoke", help="revoke a key by name")
    revoke.add_argument("name")
    revoke.set_defaults(func=cmd_revoke)
