"""Setting a decision's variables: one MSet round trip when every value is plain."""
import pytest

from pbx.agi.server import MSET_MAX, AgiError, set_variables


class Request:
    def __init__(self, reply="200 result=0"):
        self.sent, self.reply = [], reply

    async def send_command(self, command):
        from panoramisk.utils import parse_agi_result

        self.sent.append(command)
        return parse_agi_result(self.reply)


async def test_plain_values_go_in_one_mset_in_order():
    request = Request()
    await set_variables(request, [("PBX_DIAL", "PJSIP/101-a&PJSIP/102-b"), ("PBX_NOTICE", ""),
                                  ("PBX_ACTION", "dial")])
    assert request.sent == ['EXEC MSet "PBX_DIAL=PJSIP/101-a&PJSIP/102-b,PBX_NOTICE=,PBX_ACTION=dial"']


@pytest.mark.parametrize("value", ["a,b", "${EVIL}", "a b", "(x)", "a=b", "[x]", "a|b"])
async def test_anything_else_goes_one_set_variable_each(value):
    request = Request("200 result=1")
    await set_variables(request, [("PBX_PLAYBACK", value), ("PBX_ACTION", "announce")])
    assert request.sent == [f'SET VARIABLE PBX_PLAYBACK "{value}"', 'SET VARIABLE PBX_ACTION "announce"']


async def test_long_commands_are_split():
    request = Request("200 result=1")
    await set_variables(request, [("PBX_DIAL", "x" * MSET_MAX), ("PBX_ACTION", "dial")])
    assert len(request.sent) == 2


@pytest.mark.parametrize("reply", ["200 result=-2", "510 Invalid or unknown command", "511 Command Not Permitted"])
async def test_a_failed_mset_is_an_error(reply):
    with pytest.raises(AgiError):
        await set_variables(Request(reply), [("PBX_ACTION", "dial")])
