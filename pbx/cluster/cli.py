"""`pbx cluster ...`: a one-machine cluster in the foreground, and its membership.

    pbx cluster up --nodes 3 [--dir D] [--offset N]   runs until Ctrl-C / SIGTERM, then removes it all
    pbx cluster state|drain|undrain --dir D [--node I]  what Kamailio sees; stop/allow new calls to a node
"""
from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

from pbx.cluster.kamailio import Kamailio, KamailioConfig


def add_commands(commands) -> None:
    cluster = commands.add_parser("cluster", help="Kamailio in front of N Asterisk nodes").add_subparsers(
        required=True, metavar="ACTION")
    up = cluster.add_parser("up", help="PostgreSQL, Kamailio and N nodes, each in its own network namespace")
    up.add_argument("--nodes", type=int, default=3)
    up.add_argument("--dir", type=Path, default=Path.cwd() / "var" / "cluster")
    up.add_argument("--offset", type=int, default=int(os.environ.get("PBX_TEST_PORT_OFFSET", "0")))
    up.set_defaults(func=cmd_up)
    for name, helptext in (("state", "each node's state as Kamailio's dispatcher sees it"),
                           ("drain", "no new calls or registrations to a node"),
                           ("undrain", "a drained node takes new calls again")):
        action = cluster.add_parser(name, help=helptext)
        action.add_argument("--dir", type=Path, default=Path.cwd() / "var" / "cluster")
        if name != "state":
            action.add_argument("--node", required=True, help="the node's SIP URI, e.g. sip:10.200.0.11:5060")
        action.set_defaults(func=cmd_membership, action=name)


def cmd_up(args) -> int:
    from pbx.cluster.up import Cluster, shared_dir_reset
    from pbx.config import settings_from_env

    if os.geteuid() != 0:
        sys.exit("pbx cluster up: network namespaces need root (CAP_NET_ADMIN)")
    shared_dir_reset(args.dir)
    cluster = Cluster(settings_from_env(), args.dir, offset=args.offset)
    signal.signal(signal.SIGTERM, _interrupt)  # ends like Ctrl-C: through the finally below
    try:
        cluster.up(args.nodes)
        print(json.dumps({"sip": cluster.proxy, "nodes": {i: n.api_base for i, n in cluster.nodes.items()}}),
              flush=True)
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        cluster.close()
    return 0


def _interrupt(_signum, _frame) -> None:
    raise KeyboardInterrupt


def cmd_membership(args) -> int:
    kamailio = Kamailio(KamailioConfig("", 0, args.dir / "kamailio", ""))
    if args.action != "state":
        kamailio.set_state(args.node, "d" if args.action == "drain" else "a")
    print(json.dumps(kamailio.states()))
    return 0
