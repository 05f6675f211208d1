"""What keeps attackers out: private files, SIP brute-force bans, toll-fraud limits."""
