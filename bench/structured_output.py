"""Grammar-constrained vs free decoding speed on a running `ward serve`, from the engine's own
timings (Ollama API `eval_count` / `eval_duration`), same prompt and token budget, one warm-up.

Usage: ward serve --listen 127.0.0.1:8080 --model qwen2.5-coder:1.5b &
       python3 bench/structured_output.py http://127.0.0.1:8080 3
"""
import json, sys, urllib.request

BASE = sys.argv[1]
MODEL = "qwen2.5-coder:1.5b"
PROMPT = ("List 8 common cardiac drugs as JSON: an object with a key \"drugs\" holding an array of "
          "objects with \"name\", \"drug_class\" and \"typical_dose\".")
SCHEMA = {
    "type": "object",
    "properties": {"drugs": {"type": "array", "items": {
        "type": "object",
        "properties": {"name": {"type": "string"},
                       "drug_class": {"enum": ["beta blocker", "ACE inhibitor", "ARB", "statin",
                                                "anticoagulant", "antiplatelet", "diuretic",
                                                "calcium channel blocker", "nitrate", "other"]},
                       "typical_dose": {"type": "string"}},
        "required": ["name", "drug_class", "typical_dose"], "additionalProperties": False}}},
    "required": ["drugs"], "additionalProperties": False}
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 3
NUM_PREDICT = 400

def run(fmt):
    body = {"model": MODEL, "prompt": PROMPT, "stream": False,
            "options": {"temperature": 0, "num_predict": NUM_PREDICT}}
    if fmt is not None:
        body["format"] = fmt
    request = urllib.request.Request(BASE + "/api/generate", data=json.dumps(body).encode(),
                                     headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=600) as response:
        answer = json.load(response)
    return answer["eval_count"], answer["eval_duration"] / 1e9, answer["done_reason"]

results = {"free": [], "json": [], "schema": []}
run(None)  # warm-up
for _ in range(RUNS):
    for name, fmt in (("free", None), ("json", "json"), ("schema", SCHEMA)):
        tokens, seconds, reason = run(fmt)
        results[name].append((tokens, seconds, reason))
for name, runs in results.items():
    rates = [tokens / seconds for tokens, seconds, _ in runs]
    print(f"{name:7s} tokens/s per run: {', '.join(f'{r:.1f}' for r in rates)}  "
          f"(tokens: {[t for t, _, _ in runs]}, done: {[d for _, _, d in runs]})  mean {sum(rates)/len(rates):.2f}")
free = sum(t for t, _, _ in results['free']) / sum(s for _, s, _ in results['free'])
for name in ("json", "schema"):
    rate = sum(t for t, _, _ in results[name]) / sum(s for _, s, _ in results[name])
    print(f"{name} / free = {rate / free:.3f}  ({rate:.2f} vs {free:.2f} tokens/s)")
