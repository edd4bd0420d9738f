"""Benchmark of the gazetteer: load time, memory, index size and place-finding speed.

Run: python bench/bench_gazetteer.py [--min-population 15000|5000|1000] [--daemon-imports]
                                     [--cache-dir DIR]  (twice: the first run builds the cache)

Each run measures one fresh process, so compare sizes by running it once per size. With
--daemon-imports it first imports the daemon's heavy libraries, to see the total resident size.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.gazetteer import Gazetteer
from monitor.places import find_places
from monitor.records import Sentence
from monitor.text import sentences

# Sentences of the kind the monitor reads, written for this benchmark.
TEXTS = [
    "Airstrikes hit two hospitals in Idlib province overnight, the civil defence said.",
    "More than 40,000 people have fled Aleppo and the surrounding villages since Friday.",
    "Militias crossed from Iraq near Abu Kamal, according to a Syrian officer.",
    "The World Health Organization said attacks on health care in Sudan had doubled.",
    "Fighting around El Fasher, the capital of North Darfur, trapped thousands of families.",
    "Aid convoys waited at the Rafah crossing as Egypt and Israel discussed access to Gaza.",
    "Displaced families in Cox's Bazar face cuts to food rations, the agency warned.",
    "Heavy shelling was reported in Kharkiv and across the Donetsk region on Monday.",
    "The M23 rebels advanced on Goma as the Congolese army withdrew toward Bukavu.",
    "Floods in Sindh and Balochistan displaced more than a million people in Pakistan.",
    "قال الدفاع المدني إن القصف استهدف مستشفى في مدينة إدلب شمال غرب سوريا.",
    "Des milliers de personnes ont fui les combats dans le Nord-Kivu, selon l'ONU.",
    "La violencia en Haití ha desplazado a decenas de miles de personas en Puerto Príncipe.",
    "Police said the market in the town centre was reopened after the storm.",
    "Gangs attacked a clinic in Port-au-Prince, Haiti's capital, on Wednesday.",
]


def rss_kb() -> int:
    """Resident set size now, from /proc (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--min-population", type=int, default=15000, choices=[1000, 5000, 15000])
    parser.add_argument("--daemon-imports", action="store_true")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--cache-dir", type=Path, default=None, help="load through a cache here")
    args = parser.parse_args()

    if args.daemon_imports:
        import aiohttp  # noqa: F401
        import apprise  # noqa: F401
        import feedparser  # noqa: F401
        import sqlmodel  # noqa: F401

    before = rss_kb()
    started = time.perf_counter()
    gazetteer = Gazetteer.load(args.min_population, cache_dir=args.cache_dir)
    load = time.perf_counter() - started
    after = rss_kb()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    found = [Sentence("content", i, s) for i, text in enumerate(TEXTS) for s in sentences(text)]
    batch = found * args.repeat
    started = time.perf_counter()
    places = 0
    # one article per 10 sentences, as find_places resolves per article
    for i in range(0, len(batch), 10):
        places += len(find_places(batch[i : i + 10], gazetteer))
    elapsed = time.perf_counter() - started
    stats = gazetteer.stats

    print(f"cache:              {args.cache_dir or 'none (built in-process)'}")
    print(f"cities file:        cities{args.min_population}.json ({stats.cities} cities)")
    print(f"load time:          {load:.2f} s")
    print(f"RSS before load:    {before / 1024:.1f} MB")
    print(f"RSS after load:     {after / 1024:.1f} MB  (+{(after - before) / 1024:.1f} MB)")
    print(f"peak RSS:           {peak / 1024:.1f} MB")
    print(f"names indexed:      {stats.names}")
    print(f"entries:            {stats.countries} countries, {stats.regions} regions")
    print(
        f"admin1 mapping:     {stats.admin1_mapped}/{stats.admin1_groups} groups"
        f" ({stats.admin1_by_hand} by hand), {stats.population_mapped:.0%} of city population"
    )
    print(f"find_places:        {len(batch) / elapsed:.0f} sentences/s ({len(batch)} sentences)")
    print(f"places found:       {places}")


if __name__ == "__main__":
    main()
