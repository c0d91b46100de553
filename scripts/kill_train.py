#!/usr/bin/env python3
"""Fault injection: SIGKILL a real `nmtkit train` many times, resume each time, check everything.

Each chain trains one run to --max-steps, killing it --kills-per-chain times (at checkpoint
writes, between the two renames, or after a random delay, in turn) and resuming it with
`--resume`. After every kill, checkpoint_last must load and translate (else: corrupted); the
resume must start from trainer_state's step and remove the kill's temp files; at the end of a
chain the run's checkpoint_last and checkpoint_avg must be bit-equal to an uninterrupted run's
(else: an inconsistent resume), and no temp file may remain.

    .venv/bin/python scripts/kill_train.py --kills 300        # ~1 s of training per kill + start-up

Prints one summary line: "N kills, N consistent resumes, 0 corrupted, 0 temp files".
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.conftest import write_slice  # noqa: E402
from tests.training import killing as K  # noqa: E402


def preprocess(tmp: Path) -> Path:
    corpus = write_slice(tmp / "corpus", {"train": 400, "val": 50})
    data = tmp / "data"
    subprocess.run([sys.executable, "-m", "nmtkit", "preprocess", "-s", "en", "-t", "de",
                    "--train", str(corpus / "train"), "--valid", str(corpus / "val"),
                    "--out", str(data), "--vocab-size", "300"],
                   check=True, capture_output=True)  # fmt: skip
    return data


def chain(data: Path, work: Path, reference: Path, kills: int, steps: int,
          rng: random.Random, tally: dict[str, int]) -> None:  # fmt: skip
    """One run killed `kills` times, then finished; updates the tally."""
    save, log = work / "save", work / "train.log"
    lines = ["A man is sleeping.", "Two dogs play in the snow.", ""]
    resume, expected = False, None
    for i in range(kills):
        mode = K.MODES[(i + rng.randrange(len(K.MODES))) % len(K.MODES)]
        log.write_text("")
        stale, when = set(K.temp_files(save)), K.moment(mode, save, rng)
        proc = K.start(K.train_command(data, save, steps, resume=resume), log)
        if not K.kill_at(proc, when):
            break  # the run finished before the moment came
        tally["kills"] += 1
        out = log.read_text()
        if resume and "resuming from step" in out and (  # (an "anytime" kill may come first)
                f"resuming from step {expected}" not in out or stale & set(K.temp_files(save))):
            tally["bad_resumes"] += 1
        try:
            K.check_checkpoint_translates(save, lines, work)
            expected = K.state_step(save)
            if K.last_step(save) < expected:
                raise AssertionError("checkpoint_last behind trainer_state")
        except Exception as exc:
            tally["corrupted"] += 1
            tally["counted"] = tally["kills"]
            print(f"corrupted after a {mode} kill: {exc}", file=sys.stderr)
            return
        resume = True
    done = subprocess.run(K.train_command(data, save, steps, resume=resume),
                          capture_output=True, text=True, check=False)  # fmt: skip
    exact = done.returncode == 0 and all(
        K.same_weights(save / n, reference / n) for n in (K.LAST, "checkpoint_avg.safetensors")
    )
    if resume and exact and f"resuming from step {expected}" in done.stdout + done.stderr:
        tally["consistent"] += tally["kills"] - tally["counted"]
    elif resume:
        print(f"inconsistent chain: {done.stderr.strip()[-300:]}", file=sys.stderr)
    tally["counted"] = tally["kills"]
    tally["temp"] += len(K.temp_files(save))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=300, help="total kills")
    parser.add_argument("--kills-per-chain", type=int, default=5)
    parser.add_argument("--steps", type=int, default=24, help="--max-steps of each run")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    tally = dict.fromkeys(("kills", "consistent", "corrupted", "temp", "bad_resumes", "counted"), 0)
    start = time.monotonic()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        data = preprocess(tmp)
        reference = tmp / "reference"
        subprocess.run(K.train_command(data, reference, args.steps, resume=False), check=True,
                       capture_output=True)  # fmt: skip
        n = 0
        while tally["kills"] < args.kills:
            work = tmp / f"chain{n}"
            work.mkdir()
            per_chain = min(args.kills_per_chain, args.kills - tally["kills"])
            chain(data, work, reference, per_chain, args.steps, rng, tally)
            n += 1
            print(f"{tally['kills']} kills so far ({time.monotonic() - start:.0f} s)",
                  file=sys.stderr, flush=True)  # fmt: skip
    consistent = tally["consistent"] - tally["bad_resumes"]
    print(f"{tally['kills']} kills, {consistent} consistent resumes, {tally['corrupted']} "
          f"corrupted, {tally['temp']} temp files ({n} runs, {time.monotonic() - start:.0f} s)")
    failed = consistent != tally["kills"] or tally["corrupted"] or tally["temp"]
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
