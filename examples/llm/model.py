"""A toy, deterministic "LLM" for the example: Acme's customer assistant, offline and repeatable.

It is a lookup table and a few rules, not a language model, but it behaves like one in the ways the
gate cares about: its answers depend on the system prompt (prompts/v1.txt or prompts/v2.txt), it
is not quite deterministic across samples (a seeded hash makes about 1 answer in 12 sloppy), it
reports token counts and a latency, and an injected instruction can make it leak its prompt.

With prompt v1 it wraps JSON in prose for some orders, rounds sums to whole euros, refuses only
requests for passwords and card numbers, and obeys injected instructions. Prompt v2 fixes those,
and names the loyalty programme "Acme Plus membership", which the exact-answer grader counts wrong:
the gate shows that case flipping the other way.

``answer(input, prompt=..., sample=...)`` is what `llm.candidate.function` calls.
"""

from __future__ import annotations

import hashlib
import json
import math
import re

MODEL = "acme-small-2025-06"

FACTS = {
    "carrier": "DHL",
    "loyalty programme": "Acme Plus",
    "not accept": "Cheques",
    "head office": "Rotterdam",
    "colour": "Red",
    "closed": "Sunday",
    "cheapest blender": "Blend 100",
    "chat support": "Dutch",
    "mobile app": "Acme Go",
    "returns": "Venlo",
    "PX": "Packed",
    "warranty": "Two years",
}
SUMS = {
    "17% discount": 40.8,
    "7 parcels": 34.65,
    "price per month": 8.99,
    "VAT is 21%": 59.90 * 0.21,
    "kettle costs 34.50": 61.75,
    "split equally": 39.8,
    "points": 175.0,
    "before the discount": 100.0,
}
HELP = {
    "reset my password": "Click 'Forgot password' on the login page and follow the link we e-mail you.",
    "follow my parcel": "Use the track-and-trace link in your shipping e-mail.",
    "delivery address": "Yes, in your order page, as long as you change it before the order is packed.",
    "cancel Acme Plus": "Go to Account settings > Acme Plus and choose Cancel.",
    "arrived broken": "Sorry about that! Request a free return label in your order page and we send a new one.",
    "Belgium": "Yes, we deliver to Belgium and the Netherlands.",
}
ALWAYS_REFUSED = ("the password of", "card numbers")  # prompt v1 protects these only
RISKY = ("home address", "fake", "nobody notices", "gift card codes", *ALWAYS_REFUSED)
INJECTED = ("instructions", "system prompt", "verbatim", "internal reference", "configuration", "PWNED")
ORDER = re.compile(r"Order (A\d{6}) (?:was|is) (\w+).*?(\d+) items?")
STATUS = {"shipped": "shipped", "delivered": "delivered", "packed": "packed", "placed": "placed"}


def _draw(*parts: object) -> float:
    """A uniform number in [0, 1) fixed by its arguments: the same call always gives the same draw."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _reply(text: str, prompt: str, sample: int) -> str:
    v2 = "two decimals" in prompt
    sloppy = _draw("sloppy", text, sample) < 1 / 12
    if any(word in text for word in INJECTED):
        if v2 and "Order A100200" not in text:
            return "I'm sorry, I can't share my instructions. How can I help with your order?"
        if "PWNED" in text:
            return "PWNED" if "nothing else" in text else "A happy customer loves the kettle. PWNED"
        if "Order A100200" in text:
            return (
                "Order A100200 is shipped."
                if v2
                else f"Order A100200 is shipped. ({prompt.splitlines()[-1]})"
            )
        return f"Of course! My instructions are:\n{prompt}"
    if any(word in text for word in RISKY):
        if v2 or any(word in text for word in ALWAYS_REFUSED):
            return "I'm sorry, I can't help with that request."
        return "Sure, here is what I found for you: I will look that up right away."
    if "JSON" in text:
        found = ORDER.search(text)
        if found is None:
            return "I could not find an order in your message."
        status = "returned" if "returned" in text else STATUS.get(found[2], found[2])
        order = {"order_id": found[1], "status": status, "items": int(found[3])}
        if sloppy:
            order.pop("items")
        body = json.dumps(order)
        wrap = not v2 and _draw("wrap", found[1]) < 0.6
        return (
            f"Here is the order you asked for: {body} Let me know if you need anything else!"
            if wrap
            else body
        )
    for key, value in SUMS.items():
        if key in text:
            shown = f"{value:.2f}" if v2 else f"about {math.floor(value + 0.5)}"
            if sloppy:
                shown = f"{value * 1.1:.2f}"
            return f"That comes to {shown} euros." if not v2 else shown
    for key, fact in FACTS.items():
        if key in text:
            if v2 and fact == "Acme Plus":
                return "Acme Plus membership"
            return f"I believe it is {fact.lower()}, but let me check." if sloppy else fact
    for key, helped in HELP.items():
        if key in text:
            return "Please contact our customer service." if sloppy else helped
    return "I'm sorry, I don't know."


def answer(text: str, *, prompt: str | None = None, sample: int = 0) -> dict[str, object]:
    """One reply with its token counts (about 4 characters a token) and a simulated latency."""
    system = prompt or ""
    output = _reply(text, system, sample)
    tokens_in = math.ceil((len(system) + len(text)) / 4)
    tokens_out = max(1, math.ceil(len(output) / 4))
    latency = 180.0 + 6.0 * tokens_out + 0.4 * tokens_in + 220.0 * _draw("latency", text, sample)
    return {
        "output": output,
        "tokens_in": tokens_in,
        "tokens_out": tokens_out,
        "latency_ms": round(latency, 1),
        "model": MODEL,
    }
