"""Articles per second through extraction and matching with the shipped rules, and memory.

python bench/bench_pipeline.py [--articles 2000]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.corpus import article_texts  # noqa: E402
from monitor.analysis import Analyzer  # noqa: E402
from monitor.config import load_config  # noqa: E402
from monitor.extract import Extractor  # noqa: E402
from monitor.gazetteer import Gazetteer  # noqa: E402
from monitor.match import compile_rules  # noqa: E402
from monitor.records import Article  # noqa: E402


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--min-population", type=int, default=5000)
    args = parser.parse_args()
    texts = article_texts(args.articles)
    articles = [Article("bench", str(i), None, t, b, "", None) for i, (t, b) in enumerate(texts)]
    print(f"RSS before gazetteer: {rss_mb():.0f} MB")
    with tempfile.TemporaryDirectory() as cache:
        began = time.perf_counter()
        gazetteer = Gazetteer.load(args.min_population, cache_dir=Path(cache))
        cold = time.perf_counter() - began
        began = time.perf_counter()
        gazetteer = Gazetteer.load(args.min_population, cache_dir=Path(cache))
        warm = time.perf_counter() - began
    print(f"gazetteer load: {cold:.2f} s building the cache, {warm:.2f} s from the cache")
    print(f"RSS with gazetteer: {rss_mb():.0f} MB")
    config = load_config(ROOT / "config", {})
    began = time.perf_counter()
    compiled = compile_rules(config.rules)
    print(f"compile {len(config.rules)} rules: {(time.perf_counter() - began) * 1000:.1f} ms")
    analyzer = Analyzer(Extractor(gazetteer), compiled)
    analyzer.analyse(articles[0])  # warm lazily built tables
    sentences = 0
    matches = 0
    began = time.perf_counter()
    for article in articles:
        result = analyzer.analyse(article)
        sentences += len(result.extraction.sentences)
        matches += len(result.matches)
    took = time.perf_counter() - began
    print(f"articles: {len(articles)}, sentences: {sentences}, matches: {matches}")
    print(
        f"extract+match: {len(articles) / took:.0f} articles/s, {sentences / took:.0f} sentences/s"
    )
    print(f"RSS after: {rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
