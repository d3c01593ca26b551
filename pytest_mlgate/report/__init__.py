"""Renderings of a report: terminal table, Markdown (job summary / PR comment)."""
