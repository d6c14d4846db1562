"""`allfhir user add NAME --role lab|viewer | list | remove NAME`: people of the web pages.

The password is asked twice on a terminal; otherwise it is the first line of standard input
(`printf '%s\\n' "$PW" | allfhir user add ...`), so it never appears in a process list or a
shell history as an argument would.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from .db_cli import migrated_store

MIN_PASSWORD = 12  # NIST SP 800-63B asks at least 8; a lab account reads patients' reports


def _password(name: str) -> str | None:
    if sys.stdin.isatty():
        first = getpass.getpass(f"password for {name}: ")
        if getpass.getpass("again: ") != first:
            print("the passwords differ", file=sys.stderr)
            return None
        return first
    return sys.stdin.readline().rstrip("\r\n")


def cmd_add(args: argparse.Namespace) -> int:
    from .store import users

    password = _password(args.name)
    if password is None:
        return 2
    if len(password) < MIN_PASSWORD:
        print(f"the password must have at least {MIN_PASSWORD} characters", file=sys.stderr)
        return 2
    try:
        users.add(migrated_store(), args.name, password, args.role)
    except users.UserExists:
        print(f"a user named '{args.name}' exists (remove it, or choose another name)",
              file=sys.stderr)
        return 2
    print(f"user '{args.name}' with role {args.role}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from .store import users

    for u in users.listing(migrated_store()):
        state = "disabled" if u.disabled else "active"
        print(f"{u.name}\t{u.role}\t{state}\t{u.created.date().isoformat()}")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    from .store import users

    if not users.remove(migrated_store(), args.name):
        print(f"no user named '{args.name}'", file=sys.stderr)
        return 2
    print(f"removed '{args.name}'")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    people = sub.add_parser("user", help="users of the web pages (roles lab and viewer)")
    actions = people.add_subparsers(dest="user_command", required=True)
    add = actions.add_parser("add", help="add a user (password from a prompt or standard input)")
    add.add_argument("name")
    add.add_argument("--role", choices=["lab", "viewer"], required=True,
                     help="lab: upload and read reports; viewer: read reports only")
    add.set_defaults(func=cmd_add)
    actions.add_parser("list", help="names, roles and states (never passwords)").set_defaults(
        func=cmd_list)
    remove = actions.add_parser("remove", help="remove a user by name")
    remove.add_argument("name")
    remove.set_defaults(func=cmd_remove)
