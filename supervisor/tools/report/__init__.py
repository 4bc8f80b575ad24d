"""The timeline report: `events.jsonl` drawn as a text timeline or a self-contained HTML page."""
