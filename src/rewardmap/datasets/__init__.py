"""Records: one schema (ReasonMap-Train field names), JSONL + image folders."""
