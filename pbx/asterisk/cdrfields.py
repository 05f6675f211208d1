"""The fields of Asterisk's CDR that call records are built from, in one place.

The same list produces cdr_manager.conf's [mappings] (the live AMI `Cdr` event)
and cdr_custom.conf's line (Asterisk's own CSV copy, reconciled from), so both
sources carry the same values under the same names. `pbx_*` are CDR variables the
dialplan sets (dialplans/pbx.conf, context [pbx-cdr]).
"""
from __future__ import annotations

from pathlib import Path

# (CDR() argument, AMI header / record key)
FIELDS: tuple[tuple[str, str], ...] = (
    ("uniqueid", "PbxUniqueid"),
    ("sequence", "PbxSequence"),
    ("linkedid", "PbxLinkedid"),
    ("start,u", "PbxStart"),  # ",u": epoch seconds, independent of Asterisk's time zone
    ("answer,u", "PbxAnswer"),
    ("end,u", "PbxEnd"),
    ("disposition", "PbxDisposition"),
    ("pbx_tenant", "PbxTenant"),
    ("pbx_route", "PbxRoute"),
    ("pbx_action", "PbxAction"),
    ("pbx_dialled", "PbxDialled"),
    ("pbx_caller", "PbxCaller"),
    ("pbx_callee", "PbxCallee"),
    ("pbx_disposition", "PbxOutcome"),
    ("pbx_recording", "PbxRecording"),
    ("pbx_rtcp", "PbxRtcp"),
)
KEYS: tuple[str, ...] = tuple(key for _, key in FIELDS)
RECORDING_KEY = dict(FIELDS)["pbx_recording"]  # set on the CDR of a recorded call
CSV_NAME = "pbx-cdr.csv"  # in Asterisk's log dir, under cdr-custom/


def manager_mappings() -> str:
    return "\n".join(f"{name} => {key}" for name, key in FIELDS)


def custom_mapping() -> str:
    # CSV_QUOTE: a value can never break out of its column, whatever it holds.
    columns = ",".join(f"${{CSV_QUOTE(${{CDR({name})}})}}" for name, _ in FIELDS)
    return f"{CSV_NAME} => {columns}"


def csv_path(instance_dir: Path) -> Path:
    """Where Asterisk writes the CSV copy (its log dir is the instance's log/)."""
    return instance_dir / "log" / "cdr-custom" / CSV_NAME
