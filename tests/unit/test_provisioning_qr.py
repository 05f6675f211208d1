"""The provisioning QR code's text: a SIP URI no character of the account can break."""
from __future__ import annotations

from pbx.api.provisioning import qr_svg, sip_uri


def test_sip_uri_escapes_userinfo():
    assert sip_uri("101-abc", "p@ss:w;rd", "127.0.0.1:5060") == "sip:101-abc:p%40ss%3Aw%3Brd@127.0.0.1:5060;transport=udp"


def test_svg_is_drawn_without_an_image_library():
    svg = qr_svg("sip:101:secret@127.0.0.1:5060;transport=udp")
    assert svg.startswith(b"<?xml") and b"<svg" in svg and b"<path" in svg
