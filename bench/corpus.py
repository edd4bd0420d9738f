"""Synthetic articles for benchmarks: varied sentences of our own, in four languages."""

from __future__ import annotations

import random

SENTENCES = [
    "Warplanes struck the main hospital in {city} on {day}, killing {n} people, local medics said.",
    "Nearly {big:,} people have been displaced from {city} in the past week, the UN said.",
    "Heavy fighting spread to {region} as armed groups advanced on {city}.",
    "The ministry said it would open a new school in {city} next month.",
    "Markets in {city} reopened after a week of curfew, residents said.",
    "Aid agencies warned that food prices in {region} had doubled since {year}.",
    "About {small:,} families fled their homes after floods hit {city}.",
    "Hospitals in {city} treated dozens of people wounded in the shelling.",
    "L'hôpital de {city} a été bombardé dans la nuit, selon des sources locales.",
    "Más de {big:,} personas han huido de sus hogares en {region}.",
    "قصفت طائرات حربية مستشفى في {city} صباح اليوم.",
    "The president met his counterpart to discuss trade and energy.",
]
CITIES = [
    "Aleppo",
    "Goma",
    "El Fasher",
    "Kharkiv",
    "Mosul",
    "Taiz",
    "Khan Younis",
    "Bunia",
    "Kabul",
    "Gao",
]
REGIONS = ["Idlib province", "North Kivu", "Darfur", "Donetsk oblast", "Nineveh", "Marib", "Ituri"]
DAYS = ["Monday", "Tuesday", "Friday", "Sunday"]


def article_texts(n: int, seed: int = 7) -> list[tuple[str, str]]:
    """n (title, body) pairs of 4 to 9 sentences each."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        picks = [rng.choice(SENTENCES) for _ in range(rng.randint(4, 9))]
        body = " ".join(
            s.format(
                city=rng.choice(CITIES),
                region=rng.choice(REGIONS),
                day=rng.choice(DAYS),
                n=rng.randint(2, 40),
                big=rng.randint(10, 90) * 1000,
                small=rng.randint(2, 9) * 500,
                year=rng.randint(2015, 2024),
            )
            for s in picks
        )
        out.append((body.split(".")[0][:90], body))
    return out
