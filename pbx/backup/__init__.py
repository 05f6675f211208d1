"""Backups: an online, consistent copy of the database, the prompts, the voicemail
and the (still encrypted) recording archive, verified after it is written, kept by
a 7 daily + 4 weekly policy; and the restore that brings an exchange back."""
