"""In a cluster a phone's contact is held by the node it registered on, not by the node a
call arrived at. Every dial to an extension therefore goes out through Kamailio, addressed
to the callee's SIP id: Kamailio knows which node holds that registration and hands the call
to it (vouched for by its header), and that node rings the phone (dialplans/pbx.conf,
[pbx-cluster-in]). Trunk dials (PJSIP/<number>@<trunk>) are left alone."""
from __future__ import annotations

import re

_EXTENSION_TARGET = re.compile(r"PJSIP/([0-9A-Za-z-]+)(?=&|$)")


def through_proxy(dial: str, proxy: str) -> str:
    """'PJSIP/101-ab&PJSIP/102-cd' -> each target as PJSIP/<id>/sip:<id>@<proxy>."""
    if not proxy or not dial:
        return dial
    return _EXTENSION_TARGET.sub(lambda m: f"PJSIP/{m[1]}/sip:{m[1]}@{proxy}", dial)
