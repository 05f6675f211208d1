"""SMS through Netgsm's documented REST v2 API (POST <base>/sms/rest/v2/send, HTTP Basic
auth with the user code and password, JSON body with msgheader, encoding "TR" for Turkish
letters and the messages: one or many, each with its own text and number; it answers
{"code": "00", "jobid": ...} when it has accepted them all). Configured by PBX_SMS_URL (the API's base; empty: no SMS is sent), PBX_SMS_USER,
PBX_SMS_PASSWORD and PBX_SMS_HEADER (the sender name Netgsm registered)."""
from __future__ import annotations

from dataclasses import dataclass

import aiohttp

SEND_PATH = "/sms/rest/v2/send"
ACCEPTED = "00"


class SmsError(RuntimeError):
    """Not accepted: the caller retries later."""


@dataclass(frozen=True)
class NetgsmSms:
    base_url: str
    user: str
    password: str
    header: str
    timeout_s: float = 20.0

    @property
    def configured(self) -> bool:
        return bool(self.base_url)

    @staticmethod
    def national(e164: str) -> str:
        """Netgsm wants Turkish mobiles as 5XXXXXXXXX; others keep their country code."""
        return e164[3:] if e164.startswith("+90") else e164.lstrip("+")

    def body(self, messages: list[tuple[str, str]]) -> dict:
        return {"msgheader": self.header, "encoding": "TR", "iysfilter": "0",
                "messages": [{"msg": text, "no": self.national(phone)} for phone, text in messages]}

    async def send(self, session: aiohttp.ClientSession, phone: str, text: str) -> str:
        """Returns Netgsm's job id; raises SmsError unless accepted."""
        return await self.send_many(session, [(phone, text)])

    async def send_many(self, session: aiohttp.ClientSession, messages: list[tuple[str, str]]) -> str:
        """(phone, text) pairs in one request (Netgsm's n:n form: a text per number); returns the
        job id of them all. Netgsm accepts or refuses the request whole: raises SmsError unless
        accepted."""
        if not self.configured:
            raise SmsError("PBX_SMS_URL is not set")
        try:
            async with session.post(self.base_url.rstrip("/") + SEND_PATH, json=self.body(messages),
                                    auth=aiohttp.BasicAuth(self.user, self.password),
                                    timeout=aiohttp.ClientTimeout(total=self.timeout_s)) as response:
                answer = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise SmsError(f"netgsm unreachable: {type(exc).__name__}") from exc
        if response.status != 200 or not isinstance(answer, dict) or answer.get("code") != ACCEPTED:
            raise SmsError(f"netgsm refused: HTTP {response.status} {str(answer)[:100]}")
        return str(answer.get("jobid", ""))
