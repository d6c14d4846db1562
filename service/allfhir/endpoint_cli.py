"""`allfhir endpoint add ADDRESS | list | remove ID`: where reports are delivered (Endpoints).

`add` checks the Endpoint as the API's `POST /fhir/Endpoint` does and prints its id; the secret
(API key or OAuth2 client secret) is read from a file or stdin, never from the command line,
where other users of the machine could see it in the process list.
"""

from __future__ import annotations

import argparse
import sys

from .db_cli import migrated_store

PAYLOADS = {"transaction": "genomic-report-transaction", "message": "genomic-report-message",
            "hl7v2": "genomic-report-hl7v2"}


def _secret(path: str | None) -> str | None:
    if path is None:
        return None
    text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()
    return text.strip() or None


def cmd_add(args: argparse.Namespace) -> int:
    from .exchange import endpoints as resources
    from .store import endpoints

    resource = resources.resource(
        args.address, PAYLOADS[args.payload], name=args.name, auth=args.auth,
        secret=_secret(args.secret_file), api_key_header=args.api_key_header,
        token_url=args.token_url, client_id=args.client_id, scope=args.scope,
        connect_timeout=args.connect_timeout, read_timeout=args.read_timeout,
        filter=args.filter, status=args.status)
    served, secret = resources.check(resource)  # an InputError: OperationOutcome, exit 2
    stored = endpoints.create(migrated_store(), served, secret)
    print(f"Endpoint/{stored['id']}\t{args.payload}\t{args.address}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from .exchange.endpoints import payload_code
    from .store import endpoints

    names = {code: name for name, code in PAYLOADS.items()}
    for e in endpoints.every(migrated_store()):
        settings = {s["url"]: next(v for k, v in s.items() if k.startswith("value"))
                    for x in e.get("extension", []) for s in x.get("extension", [])}
        print("\t".join([e["id"], e["status"], names.get(payload_code(e) or "", "?"), e["address"],
                         settings.get("auth", "none"), settings.get("filter", "-"), e.get("name", "")]))
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    from .store import endpoints

    if not endpoints.remove(migrated_store(), args.id.removeprefix("Endpoint/")):
        print(f"no Endpoint '{args.id}'", file=sys.stderr)
        return 2
    print(f"removed Endpoint/{args.id.removeprefix('Endpoint/')}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    ep = sub.add_parser("endpoint", help="destinations reports are delivered to (FHIR Endpoints)")
    actions = ep.add_subparsers(dest="endpoint_command", required=True)
    add = actions.add_parser("add", help="add a destination; prints Endpoint/<id>")
    add.add_argument("address", help="the receiver's FHIR base URL, e.g. https://ehr.example/fhir "
                     "(hl7v2: mllp://host:port)")
    add.add_argument("--payload", choices=sorted(PAYLOADS), default="transaction",
                     help="transaction: POST [base] a transaction Bundle; message: POST "
                     "[base]/$process-message a message Bundle; hl7v2: an ORU^R01 over MLLP "
                     "(default: transaction)")
    add.add_argument("--name")
    add.add_argument("--auth", choices=["none", "api-key", "oauth2-client-credentials"],
                     default="none")
    add.add_argument("--secret-file", help="file holding the API key or client secret ('-': stdin)")
    add.add_argument("--api-key-header", help="header carrying the API key (default X-API-Key)")
    add.add_argument("--token-url", help="OAuth2 token endpoint")
    add.add_argument("--client-id", help="OAuth2 client id")
    add.add_argument("--scope", help="OAuth2 scopes, space separated")
    add.add_argument("--connect-timeout", type=float, help="seconds (default 5)")
    add.add_argument("--read-timeout", type=float, help="seconds (default 30)")
    add.add_argument("--filter", help="which reports go here, e.g. 'DiagnosticReport?status=final'")
    add.add_argument("--status", default="active", choices=["active", "suspended", "off", "test"])
    add.set_defaults(func=cmd_add)
    actions.add_parser("list", help="id, status, payload, address, auth, filter, name (never "
                       "secrets)").set_defaults(func=cmd_list)
    rm = actions.add_parser("remove", help="remove a destination by id")
    rm.add_argument("id")
    rm.set_defaults(func=cmd_remove)
