"""``diagkit config get|set|unset KEY [VALUE]``: named settings in settings.json (today: who
signs cases and customer updates, and the From address of .eml updates)."""

from __future__ import annotations

import argparse
from typing import TextIO

from diagkit.cli.common import EXIT_OK, help_of


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = sub.add_parser(
        "config", help="your settings: engineer name, e-mail",
        description="Settings stored in settings.json of the config folder. 'engineer' is the "
                    "name cases, journal entries, metrics and customer updates carry (default: "
                    "the login name); 'email' the From address of .eml updates.")
    group.set_defaults(handler=help_of(group))
    acts = group.add_subparsers(dest="config_command", metavar="ACTION")
    gt = acts.add_parser("get", help="show a setting (all of them without KEY)")
    gt.add_argument("key", nargs="?", metavar="KEY", help="engineer or email")
    gt.set_defaults(handler=_get)
    st = acts.add_parser("set", help='set a setting, e.g. config set engineer "Ann Smith"')
    st.add_argument("key", metavar="KEY", help="engineer or email")
    st.add_argument("value", metavar="VALUE")
    st.set_defaults(handler=_set)
    un = acts.add_parser("unset", help="go back to a setting's default")
    un.add_argument("key", metavar="KEY", help="engineer or email")
    un.set_defaults(handler=_unset)


def _get(args: argparse.Namespace, out: TextIO) -> int:
    from diagkit import config

    keys = [args.key] if args.key else sorted(config.SETTABLE)
    for key in keys:
        value = config.get_setting(key)
        if args.key:
            print(value if value is not None else f"({key} is not set: "
                  f"{config.SETTABLE[key]})", file=out)
        else:
            print(f"{key} = {value if value is not None else '(not set)'}", file=out)
    return EXIT_OK


def _set(args: argparse.Namespace, out: TextIO) -> int:
    from diagkit import config

    value = config.set_setting(args.key, args.value)
    print(f"{args.key} = {value}", file=out)
    return EXIT_OK


def _unset(args: argparse.Namespace, out: TextIO) -> int:
    from diagkit import config

    was = config.unset_setting(args.key)
    print(f"{args.key} is {'no longer set' if was else 'not set'}; the default applies.", file=out)
    return EXIT_OK
