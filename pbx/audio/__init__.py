"""IVR prompt audio: converting uploads (convert), storing the results (store)."""
