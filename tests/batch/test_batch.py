"""photofix batch: folders mirrored, every output recorded, killed and resumed, review, Ray."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from photofix.batch.engine import BatchJob, run_batch, size_workers
from photofix.batch.output import accept_review
from photofix.batch.plan import BatchPlanError, plan_batch
from photofix.batch.worker import BatchOptions, load_recipe
from photofix.core.provenance import pixels_sha256

RECIPE = {
    "format": "photofix-recipe",
    "version": 2,
    "steps": [
        {"op": "fade", "params": {"strength": 0.8}},
        {"op": "resize", "params": {"scale": 0.5}},
    ],
}


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_scans(root: Path, count: int, corrupt: int | None = None) -> list[Path]:
    rng = np.random.default_rng(0)
    paths = []
    for i in range(count):
        folder = root / f"box{i % 4}" / (f"album{i % 3}" if i % 2 else "")
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"scan{i:03d}.png"
        img = (rng.random((24, 32, 3)) * 200 + 20).astype(np.uint8)
        cv2.imwrite(str(path), img)
        paths.append(path)
    if corrupt is not None:
        data = paths[corrupt].read_bytes()
        paths[corrupt].write_bytes(data[:40])  # the header, then nothing
    return paths


def write_recipe(path: Path, recipe: dict = RECIPE) -> Path:
    path.write_text(json.dumps(recipe))
    return path


def records(out: Path) -> dict[str, tuple[int, bytes]]:
    return {
        str(p.relative_to(out)): (p.stat().st_mtime_ns, p.read_bytes())
        for p in out.rglob("*.photofix.json")
    }


def test_batch_killed_half_way_resumes_without_redoing_anything(tmp_path: Path) -> None:
    scans = tmp_path / "scans"
    sources = make_scans(scans, 200, corrupt=57)
    recipe = write_recipe(tmp_path / "r.json")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "photofix", "batch", str(recipe), str(scans), "-o", str(out),
           "--recursive", "--workers", "2"]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    log = tmp_path / "first.log"
    with open(log, "wb") as sink:
        first = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 120
        while len(list(out.rglob("*.photofix.json"))) < 100 and time.monotonic() < deadline:
            assert first.poll() is None, log.read_text()
            time.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        first.wait()
    before = records(out)
    assert 100 <= len(before) < 199, "the kill did not land half way"

    second = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert second.returncode == 1, second.stderr  # one file failed
    assert "scan057.png" in second.stderr and "failed" in second.stderr
    after = records(out)
    # nothing finished by the first run was processed again
    for name, stamp in before.items():
        assert after[name] == stamp, f"{name} was processed twice"
    report = json.loads((out / "batch-report.json").read_text())
    counts = report["counts"]
    assert counts["failed"] == 1 and counts["done"] + counts["skipped"] == 199
    assert counts["skipped"] == len(before)
    assert (out / "batch-report.html").is_file()
    failed = [f for f in report["files"] if f["status"] == "failed"]
    assert failed[0]["file"].endswith("scan057.png") and failed[0]["reason"]
    # every output valid, mirrored, with a record naming its input and its own hash
    for i, src in enumerate(sources):
        rel = src.relative_to(scans)
        target = out / rel
        if i == 57:
            assert not target.exists()
            continue
        rec = json.loads((out / (str(rel) + ".photofix.json")).read_text())
        assert rec["input"]["sha256"] == sha(src)
        assert rec["output"]["sha256"] == sha(target)
        assert cv2.imread(str(target)).shape == (12, 16, 3)
    # no stray partial files anywhere
    assert not [p for p in out.rglob("*") if p.name.endswith(".part")]


def test_a_third_run_skips_everything_and_an_edited_output_is_redone(tmp_path: Path) -> None:
    scans = tmp_path / "scans"
    make_scans(scans, 6)
    job = BatchJob(write_recipe(tmp_path / "r.json"), [str(scans)], tmp_path / "out",
                   recursive=True, workers=1)  # fmt: skip
    assert run_batch(job).count("done") == 6
    again = run_batch(job)
    assert again.count("skipped") == 6 and again.exit_code == 0
    victim = next((tmp_path / "out").rglob("scan003.png"))
    victim.write_bytes(victim.read_bytes() + b"x")  # the output changed since its record
    third = run_batch(job)
    assert third.count("done") == 1 and third.count("skipped") == 5
    changed = dict(RECIPE, steps=[{"op": "fade", "params": {"strength": 0.5}}])
    job.recipe = write_recipe(tmp_path / "r2.json", changed)
    assert run_batch(job).count("done") == 6  # another recipe: everything is redone


def test_plan_refuses_collisions_and_bad_inputs(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    cv2.imwrite(str(tmp_path / "a" / "x.png"), np.zeros((4, 4, 3), np.uint8))
    cv2.imwrite(str(tmp_path / "a" / "x.tif"), np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(BatchPlanError, match="both be written"):
        plan_batch([str(tmp_path / "a")], tmp_path / "out", output_format="png")
    with pytest.raises(BatchPlanError, match="no such file"):
        plan_batch([str(tmp_path / "missing")], tmp_path / "out")
    with pytest.raises(BatchPlanError, match="replace the input"):
        plan_batch([str(tmp_path / "a" / "x.png")], tmp_path / "a")


def test_bad_recipe_is_refused_before_any_image(tmp_path: Path) -> None:
    bad = dict(RECIPE, steps=[{"op": "denoise", "params": {"sigma": 999}}])
    with pytest.raises(Exception, match=r"step 1 \(denoise\)"):
        load_recipe(write_recipe(tmp_path / "bad.json", bad))


def test_workers_fit_the_machine() -> None:
    assert size_workers(0, 500, "cpu", cores=8) == (8, 1)
    assert size_workers(2, 500, "cpu", cores=8) == (2, 4)
    assert size_workers(0, 3, "cpu", cores=8) == (3, 2)
    assert size_workers(0, 500, "cuda", cores=8)[0] == 1  # one GPU job at a time


def test_review_step_writes_the_proposal_and_accept_finishes_it(tmp_path: Path) -> None:
    scans = tmp_path / "scans"
    scans.mkdir()
    img = np.full((96, 96, 3), 120, np.uint8)
    cv2.line(img, (10, 20), (85, 70), (250, 250, 250), 2)  # a white scratch
    cv2.imwrite(str(scans / "print.png"), img)
    recipe = {
        "format": "photofix-recipe",
        "version": 2,
        "steps": [
            {"op": "detect-defects", "params": {}, "review": True},
            {"op": "inpaint", "params": {"engine": "fast"}},
        ],
    }
    job = BatchJob(write_recipe(tmp_path / "r.json", recipe), [str(scans)], tmp_path / "out",
                   workers=1)  # fmt: skip
    result = run_batch(job)
    assert result.count("review") == 1 and result.exit_code == 0
    proposal = tmp_path / "out" / "print.mask.png"
    assert proposal.is_file() and not (tmp_path / "out" / "print.png").exists()
    assert run_batch(job).count("review") == 1  # still waiting, not redone as done
    # the curator accepts an edited mask: the scratch's own pixels
    gray = cv2.imread(str(scans / "print.png"), cv2.IMREAD_GRAYSCALE)
    mask = cv2.dilate((gray > 200).astype(np.uint8), np.ones((3, 3))) > 0
    recipe_obj, recipe_sha = load_recipe(job.recipe)
    item = plan_batch(job.inputs, job.output_dir)[0]
    outcome = accept_review(item, recipe_obj, recipe_sha, BatchOptions(), mask)
    assert outcome.status == "done"
    fixed = cv2.imread(str(tmp_path / "out" / "print.png"))
    assert fixed[mask].max() < 200  # the scratch is filled
    assert np.array_equal(fixed[~mask], img[~mask])  # nothing else changed
    rec = json.loads((tmp_path / "out" / "print.png.photofix.json").read_text())
    assert [s["op"] for s in rec["steps"]] == ["mask-paint", "inpaint"]
    assert run_batch(job).count("skipped") == 1


@pytest.mark.slow
def test_ray_engine_gives_the_local_engine_outputs(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    scans = tmp_path / "scans"
    make_scans(scans, 8, corrupt=3)
    recipe = write_recipe(tmp_path / "r.json")
    local = run_batch(BatchJob(recipe, [str(scans)], tmp_path / "local", recursive=True,
                               workers=1))  # fmt: skip
    ray_run = run_batch(BatchJob(recipe, [str(scans)], tmp_path / "ray", recursive=True,
                                 engine="ray", workers=2))  # fmt: skip
    assert ray_run.count("done") == local.count("done") == 7
    assert ray_run.count("failed") == 1 and ray_run.exit_code == 1
    for p in (tmp_path / "local").rglob("scan*.png"):
        twin = tmp_path / "ray" / p.relative_to(tmp_path / "local")
        # the same pixels (the files differ only in their records' ids and times)
        assert pixels_sha256(twin) == pixels_sha256(p)
    # resumed under Ray too
    again = run_batch(BatchJob(recipe, [str(scans)], tmp_path / "ray", recursive=True,
                               engine="ray", workers=2))  # fmt: skip
    assert again.count("skipped") == 7
