"""Fine-tune DefectNet on the real prints' own labelled damage (training split only), mixed with
the synthetic recipe of ``train_defect_net.py`` so synthetic damage is still found.

    nice -n 10 .venv/bin/python training/finetune_real.py --init <weights> --minutes 12 \
        --out /tmp/defect_net_real.safetensors

Real crops: 96×96 from the regions of the training-split prints that were checked by hand
(``benchmarks/real_masks``; the held-out third never enters), 60 % centred near labelled damage,
the rest anywhere in the checked region (so the real thin structures excluded there are hard
negatives), flipped and turned. Labels: dust/spot → dust channel, crack/scratch → scratches;
emulsion losses and ``ignore`` pixels carry no loss. The features are computed on the whole
print, as the detector does. Needs ``../shared/data/real-damage``.

``--shape-share``: that share of the crops is the base recipe's clean crop damaged with real
mark shapes from ``dust-shape-masks`` (:func:`shape_sample`). The run measured in
docs/defects.md (*Real prints*; not shipped): ``--minutes 26 --steps 100000 --real-share 0.3
--shape-share 0.4``.

``--teacher PATH`` (with ``--keep-scratches``): the network whose scratch answer is taught
(default: ``--init``); an earlier stage's weights keep a run of stages from drifting.

``--keep-scratches W``: learn dust only. The scratches channel gets no label loss; it is taught
the ``--init`` network's own scratch probabilities instead (distillation: binary cross-entropy
against them, weight ``W``), so what the trunk learns for real dust does not move scratch
detection much. See docs/defects.md (*Real prints*) for the runs and what was shipped.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from safetensors.torch import load_file, save_file

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "training"))

import train_defect_net as base  # noqa: E402

from benchmarks import synthetic_defects as sd  # noqa: E402
from photofix.models import defect_net  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "real-damage"
MASKS = ROOT / "benchmarks" / "real_masks"
CROP = base.CROP


def load_real() -> list[tuple[np.ndarray, np.ndarray]]:
    """(features HxWx4, kind uint8 HxW) of every training-split print."""
    split = json.loads((MASKS / "split.json").read_text())
    entries = {
        Path(e["file"]).name: e for e in json.loads((MASKS / "labels.json").read_text())["prints"]
    }
    out = []
    for name in split["train"]:
        path = DATA / entries[name]["file"]
        digest = hashlib.sha1(path.read_bytes()).hexdigest()
        kind = cv2.imread(str(MASKS / f"{digest}.png"), cv2.IMREAD_UNCHANGED)
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        rgb = bgr[..., ::-1].astype(np.float32) / 255.0
        out.append((defect_net.input_features(defect_net.luminance(rgb)), kind))
    return out


def real_sample(real, rng: np.random.Generator):
    feats, kind = real[rng.integers(len(real))]
    h, w = kind.shape
    care = kind != 255
    damage = np.argwhere((kind == 1) | (kind == 2))
    if len(damage) and rng.random() < 0.6:
        cy, cx = damage[rng.integers(len(damage))]
    else:
        pts = np.argwhere(care)
        cy, cx = pts[rng.integers(len(pts))]
    y0 = int(np.clip(cy - CROP // 2 + rng.integers(-24, 25), 0, h - CROP))
    x0 = int(np.clip(cx - CROP // 2 + rng.integers(-24, 25), 0, w - CROP))
    f = feats[y0 : y0 + CROP, x0 : x0 + CROP]
    k = kind[y0 : y0 + CROP, x0 : x0 + CROP]
    if rng.random() < 0.5:
        f, k = f[:, ::-1], k[:, ::-1]
    turns = int(rng.integers(4))
    f, k = np.rot90(f, turns), np.rot90(k, turns)
    labels = np.stack([k == 2, k == 1]).astype(np.float32)
    weight = ((k != 255) & (k != 3)).astype(np.float32)[None].repeat(2, 0)
    return np.ascontiguousarray(f.transpose(2, 0, 1)), labels, weight


SHAPES = DATA / "dust-shape-masks"
SHAPE_CLASSES = {1: "dust", 2: "dirt", 3: "long hair", 4: "short hair", 5: "scratch"}


def load_shapes(limit: int = 6000, seed: int = 0) -> list[tuple[int, np.ndarray]]:
    """(class, binary crop uint8) of real marks outlined on blank film scans
    (``dust-shape-masks``, MIT, DustyScans): dust and dirt (1, 2), hair (3, 4), scratches (5)."""
    rng = np.random.default_rng(seed)
    out = []
    for path in sorted(SHAPES.glob("*_labels.png")):
        labels = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        n, comp, stats, _ = cv2.connectedComponentsWithStats((labels > 0).view(np.uint8), 8)
        for i in range(1, n):
            x, y, w, h, area = stats[i]
            if area < 6 or max(w, h) > 600:
                continue
            crop = comp[y : y + h, x : x + w] == i
            cls = int(np.bincount(labels[y : y + h, x : x + w][crop]).argmax())
            out.append((cls, crop.astype(np.uint8)))
    rng.shuffle(out)
    hair = [o for o in out if o[0] in (3, 4, 5)]
    return (hair + [o for o in out if o[0] in (1, 2)])[:limit]


def shape_sample(photos, shapes, rng: np.random.Generator):
    """A synthetic crop damaged with real mark shapes (scaled 0.1-0.45, turned, flipped), each
    bright or dark, often faint (strength 0.2-1) and soft (blur up to σ 1): dust and dirt up to
    12 px across are dust, hair and scratches from 12 px long are scratches; larger blobs carry
    no loss. Sometimes scanned (blur and JPEG) after the damage."""
    # the clean crop: the base recipe, undamaged
    y = _clean_crop(photos, rng)
    img = y.copy()
    dust = np.zeros((CROP, CROP), bool)
    scratch = np.zeros((CROP, CROP), bool)
    skip = np.zeros((CROP, CROP), bool)
    for _ in range(int(rng.integers(1, 12))):
        cls, crop = shapes[rng.integers(len(shapes))]
        f = rng.uniform(0.1, 0.45)
        h, w = crop.shape
        size = (max(1, round(w * f)), max(1, round(h * f)))
        alpha = cv2.resize(crop.astype(np.float32), size, interpolation=cv2.INTER_AREA)
        if rng.random() < 0.5:
            alpha = alpha[:, ::-1]
        alpha = np.rot90(alpha, int(rng.integers(4)))
        if rng.random() < 0.5:
            alpha = cv2.GaussianBlur(np.ascontiguousarray(alpha), (0, 0), rng.uniform(0.3, 1.0))
        ah, aw = alpha.shape[:2]
        if ah >= CROP or aw >= CROP:
            continue
        y0, x0 = int(rng.integers(0, CROP - ah)), int(rng.integers(0, CROP - aw))
        a = alpha * rng.uniform(0.2, 1.0)
        value = rng.uniform(0.75, 1.0) if rng.random() < 0.6 else rng.uniform(0.0, 0.25)
        region = img[y0 : y0 + ah, x0 : x0 + aw]
        new = region * (1 - a) + value * a
        visible = (np.abs(new - region) > 0.03) & (a > 0.2)
        img[y0 : y0 + ah, x0 : x0 + aw] = new
        extent = max(ah, aw)
        target = dust if cls in (1, 2) and extent <= 12 else scratch if extent >= 12 else None
        if cls in (1, 2) and extent > 12:
            target = skip
        if target is None:
            target = dust
        target[y0 : y0 + ah, x0 : x0 + aw] |= visible
    rgb = np.repeat(img[..., None], 3, 2).astype(np.float32)
    if rng.random() < 0.35:
        clean = np.repeat(y[..., None], 3, 2).astype(np.float32)
        _, rgb, (dust, scratch, skip) = sd.through_scanner(clean, rgb, [dust, scratch, skip], rng)
    scratch &= ~dust
    labels = np.stack([dust, scratch]).astype(np.float32)
    weight = (~skip).astype(np.float32)[None].repeat(2, 0)
    feats = defect_net.input_features(np.ascontiguousarray(rgb[..., 0]))
    return np.ascontiguousarray(feats.transpose(2, 0, 1)), labels, weight


def _clean_crop(photos, rng: np.random.Generator) -> np.ndarray:
    """An undamaged grainy luminance crop (float32 CROP×CROP) as the base recipe makes them."""
    y = np.ascontiguousarray(np.rot90(base.scaled_crop(photos, rng), rng.integers(4)))
    gamma, lift, gain = rng.uniform(0.7, 1.4), rng.uniform(0.0, 0.2), rng.uniform(0.6, 1.0)
    y = np.clip(lift + gain * np.clip(y, 0, 1) ** gamma, 0, 1).astype(np.float32)
    if rng.random() < 0.6:
        y = cv2.GaussianBlur(y, (0, 0), rng.uniform(0.3, 1.0))
    if rng.random() < 0.8:
        y = sd.add_grain(np.repeat(y[..., None], 3, 2), rng.uniform(0.003, 0.03), rng)[..., 0]
    return np.ascontiguousarray(y, dtype=np.float32)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--init", type=Path, default=defect_net.WEIGHTS)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--real-share", type=float, default=0.5)
    parser.add_argument("--shape-share", type=float, default=0.0)
    parser.add_argument("--minutes", type=float, default=12.0)
    parser.add_argument("--seed", type=int, default=20261203)
    parser.add_argument(
        "--cracks", type=float, default=0.0, help="share of synthetic crops given crack networks"
    )
    parser.add_argument(
        "--keep-scratches",
        type=float,
        default=0.0,
        help="learn dust only: the scratches channel is taught the --init network's own answer"
        " (distillation, this weight) instead of the labels, so scratch detection stays as it was",
    )
    parser.add_argument(
        "--teacher",
        type=Path,
        default=None,
        help="with --keep-scratches: the weights whose scratch answer is taught (default: --init;"
        " an earlier network's keeps a run of stages from drifting stage over stage)",
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    photos = base.load_photos()
    real = load_real()
    shapes = load_shapes() if args.shape_share > 0 else []
    net = defect_net.build()
    net.load_state_dict({k: v.float() for k, v in load_file(str(args.init)).items()})
    teacher = None
    if args.keep_scratches > 0:
        teacher = defect_net.build()
        source = args.teacher or args.init
        teacher.load_state_dict({k: v.float() for k, v in load_file(str(source)).items()})
        teacher.eval()
        for q in teacher.parameters():
            q.requires_grad_(False)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    pos_weight = torch.tensor([4.0, 2.0]).view(1, 2, 1, 1)
    start, running = time.time(), 0.0
    for step in range(args.steps):
        xs, ts, ws = [], [], []
        for _ in range(args.batch):
            r = rng.random()
            if r < args.real_share:
                f, t, w = real_sample(real, rng)
            elif r < args.real_share + args.shape_share:
                f, t, w = shape_sample(photos, shapes, rng)
            else:
                f, t = base.sample(photos, rng, 0.15, 0.35, 0.045, args.cracks)
                w = np.ones_like(t)
            xs.append(f)
            ts.append(t)
            ws.append(w)
        x, t, w = (torch.from_numpy(np.stack(a)) for a in (xs, ts, ws))
        if teacher is not None:
            w = w.clone()
            w[:, 1] = 0.0  # no label loss on scratches: the teacher's answer instead
        logits = net(x)
        p = torch.sigmoid(logits)
        hn = base.hard_negative_weight(x, t, p.detach(), 2.0)
        bce = torch.nn.functional.binary_cross_entropy_with_logits(
            logits, t, weight=w * hn, pos_weight=pos_weight
        )
        inter = (p * t * w).sum((0, 2, 3))
        dice = 1 - (2 * inter + 1) / ((p * w).sum((0, 2, 3)) + t.sum((0, 2, 3)) + 1)
        loss = bce + (dice[0] if teacher is not None else dice.mean())
        if teacher is not None:
            with torch.no_grad():
                target = torch.sigmoid(teacher(x)[:, 1])
            loss = (
                loss
                + args.keep_scratches
                * torch.nn.functional.binary_cross_entropy_with_logits(logits[:, 1], target)
            )
        opt.zero_grad()
        loss.backward()
        opt.step()
        running = 0.98 * running + 0.02 * loss.item() if step else loss.item()
        if step % 50 == 0:
            print(f"step {step} loss {running:.4f} {time.time() - start:.0f}s", flush=True)
        if step % 200 == 199 or time.time() - start > args.minutes * 60:
            state = {k: v.detach().half().contiguous() for k, v in net.state_dict().items()}
            save_file(state, str(args.out))
        if time.time() - start > args.minutes * 60:
            print("time limit reached", flush=True)
            break


if __name__ == "__main__":
    main()
