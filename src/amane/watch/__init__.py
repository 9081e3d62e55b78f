"""Cyber and open-source watch: ingest collected content, triage it, match it against records (issue 7)."""
