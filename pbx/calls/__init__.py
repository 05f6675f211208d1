"""Call records: Asterisk's CDRs (legs) folded into one row per call, and reports.

Flow (the "Asterisk events" flow): the dialplan tags each call's CDR with
`pbx_*` variables ([pbx-cdr] in dialplans/pbx.conf). Asterisk's CDR engine
sends every CDR live as an AMI `Cdr` event (cdr_manager) and appends it to its
own CSV copy (cdr_custom), both with the fields of pbx/asterisk/cdrfields.py.
  legs.py     a CDR -> Leg, strictly checked (pure)
  fold.py     the legs of one linkedid -> the call record (pure)
  store.py    legs upserted by (uniqueid, sequence); their calls re-folded and upserted
  recorder.py AMI events -> queue -> one transaction per batch; reconciles on (re)login
  cdrfile.py  the CSV copy, read from a committed (inode, offset)
  query.py    API parameters, cursors, the tenant clock's report buckets (pure)
  listing.py, reports.py   the tenant-scoped reads (SQL Core)
"""
