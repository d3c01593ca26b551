"""The LLM golden-set gate: golden cases, graders, paired pass rates, cost, latency and injection.

Nothing here is imported unless a config has `task: llm` or an `llm:` section.
"""
