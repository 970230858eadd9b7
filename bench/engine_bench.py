"""Prompt and generation tokens/s of one model: Ward's embedded engine (through its HTTP API)
against llama.cpp itself (llama-cpp-python), same GGUF, same threads, same prompt, one run.

    python3 bench/engine_bench.py --ward target/release/ward --model qwen2.5-coder:1.5b --threads 2

Needs `pip install llama-cpp-python` (builds llama.cpp from source) and the model in Ward's store.
Each side runs the same raw prompt (no chat template, so both see identical tokens), greedy, with
a fixed number of generated tokens; the figures are llama.cpp's own per-phase timings on the
llama-cpp-python side and Ward's Ollama-style timings (nanoseconds) on the Ward side.
"""

import argparse
import json
import os
import pathlib
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

PROMPT = (
    "Subjective: 58-year-old with three days of productive cough, fever to 38.6 C, and pleuritic "
    "right-sided chest pain. No recent travel. Former smoker, 20 pack-years. Takes lisinopril 10 mg "
    "daily and metformin 500 mg twice daily. Objective: temperature 38.4 C, heart rate 104, blood "
    "pressure 128/76, respiratory rate 22, oxygen saturation 93% on room air. Crackles at the right "
    "base. Chest radiograph shows right lower lobe consolidation. White cell count 14.2. "
    "Write the assessment and plan of this note in detail:\n"
)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def post(url, body):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=600) as response:
        return json.loads(response.read())


def store_path(ward, model):
    out = subprocess.run([ward, "models"], capture_output=True, text=True, check=True).stdout
    home = os.environ.get("WARD_HOME")
    root = pathlib.Path(home) / "models" if home else pathlib.Path.home() / ".local/share/ward/models"
    for manifest in (root / "manifests").glob("*.json"):
        data = json.loads(manifest.read_text())
        if data["name"] == model or model in data.get("aliases", []):
            return root / "blobs" / data["file"]
    sys.exit(f"{model} not in the store at {root}; `ward pull {model}` first\n{out}")


def bench_ward(ward, model, threads, tokens, runs):
    port = free_port()
    env = dict(os.environ, WARD_THREADS=str(threads), WARD_LOG="warn")
    process = subprocess.Popen([ward, "serve", "--listen", f"127.0.0.1:{port}", "--model", model], env=env)
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        results = []
        for run in range(runs + 1):
            body = {"model": model, "prompt": PROMPT, "raw": True, "stream": False,
                    "options": {"temperature": 0, "num_predict": tokens}}
            response = post(f"http://127.0.0.1:{port}/api/generate", body)
            if run == 0:
                continue  # warm-up
            results.append((
                response["prompt_eval_count"] / (response["prompt_eval_duration"] / 1e9),
                response["eval_count"] / (response["eval_duration"] / 1e9),
                response["eval_count"],
            ))
        return results
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


def bench_llama_cpp(path, threads, tokens, runs):
    import llama_cpp

    llm = llama_cpp.Llama(model_path=str(path), n_threads=threads, n_threads_batch=threads, n_ctx=8192, n_batch=512, verbose=False)
    results = []
    for run in range(runs + 1):
        llm.reset()
        llama_cpp.llama_perf_context_reset(llm.ctx)
        llm.create_completion(PROMPT, max_tokens=tokens, temperature=0)
        perf = llama_cpp.llama_perf_context(llm.ctx)
        if run == 0:
            continue
        # n_eval counts the sampled tokens decoded; the last sampled token is not decoded.
        results.append((perf.n_p_eval / (perf.t_p_eval_ms / 1e3), perf.n_eval / (perf.t_eval_ms / 1e3), perf.n_eval))
    return results


def summarise(name, results):
    prompt = statistics.median(r[0] for r in results)
    generation = statistics.median(r[1] for r in results)
    print(f"{name:<22} prompt {prompt:8.1f} tok/s   generation {generation:6.1f} tok/s   (tokens generated: {results[0][2]})")
    return prompt, generation


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ward", default="target/release/ward")
    parser.add_argument("--model", default="qwen2.5-coder:1.5b")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    path = store_path(args.ward, args.model)
    ward = summarise("ward (embedded)", bench_ward(args.ward, args.model, args.threads, args.tokens, args.runs))
    peer = summarise("llama-cpp-python", bench_llama_cpp(path, args.threads, args.tokens, args.runs))
    print(f"ratio ward/llama.cpp   prompt {ward[0] / peer[0]:.2f}x   generation {ward[1] / peer[1]:.2f}x")


if __name__ == "__main__":
    main()
