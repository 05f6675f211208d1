"""Asterisk's PJSIP realtime tables, with Asterisk's names and value conventions
('yes'/'no' strings, comma lists), as contrib/ast-db-manage defines them.
Only the columns the product sets are declared; Asterisk defaults the rest.
"""
from __future__ import annotations

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from pbx.db.base import Base


class PsEndpoint(Base):
    __tablename__ = "ps_endpoints"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    transport: Mapped[str | None] = mapped_column(String(40))
    aors: Mapped[str | None] = mapped_column(String(200))
    auth: Mapped[str | None] = mapped_column(String(40))
    context: Mapped[str | None] = mapped_column(String(40))
    disallow: Mapped[str | None] = mapped_column(String(200))
    allow: Mapped[str | None] = mapped_column(String(200))
    direct_media: Mapped[str | None] = mapped_column(String(3))
    dtmf_mode: Mapped[str | None] = mapped_column(String(10))
    callerid: Mapped[str | None] = mapped_column(String(255))
    rtp_symmetric: Mapped[str | None] = mapped_column(String(3))
    force_rport: Mapped[str | None] = mapped_column(String(3))
    rewrite_contact: Mapped[str | None] = mapped_column(String(3))
    language: Mapped[str | None] = mapped_column(String(40))
    media_encryption: Mapped[str | None] = mapped_column(String(10))  # sdes: SRTP keys in the SDP
    media_encryption_optimistic: Mapped[str | None] = mapped_column(String(3))  # yes: plain RTP if not offered


class PsAuth(Base):
    __tablename__ = "ps_auths"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    auth_type: Mapped[str | None] = mapped_column(String(10))
    username: Mapped[str | None] = mapped_column(String(40))
    password: Mapped[str | None] = mapped_column(String(80))
    md5_cred: Mapped[str | None] = mapped_column(String(40))
    realm: Mapped[str | None] = mapped_column(String(40))


class PsAor(Base):
    __tablename__ = "ps_aors"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    max_contacts: Mapped[int | None] = mapped_column(Integer)
    remove_existing: Mapped[str | None] = mapped_column(String(3))
    default_expiration: Mapped[int | None] = mapped_column(Integer)
    maximum_expiration: Mapped[int | None] = mapped_column(Integer)
    minimum_expiration: Mapped[int | None] = mapped_column(Integer)
    qualify_frequency: Mapped[int | None] = mapped_column(Integer)
    contact: Mapped[str | None] = mapped_column(String(255))  # static contact (trunks)
    # Requests to the phone follow the Path its proxy added (a cluster's Kamailio); none: direct.
    support_path: Mapped[str] = mapped_column(String(3), server_default="yes")


class PsEndpointIdIp(Base):
    """Identifies a trunk's endpoint by the source address of its requests."""

    __tablename__ = "ps_endpoint_id_ips"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    endpoint: Mapped[str | None] = mapped_column(String(40))
    match: Mapped[str | None] = mapped_column(String(1024))  # comma list of addresses/CIDRs
