"""Voicemail messages once recorded: settled (voicemail.created) and sent by e-mail."""
