"""The fallback publisher (pbx/services/fallback.py) keeps astdb's `pbx-fallback` family
equal to the routing snapshot: sent whole when Asterisk's copy is unknown (first
publish, AMI re-login, a publish cut off midway), otherwise only what changed (a
tenant's edit is not thousands of AMI actions)."""
from __future__ import annotations

from datetime import datetime, timezone

from pbx.asterisk.ami import Ami
from pbx.domain.errors import AsteriskUnavailable
from pbx.routing import fallback
from pbx.routing.snapshot import build
from pbx.routing.snapshot_update import Changes, update
from pbx.services.fallback import FallbackPublisher
from tests.unit.routing_rows import rows


class AstdbAmi(Ami):
    """Asterisk's database as seen over AMI: actions change `tree`; `sent` lists them."""

    def __init__(self, tree: dict[str, str]):
        self.tree, self.sent = dict(tree), []
        self.up = True
        self.fail_after: int | None = None  # AMI goes away after this many actions

    @property
    def connected(self) -> bool:
        return self.up

    async def action(self, message: dict, timeout_s: float | None = None):
        if self.fail_after is not None and len(self.sent) >= self.fail_after:
            raise AsteriskUnavailable("gone")
        self.sent.append((message["Action"], message.get("Key")))
        prefix = f"/{message.get('Family')}/"
        if message["Action"] == "DBGetTree":
            return [{"Event": "DBGetTreeResponse", "Key": prefix + k, "Val": v} for k, v in self.tree.items()]
        if message["Action"] == "DBPut":
            self.tree[message["Key"]] = message["Val"]
        if message["Action"] == "DBDel":
            self.tree.pop(message["Key"])
        return []


class Snapshots:
    def __init__(self, snap):
        self.snap = snap

    async def get(self):
        return self.snap


SNAP = build(rows())
WANTED = fallback.entries(SNAP, datetime.now(timezone.utc))


def publisher(tree: dict[str, str], snap=SNAP) -> tuple[FallbackPublisher, AstdbAmi, Snapshots]:
    ami, snapshots = AstdbAmi(tree), Snapshots(snap)
    return FallbackPublisher(snapshots, ami), ami, snapshots


def one_extension_fewer():
    data = rows()
    data.extensions = [e for e in data.extensions if e[3] != "103-t1"]
    return build(data)


async def test_the_first_publish_makes_astdb_the_snapshot_removing_strays():
    pub, ami, _ = publisher({"ep/old-phone": "9", "did/905550000000": "hangup"})
    await pub.publish_once()
    assert ami.tree == WANTED
    assert ("DBGetTree", None) in ami.sent and ("DBDel", "ep/old-phone") in ami.sent


async def test_after_a_change_only_the_difference_is_sent():
    pub, ami, snapshots = publisher({})
    await pub.publish_once()
    ami.sent.clear()
    snapshots.snap = one_extension_fewer()
    await pub.publish_once()
    assert ami.tree == fallback.entries(snapshots.snap, datetime.now(timezone.utc))
    assert ("DBGetTree", None) not in ami.sent  # what astdb holds is known
    assert {key for action, key in ami.sent if action == "DBDel"} >= {"ep/103-t1", "ext/1/103"}
    assert len(ami.sent) < len(WANTED) // 2


async def test_a_relogin_sends_everything_again():
    pub, ami, _ = publisher({})
    await pub.publish_once()
    ami.tree = {"ep/left-by-someone": "1"}  # Asterisk restarted, or astdb was edited meanwhile
    ami.sent.clear()
    pub.resync()
    await pub.publish_once()
    assert ami.tree == WANTED and ("DBGetTree", None) in ami.sent


async def test_a_publish_cut_off_midway_leaves_the_state_unknown_and_asks_again():
    pub, ami, _ = publisher({"stray": "x"})
    ami.fail_after = 3
    await pub.publish_once()
    assert pub._loop.poked  # tried again, not only at the next minute
    ami.fail_after = None
    ami.sent.clear()
    await pub.publish_once()
    assert ami.tree == WANTED and ("DBGetTree", None) in ami.sent


async def test_without_ami_nothing_is_sent_and_the_next_login_publishes():
    pub, ami, _ = publisher({})
    ami.up = False
    await pub.publish_once()
    assert ami.sent == [] and ami.tree == {}
    ami.up = True
    pub.resync()
    assert pub._loop.poked
    await pub.publish_once()
    assert ami.tree == WANTED


async def test_after_the_first_publish_only_the_changed_extension_is_sent():
    snapshots, astdb = Snapshots(build(rows())), AstdbAmi({})
    publisher = FallbackPublisher(snapshots, astdb)
    await publisher.publish_once()
    assert astdb.tree["ext/1/103"] == "dial:PJSIP/103-t1" and ("DBGetTree", None) in astdb.sent

    for row, expected in (((10, 1, "104", "104-t1", False, False), [("DBPut", "ep/104-t1"), ("DBPut", "ext/1/104")]),
                          (None, [("DBDel", "ep/104-t1"), ("DBDel", "ext/1/104")])):
        astdb.sent.clear()
        snapshots.snap = update(snapshots.snap, Changes(rows={"extensions": {10: (1, row)}}))
        await publisher.publish_once()
        assert sorted(astdb.sent) == expected
        assert astdb.tree == fallback.entries(snapshots.snap, None) | {
            k: v for k, v in astdb.tree.items() if k.startswith("did/")}

    astdb.sent.clear()
    await publisher.publish_once()  # nothing changed: nothing sent
    assert astdb.sent == []


async def test_a_reconnect_sends_everything_again():
    snapshots, astdb = Snapshots(build(rows())), AstdbAmi({})
    publisher = FallbackPublisher(snapshots, astdb)
    await publisher.publish_once()
    astdb.tree.clear()  # Asterisk restarted with an empty astdb
    publisher.resync()
    await publisher.publish_once()
    assert astdb.tree["ep/101-t2"] == "2"


async def test_a_restarted_control_plane_sends_nothing_asterisk_already_has():
    snapshots, astdb = Snapshots(build(rows())), AstdbAmi({})
    await FallbackPublisher(snapshots, astdb).publish_once()
    astdb.sent.clear()
    await FallbackPublisher(snapshots, astdb).publish_once()  # a new process: astdb's copy is unknown to it
    assert astdb.sent == [("DBGetTree", None)]
