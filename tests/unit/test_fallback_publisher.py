"""The fallback publisher sends astdb only what changed since its last publish, worked out
from the snapshot step (not by walking every extension), and everything after a reconnect."""
from pbx.asterisk.ami import Ami
from pbx.routing import fallback
from pbx.routing.snapshot import build
from pbx.routing.snapshot_update import Changes, update
from pbx.services.fallback import FallbackPublisher
from tests.unit.routing_rows import rows


class AstDb(Ami):
    connected = True

    def __init__(self):
        self.tree, self.sent = {}, []

    async def action(self, message: dict):
        self.sent.append((message["Action"], message.get("Key")))
        if message["Action"] == "DBGetTree":
            return [{"Event": "DBGetTreeResponse", "Key": f"/{fallback.FAMILY}/{k}", "Val": v}
                    for k, v in self.tree.items()]
        if message["Action"] == "DBPut":
            self.tree[message["Key"]] = message["Val"]
        if message["Action"] == "DBDel":
            self.tree.pop(message["Key"])
        return []


class Snapshots:
    def __init__(self, snap):
        self.current = snap

    async def get(self):
        return self.current


async def test_after_the_first_publish_only_the_changed_extension_is_sent():
    snapshots, astdb = Snapshots(build(rows())), AstDb()
    publisher = FallbackPublisher(snapshots, astdb)
    await publisher.publish_once()
    assert astdb.tree["ext/1/103"] == "dial:PJSIP/103-t1" and ("DBGetTree", None) in astdb.sent

    for row, expected in (((10, 1, "104", "104-t1", False, False), [("DBPut", "ep/104-t1"), ("DBPut", "ext/1/104")]),
                          (None, [("DBDel", "ep/104-t1"), ("DBDel", "ext/1/104")])):
        astdb.sent.clear()
        snapshots.current = update(snapshots.current, Changes(rows={"extensions": {10: (1, row)}}))
        await publisher.publish_once()
        assert sorted(astdb.sent) == expected
        assert astdb.tree == fallback.entries(snapshots.current, None) | {
            k: v for k, v in astdb.tree.items() if k.startswith("did/")}

    astdb.sent.clear()
    await publisher.publish_once()  # nothing changed: nothing sent
    assert astdb.sent == []


async def test_a_reconnect_sends_everything_again():
    snapshots, astdb = Snapshots(build(rows())), AstDb()
    publisher = FallbackPublisher(snapshots, astdb)
    await publisher.publish_once()
    astdb.tree.clear()  # Asterisk restarted with an empty astdb
    publisher.resync()
    await publisher.publish_once()
    assert astdb.tree["ep/101-t2"] == "2"


async def test_a_restarted_control_plane_sends_nothing_asterisk_already_has():
    snapshots, astdb = Snapshots(build(rows())), AstDb()
    await FallbackPublisher(snapshots, astdb).publish_once()
    astdb.sent.clear()
    await FallbackPublisher(snapshots, astdb).publish_once()  # a new process: astdb's copy is unknown to it
    assert astdb.sent == [("DBGetTree", None)]
