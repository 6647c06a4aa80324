"""Write the demo MaxMind-format City database shipped as ``personalize/data/demo-city.mmdb``.

It maps only the documentation address ranges (RFC 5737 and RFC 3849), which no real visitor
ever has, to a handful of cities chosen to exercise every geo fact: both hemispheres and
every climate band, EU and non-EU countries, several time zones.

Usage::

    python scripts/make_demo_geoip.py [--output personalize/data/demo-city.mmdb]

Needs the ``mmdb-writer`` package (``pip install mmdb-writer``, in the ``bench`` extra).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from mmdb_writer import MMDBWriter
from netaddr import IPSet

DEFAULT_OUTPUT = Path(__file__).resolve().parents[1] / "personalize" / "data" / "demo-city.mmdb"

_CONTINENTS = {
    "NA": (6255149, "North America"),
    "SA": (6255150, "South America"),
    "EU": (6255148, "Europe"),
    "AS": (6255147, "Asia"),
    "OC": (6255151, "Oceania"),
}

# (country iso, country geoname id, country name, continent, in EU,
#  subdivision iso, subdivision name, city geoname id, city, postal, lat, lon, time zone)
_PLACES: dict[str, tuple[Any, ...]] = {
    "toronto": (
        "CA", 6251999, "Canada", "NA", False,
        "ON", "Ontario", 6167865, "Toronto", "M5H", 43.6532, -79.3832, "America/Toronto",
    ),
    "new_york": (
        "US", 6252001, "United States", "NA", False,
        "NY", "New York", 5128581, "New York", "10007", 40.7128, -74.006, "America/New_York",
    ),
    "london": (
        "GB", 2635167, "United Kingdom", "EU", False,
        "ENG", "England", 2643743, "London", "EC2V", 51.5074, -0.1278, "Europe/London",
    ),
    "berlin": (
        "DE", 2921044, "Germany", "EU", True,
        "BE", "Berlin", 2950159, "Berlin", "10117", 52.52, 13.405, "Europe/Berlin",
    ),
    "sydney": (
        "AU", 2077456, "Australia", "OC", False,
        "NSW", "New South Wales", 2147714, "Sydney", "2000", -33.8688, 151.2093,
        "Australia/Sydney",
    ),
    "sao_paulo": (
        "BR", 3469034, "Brazil", "SA", False,
        "SP", "São Paulo", 3448439, "São Paulo", "01000", -23.5505, -46.6333,
        "America/Sao_Paulo",
    ),
    "oslo": (
        "NO", 3144096, "Norway", "EU", False,
        "03", "Oslo", 3143244, "Oslo", "0150", 59.9139, 10.7522, "Europe/Oslo",
    ),
    "singapore": (
        "SG", 1880251, "Singapore", "AS", False,
        None, None, 1880252, "Singapore", "018989", 1.3521, 103.8198, "Asia/Singapore",
    ),
    "tokyo": (
        "JP", 1861060, "Japan", "AS", False,
        "13", "Tokyo", 1850147, "Tokyo", "100-0001", 35.6762, 139.6503, "Asia/Tokyo",
    ),
    "longyearbyen": (
        "SJ", 607072, "Svalbard and Jan Mayen", "EU", False,
        None, None, 2729907, "Longyearbyen", "9170", 78.2232, 15.6267, "Arctic/Longyearbyen",
    ),
}  # fmt: skip

#: Network -> place. Each documentation range is split so that one range holds many places.
NETWORKS: dict[str, str] = {
    "192.0.2.0/26": "toronto",
    "192.0.2.64/26": "new_york",
    "192.0.2.128/26": "london",
    "192.0.2.192/26": "berlin",
    "198.51.100.0/25": "sydney",
    "198.51.100.128/25": "sao_paulo",
    "203.0.113.0/26": "oslo",
    "203.0.113.64/26": "singapore",
    "203.0.113.128/26": "tokyo",
    "203.0.113.192/26": "longyearbyen",
    "2001:db8:1::/48": "toronto",
    "2001:db8:2::/48": "london",
    "2001:db8:3::/48": "sydney",
    "2001:db8:4::/48": "singapore",
    "2001:db8:5::/48": "oslo",
    "2001:db8:6::/48": "new_york",
}


def _record(place: tuple[Any, ...]) -> dict[str, Any]:
    (iso, country_id, country, continent, in_eu, sub_iso, sub_name, city_id, city, postal,
     lat, lon, zone) = place  # fmt: skip
    continent_id, continent_name = _CONTINENTS[continent]
    country_record: dict[str, Any] = {
        "geoname_id": country_id,
        "iso_code": iso,
        "names": {"en": country},
    }
    if in_eu:
        country_record["is_in_european_union"] = True
    record: dict[str, Any] = {
        "city": {"geoname_id": city_id, "names": {"en": city}},
        "continent": {
            "code": continent,
            "geoname_id": continent_id,
            "names": {"en": continent_name},
        },
        "country": country_record,
        "registered_country": dict(country_record),
        "location": {"accuracy_radius": 20, "latitude": lat, "longitude": lon, "time_zone": zone},
        "postal": {"code": postal},
    }
    if sub_iso is not None:
        record["subdivisions"] = [{"iso_code": sub_iso, "names": {"en": sub_name}}]
    return record


def write_demo_database(output: Path) -> None:
    """Write the demo database to ``output``."""
    writer = MMDBWriter(
        ip_version=6,
        ipv4_compatible=True,
        database_type="Personalize-Demo-City",
        languages=["en"],
        description={"en": "personalize demo City database (documentation ranges only)"},
        int_type="u32",
        float_type="f64",
    )
    for network, place in NETWORKS.items():
        writer.insert_network(IPSet([network]), _record(_PLACES[place]))
    output.parent.mkdir(parents=True, exist_ok=True)
    writer.to_db_file(str(output))


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args()
    write_demo_database(args.output)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
