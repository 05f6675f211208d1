"""The fallback snapshot in astdb is sent whole only when Asterisk's copy is unknown;
otherwise only what changed (a tenant's edit is not thousands of AMI actions)."""
from pbx.asterisk.ami import Ami


class RecordingAmi(Ami):
    def __init__(self, tree: dict[str, str]):
        self.tree, self.sent = dict(tree), []

    async def action(self, message: dict):
        self.sent.append((message["Action"], message.get("Key")))
        if message["Action"] == "DBGetTree":
            return [{"Event": "DBGetTreeResponse", "Key": f"/f/{k}", "Val": v} for k, v in self.tree.items()]
        if message["Action"] == "DBPut":
            self.tree[message["Key"]] = message["Val"]
        if message["Action"] == "DBDel":
            self.tree.pop(message["Key"])
        return []


async def test_unknown_state_is_read_first_then_only_the_difference_is_sent():
    ami = RecordingAmi({"a": "1", "b": "old", "stray": "x"})
    await ami.replace_family("f", {"a": "1", "b": "2", "c": "3"})
    assert ami.tree == {"a": "1", "b": "2", "c": "3"}
    assert ami.sent == [("DBGetTree", None), ("DBPut", "b"), ("DBPut", "c"), ("DBDel", "stray")]


async def test_known_state_sends_only_the_difference():
    before = {"a": "1", "b": "2", "gone": "3"}
    ami = RecordingAmi(before)
    await ami.replace_family("f", {"a": "1", "b": "changed", "new": "4"}, known=before)
    assert ami.tree == {"a": "1", "b": "changed", "new": "4"}
    assert sorted(ami.sent) == [("DBDel", "gone"), ("DBPut", "b"), ("DBPut", "new")]
