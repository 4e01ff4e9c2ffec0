"""The country table shipped with the code (countries.tsv, generated once by
scripts/generate_country_table.py): an English name, two reference points (the centroid
and the capital) and the land neighbours of each ISO 3166-1 alpha-2 code.

Read once, on first use; a code the table lacks (a registry's "EU" block, a territory
the source leaves out) is named by its code and has no position, so no travel verdict.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

TABLE = Path(__file__).with_name("countries.tsv")
EARTH_RADIUS_KM = 6371.0

Point = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Country:
    code: str
    name: str
    # The centroid and the capital: a large country's sign-ins can come from anywhere
    # in it, so distances are taken between the nearest pair of these.
    points: tuple[Point, ...]
    neighbours: frozenset[str]


def _parse(line: str) -> Country:
    code, name, c_lat, c_lon, k_lat, k_lon, neighbours = line.rstrip("\n").split("\t")
    centroid, capital = (float(c_lat), float(c_lon)), (float(k_lat), float(k_lon))
    points = (centroid,) if centroid == capital else (centroid, capital)
    return Country(code, name, points, frozenset(filter(None, neighbours.split(","))))


@cache
def countries() -> dict[str, Country]:
    lines = TABLE.read_text(encoding="utf-8").splitlines()
    table = (_parse(line) for line in lines if line and not line.startswith("#"))
    return {country.code: country for country in table}


def country_name(code: str) -> str:
    """The English name of ``code`` ("Germany" for "DE"); the code itself when unknown."""
    country = countries().get(code)
    return country.name if country is not None else code


def _haversine_km(a: Point, b: Point) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def distance_km(first: str, second: str) -> float | None:
    """The least distance between the two countries' reference points; 0 for one
    country or land neighbours (a border crossing takes minutes); None when either is
    not in the table."""
    if first == second:
        return 0.0
    a, b = countries().get(first), countries().get(second)
    if a is None or b is None:
        return None
    if b.code in a.neighbours or a.code in b.neighbours:
        return 0.0
    return min(_haversine_km(p, q) for p in a.points for q in b.points)
