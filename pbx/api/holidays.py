"""GET /holidays/tr?year=: Turkey's public holidays for a year, offered by the panel when a
schedule is made (the `holidays` library keeps the religious holidays' dates, which move)."""
from __future__ import annotations

from datetime import date

import holidays as holiday_calendars
from aiohttp import web

from pbx.api.errors import json_response
from pbx.api.responses import STR, items, obj
from pbx.api.routes import Route
from pbx.domain.errors import Invalid

LANGUAGES = {"tr": "tr", "en": "en_US"}
HOLIDAY = obj(date={"type": "string", "format": "date"}, name=STR)


def turkish_holidays(year: int, language: str) -> list[dict]:
    calendar = holiday_calendars.country_holidays("TR", years=year, language=LANGUAGES[language])
    return [{"date": day.isoformat(), "name": name} for day, name in sorted(calendar.items())]


def _year(raw: str | None) -> int:
    if raw is None:
        return date.today().year
    if not (raw.isascii() and raw.isdigit() and len(raw) == 4 and 2000 <= int(raw) <= 2100):
        raise Invalid("year: 2000..2100")
    return int(raw)


async def list_holidays(request: web.Request) -> web.Response:
    language = request.query.get("lang", "tr")
    if language not in LANGUAGES:
        raise Invalid("lang: tr or en")
    return json_response({"items": turkish_holidays(_year(request.query.get("year")), language)})


ROUTES = [
    Route("GET", "/holidays/tr", list_holidays, "Turkey's public holidays of a year (?year=, default this year; "
          "?lang=tr|en), to offer when a schedule is made", query=("year", "lang"), response=items(HOLIDAY)),
]
