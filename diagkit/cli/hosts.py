"""``diagkit hosts`` (saved hosts and their SSH passwords) and ``diagkit keys`` (passphrases)."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from diagkit.cli.common import EXIT_OK, help_of
from diagkit.cli.output import dump, table
from diagkit.errors import ConfigError, DiagkitError

if TYPE_CHECKING:
    from diagkit.hosts import HostStore

JSON_SCHEMA_HOSTS = "diagkit.hosts/1"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = sub.add_parser("hosts", help="saved hosts")
    group.set_defaults(handler=help_of(group))
    hosts = group.add_subparsers(dest="hosts_command", metavar="ACTION")
    hl = hosts.add_parser("list", help="list saved hosts")
    hl.add_argument("--json", action="store_true")
    hl.set_defaults(handler=_list)
    for name, helptext in (("add", "save a host"), ("edit", "change a saved host")):
        p = hosts.add_parser(name, help=helptext)
        p.add_argument("name")
        if name == "add":
            p.add_argument("address", help="host name, IP or ~/.ssh/config alias")
        else:
            p.add_argument("--address")
            p.add_argument("--rename", metavar="NEW_NAME")
        p.add_argument("--port", type=int)
        p.add_argument("--user")
        p.add_argument("--jump", metavar="[USER@]HOST[:PORT][,...]", help="ProxyJump chain")
        p.add_argument("--group")
        p.add_argument("--tags", help="comma-separated")
        p.add_argument("--notes")
        p.add_argument("--identity-file", metavar="KEY", help="private key to try first")
        p.add_argument("--log-path", action="append", dest="log_paths", metavar="PATH_OR_GLOB",
                       help="an application log the logs probe scans besides /var/log and the "
                            "journal: an absolute path or glob, expanded on the host, e.g. "
                            "'/srv/shop/logs/*.log' (repeatable"
                            + ("; replaces the saved list" if name == "edit" else "") + ")")
        if name == "edit":
            p.add_argument("--clear-log-paths", action="store_true",
                           help="forget the host's application log paths")
        p.set_defaults(handler=_add if name == "add" else _edit)
    hg = hosts.add_parser("group", help="show or set what every host of a group shares: "
                                        "application log paths")
    hg.add_argument("group", help="the --group of saved hosts")
    hg.add_argument("--log-path", action="append", dest="log_paths", metavar="PATH_OR_GLOB",
                    help="an application log of the group's hosts (repeatable; replaces the list)")
    hg.add_argument("--clear-log-paths", action="store_true",
                    help="forget the group's application log paths")
    hg.set_defaults(handler=_group)
    hr = hosts.add_parser("remove", help="forget a saved host and its stored password")
    hr.add_argument("name")
    hr.set_defaults(handler=_remove)
    hi = hosts.add_parser("import-ssh-config", help="save every Host alias of ~/.ssh/config")
    hi.add_argument("--file", help="another ssh config file")
    hi.set_defaults(handler=_import_ssh_config)
    hp = hosts.add_parser("set-password", help="store a host's SSH password in the OS keyring")
    hp.add_argument("name")
    hp.add_argument("--stdin", action="store_true", help="read the password from standard input")
    hp.set_defaults(handler=_set_password)
    hd = hosts.add_parser("delete-password", help="remove a host's password from the keyring")
    hd.add_argument("name")
    hd.set_defaults(handler=_delete_password)

    group = sub.add_parser("keys", help="SSH key passphrases")
    group.set_defaults(handler=help_of(group))
    keys = group.add_subparsers(dest="keys_command", metavar="ACTION")
    ks = keys.add_parser("set-passphrase", help="store a private key's passphrase in the OS keyring")
    ks.add_argument("key_file")
    ks.add_argument("--stdin", action="store_true", help="read the passphrase from standard input")
    ks.set_defaults(handler=_set_passphrase)
    kd = keys.add_parser("delete-passphrase", help="remove a key's passphrase from the keyring")
    kd.add_argument("key_file")
    kd.set_defaults(handler=_delete_passphrase)


def _store() -> HostStore:
    from diagkit.hosts import HostStore

    return HostStore()


def _list(args: argparse.Namespace, out: TextIO) -> int:
    hosts = _store().load()
    if args.json:
        dump({"schema": JSON_SCHEMA_HOSTS, "hosts": [h.to_dict() for h in hosts]}, out)
    elif not hosts:
        print("No saved hosts. Add one with 'diagkit hosts add NAME ADDRESS' or "
              "'diagkit hosts import-ssh-config'.", file=out)
    else:
        rows = [(h.name, h.destination, h.jump or "", h.group, ",".join(h.tags), h.notes,
                 " ".join(h.log_paths))
                for h in hosts]
        table(("NAME", "DESTINATION", "JUMP", "GROUP", "TAGS", "NOTES", "LOGS"), rows, out)
    return EXIT_OK


def _add(args: argparse.Namespace, out: TextIO) -> int:
    from diagkit.hosts import SavedHost, parse_log_paths, parse_tags

    host = SavedHost(name=args.name, address=args.address, port=args.port, user=args.user,
                     jump=args.jump, group=args.group or "", tags=parse_tags(args.tags or ""),
                     notes=args.notes or "", identity_file=args.identity_file,
                     log_paths=parse_log_paths(args.log_paths or ()))
    _store().add(host)
    print(f"Saved host {host.name} ({host.destination}).", file=out)
    return EXIT_OK


def _edit(args: argparse.Namespace, out: TextIO) -> int:
    store = _store()
    changes = {"address": args.address, "port": args.port, "user": args.user, "jump": args.jump,
               "group": args.group, "tags": args.tags, "notes": args.notes, "name": args.rename,
               "identity_file": args.identity_file,
               "log_paths": () if args.clear_log_paths else args.log_paths}
    if args.clear_log_paths and args.log_paths:
        raise ConfigError("Give --log-path or --clear-log-paths, not both.")
    if all(v is None for v in changes.values()):
        raise ConfigError("Nothing to change: give at least one of --address, --port, --user, "
                          "--jump, --group, --tags, --notes, --identity-file, --log-path, "
                          "--clear-log-paths, --rename (an empty value such as --user '' clears "
                          "a field).")
    host = store.update(args.name, **changes)
    if args.rename and args.rename != args.name:
        from diagkit import credentials

        try:
            credentials.move_password(f"host:{args.name}", host.password_account)
        except DiagkitError as exc:
            print(f"warning: the stored password was not moved to the new name: {exc}",
                  file=sys.stderr)
    print(f"Updated host {host.name} ({host.destination}).", file=out)
    return EXIT_OK


def _group(args: argparse.Namespace, out: TextIO) -> int:
    store = _store()
    if args.clear_log_paths and args.log_paths:
        raise ConfigError("Give --log-path or --clear-log-paths, not both.")
    if args.log_paths or args.clear_log_paths:
        paths = store.set_group_log_paths(args.group, args.log_paths or ())
    else:
        paths = store.group_log_paths(args.group)
    members = [h.name for h in store.load() if h.group == args.group]
    print(f"Group {args.group} ({len(members)} host(s): {', '.join(members) or 'none yet'})",
          file=out)
    if paths:
        print("Application logs scanned by the logs probe:", file=out)
        for path in paths:
            print(f"  {path}", file=out)
    else:
        print(f"No application log paths. Add some with 'diagkit hosts group {args.group} "
              "--log-path /srv/app/logs/*.log'.", file=out)
    return EXIT_OK


def _remove(args: argparse.Namespace, out: TextIO) -> int:
    from diagkit import credentials

    host = _store().remove(args.name)
    try:
        credentials.delete_password(host.password_account)
    except DiagkitError:
        pass  # no keyring: there was nothing stored either
    print(f"Removed host {host.name}.", file=out)
    return EXIT_OK


def _import_ssh_config(args: argparse.Namespace, out: TextIO) -> int:
    from diagkit.hosts import import_ssh_config

    added, skipped = import_ssh_config(_store(),
                                       Path(args.file).expanduser() if args.file else None)
    for host in added:
        print(f"Imported {host.name}", file=out)
    if skipped:
        print(f"Already saved, left unchanged: {', '.join(skipped)}", file=out)
    if not added and not skipped:
        print("No concrete Host aliases found (wildcard patterns are not imported).", file=out)
    return EXIT_OK


def _set_password(args: argparse.Namespace, out: TextIO) -> int:
    from diagkit import credentials

    host = _store().get(args.name)
    if args.stdin:
        secret = sys.stdin.readline().rstrip("\r\n")
    else:
        secret = getpass.getpass(f"SSH password for {host.destination} (not shown): ")
    if not secret:
        raise ConfigError("No password given; nothing stored.")
    where = credentials.set_password(host.password_account, secret)
    print(f"Password for {host.name} stored in the keyring ({where}).", file=out)
    return EXIT_OK


def _delete_password(args: argparse.Namespace, out: TextIO) -> int:
    from diagkit import credentials

    host = _store().get(args.name)
    credentials.delete_password(host.password_account)
    print(f"Password for {host.name} removed from the keyring.", file=out)
    return EXIT_OK


def _delete_passphrase(args: argparse.Namespace, out: TextIO) -> int:
    from diagkit import credentials

    path = Path(args.key_file).expanduser().resolve()
    credentials.delete_key_passphrase(str(path))
    print(f"Passphrase for {path} removed from the keyring.", file=out)
    return EXIT_OK


def _set_passphrase(args: argparse.Namespace, out: TextIO) -> int:
    from diagkit import credentials

    path = Path(args.key_file).expanduser().resolve()
    if not path.is_file():
        raise ConfigError(f"There is no key file at {path}. Give the path of the private key.")
    if args.stdin:
        secret = sys.stdin.readline().rstrip("\r\n")
    else:
        secret = getpass.getpass(f"Passphrase of {path} (not shown): ")
    if not secret:
        raise ConfigError("No passphrase given; nothing stored.")
    from diagkit.transport.ssh import check_key_passphrase

    if not check_key_passphrase(str(path), secret):
        print(f"{path} is not encrypted: it needs no passphrase; nothing stored.", file=out)
        return EXIT_OK
    where = credentials.set_key_passphrase(str(path), secret)
    print(f"Passphrase for {path} stored in the keyring ({where}).", file=out)
    return EXIT_OK
