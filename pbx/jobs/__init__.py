"""Provisioning jobs: bulk work stored in the database, run by bounded workers, resumable
(README "Provisioning jobs"). engine.py runs them; each kind is one module."""
