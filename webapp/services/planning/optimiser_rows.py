"""The staffing-plan MILP laid out from an instance: pruning, the columns and the sparse rows."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from webapp.services.planning.optimiser_model import Instance

CORE_PER_SLOT = 4


@dataclass
class _Rows:
    """Sparse constraint rows gathered as COO triplets, assembled once at the end."""

    n: int = 0
    lo: list[np.ndarray] = field(default_factory=list)
    hi: list[np.ndarray] = field(default_factory=list)
    rows: list[np.ndarray] = field(default_factory=list)
    cols: list[np.ndarray] = field(default_factory=list)
    vals: list[np.ndarray] = field(default_factory=list)

    def new(self, count: int, lo: float | np.ndarray, hi: float | np.ndarray) -> np.ndarray:
        ids = np.arange(self.n, self.n + count)
        self.n += count
        self.lo.append(np.broadcast_to(np.asarray(lo, dtype=float), (count,)))
        self.hi.append(np.broadcast_to(np.asarray(hi, dtype=float), (count,)))
        return ids

    def coef(self, rows: np.ndarray, cols: np.ndarray, val: float | np.ndarray) -> None:
        keep = cols >= 0
        self.rows.append(rows[keep])
        self.cols.append(cols[keep])
        self.vals.append(np.broadcast_to(np.asarray(val, dtype=float), rows.shape)[keep])


@dataclass
class Model:
    """Column layout of the MILP: x (engineer fills requirement), t (workshop done by a date), u."""

    xe: np.ndarray  # engineer of each x column
    xr: np.ndarray  # requirement of each x column
    te: np.ndarray  # engineer, workshop and date class of each t column
    tw: np.ndarray
    tk: np.ndarray
    open_slots: np.ndarray
    cost: np.ndarray = field(default_factory=lambda: np.zeros(0))
    upper: np.ndarray = field(default_factory=lambda: np.zeros(0))
    rows: _Rows = field(default_factory=_Rows)

    @property
    def nx(self) -> int:
        return len(self.xe)

    @property
    def nt(self) -> int:
        return len(self.te)


def build_model(inst: Instance, core: int = CORE_PER_SLOT) -> Model:
    """Prune impossible pairs, then lay out the columns and the rows of the MILP.

    Engineers who would need training are kept, per requirement, only among the `core` x open
    slots cheapest by their training lower bound (plus ties); `core <= 0` keeps them all. People
    already on a project are columns like anyone else (their roles there cost only the share
    they would add), so the capacity rules hold for them too.
    """
    open_slots = np.array([max(r.headcount, 0) for r in inst.requirements], dtype=np.int64)
    cand = inst.in_time & inst.alloc_ok & (open_slots > 0)[None, :]
    # The shortlist is sized by the slots that people already on the project leave open.
    _, short = inst.fixed_staff()
    core_mask = _trainee_core(
        inst.training_bound, cand, short, core, inst.req_skill, inst.req_level
    )
    xe, xr = np.nonzero(cand & (inst.qualified | core_mask))
    te, tw, tk = _training_columns(inst, xe, xr)
    model = Model(xe, xr, te, tw, tk, open_slots)
    n_col = model.nx + model.nt + len(inst.requirements)
    model.cost = np.zeros(n_col)
    model.upper = np.ones(n_col)
    model.upper[model.nx + model.nt :] = open_slots
    model.cost[model.nx + model.nt :] = inst.req_weight
    _fill_rows(inst, model)
    _allocation_rows(inst, model)
    _one_role_rows(inst, model)
    tidx = np.full((len(inst.engineers), len(inst.workshops), len(inst.dates)), -1, dtype=np.int64)
    tidx[te, tw, tk] = model.nx + np.arange(model.nt)
    _skill_rows(inst, model, tidx)
    _prerequisite_rows(inst, model, tidx)
    _timeline_rows(inst, model)
    return model


def _trainee_core(
    bound: np.ndarray,
    cand: np.ndarray,
    open_slots: np.ndarray,
    core: int,
    req_skill: np.ndarray,
    req_level: np.ndarray,
) -> np.ndarray:
    """E x R mask of the trainees worth modelling: the cheapest few per requirement, and, for
    each of those, every other requirement of the same skill at a level no higher (the same
    training fills it at no extra cost, though the engineer is rarely among its cheapest)."""
    keep = np.zeros_like(cand)
    trainable = cand & (bound > 0)
    for r in np.flatnonzero(trainable.any(axis=0)):
        es = np.flatnonzero(trainable[:, r])
        size = len(es) if core <= 0 else core * int(open_slots[r])
        if size == 0:
            continue
        if size < len(es):
            cut = np.partition(bound[es, r], size - 1)[size - 1]
            es = es[bound[es, r] <= cut]
        keep[es, r] = True
    same = (req_skill[:, None] == req_skill[None, :]) & (req_level[None, :] <= req_level[:, None])
    reused = (keep.astype(np.float32) @ same.astype(np.float32)) > 0  # BLAS, not an int loop
    return (keep | reused) & trainable


def _training_columns(
    inst: Instance, xe: np.ndarray, xr: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """t[e, w, k] = 1 when engineer e has passed w by date class k; only useful triples exist.

    A triple exists when a candidate slot of e at exactly class k could lean on w (directly or
    through prerequisites) and w fits before class k's date. Done-by-k for other classes is
    read off the latest existing class before it, so nothing is lost.
    """
    n_e, n_w, n_k = len(inst.engineers), len(inst.workshops), len(inst.dates)
    lb = inst.lower_bounds
    train = ~inst.qualified[xe, xr]
    rel = np.zeros((n_e, n_w, n_k), dtype=bool)
    for r in np.unique(xr[train]):
        es = xe[train & (xr == r)]
        k = int(inst.req_class[r])
        for j in inst.justifiers(int(inst.req_skill[r]), int(inst.req_level[r])):
            rel[es, j, k] = True
    for w in reversed(inst.order):
        rw = rel[:, w, :] & (lb[:, w, None] <= inst.avail + 1e-9)
        rel[:, w, :] = rw
        if not rw.any():
            continue
        for p in inst.prereq_workshops(w):
            rel[:, p, :] |= rw & ~inst.passed[:, p, None]
        for s, lvl in inst.prereq_levels(w):
            via = rw & (inst.eff[:, s] < lvl)[:, None]
            for j in inst.justifiers(s, lvl, before=w):
                rel[:, j, :] |= via
    te, tw, tk = np.nonzero(rel & ~inst.passed[:, :, None])
    return te, tw, tk


def _fill_rows(inst: Instance, model: Model) -> None:
    """Each requirement: filled slots + unfilled slots = open slots."""
    n_r = len(inst.requirements)
    ids = model.rows.new(n_r, model.open_slots, model.open_slots)
    model.rows.coef(ids[model.xr], np.arange(model.nx), 1.0)
    model.rows.coef(ids, model.nx + model.nt + np.arange(n_r), 1.0)


def _allocation_rows(inst: Instance, model: Model) -> None:
    """The shares the new roles add fit in what the engineer has free (availability less every
    existing assignment); a role on their own project adds only what it asks beyond it."""
    cost = inst.role_cost[model.xe, model.xr]
    cols = np.flatnonzero(cost > 0)
    load = np.bincount(model.xe[cols], weights=cost[cols], minlength=len(inst.engineers))
    tight = np.flatnonzero(load > inst.cap + 1e-9)
    if not len(tight):
        return
    row_of = np.full(len(inst.engineers), -1)
    row_of[tight] = model.rows.new(len(tight), -np.inf, inst.cap[tight])
    cols = cols[row_of[model.xe[cols]] >= 0]
    model.rows.coef(row_of[model.xe[cols]], cols, cost[cols])


def _one_role_rows(inst: Instance, model: Model) -> None:
    """An engineer holds at most one role (fills one requirement) per project."""
    key = model.xe * (int(inst.req_project.max(initial=0)) + 1) + inst.req_project[model.xr]
    _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    shared = np.flatnonzero(counts > 1)
    if not len(shared):
        return
    row_of = np.full(len(counts), -1)
    row_of[shared] = model.rows.new(len(shared), -np.inf, 1.0)
    cols = np.flatnonzero(row_of[inverse] >= 0)
    model.rows.coef(row_of[inverse[cols]], cols, 1.0)


def _skill_rows(inst: Instance, model: Model, tidx: np.ndarray) -> None:
    """x[e, r] <= sum of t[e, w, k(r)] over workshops w proving r's level, when e lacks it."""
    cols = np.flatnonzero(~inst.qualified[model.xe, model.xr])
    ids = model.rows.new(len(cols), -np.inf, 0.0)
    model.rows.coef(ids, cols, 1.0)
    xr = model.xr[cols]
    for r in np.unique(xr):
        sel = xr == r
        es, k = model.xe[cols[sel]], int(inst.req_class[r])
        for j in inst.justifiers(int(inst.req_skill[r]), int(inst.req_level[r])):
            model.rows.coef(ids[sel], tidx[es, j, k], -1.0)


def _prerequisite_rows(inst: Instance, model: Model, tidx: np.ndarray) -> None:
    """t[e, w, k] needs each missing prereq workshop and each missing prereq level by k too."""
    by_w = np.argsort(model.tw, kind="stable")
    bounds = np.searchsorted(model.tw[by_w], np.arange(len(inst.workshops) + 1))
    for w in range(len(inst.workshops)):
        cols = by_w[bounds[w] : bounds[w + 1]]
        if not len(cols):
            continue
        es, ks, tcols = model.te[cols], model.tk[cols], model.nx + cols
        for p in inst.prereq_workshops(w):
            sel = ~inst.passed[es, p]
            ids = model.rows.new(int(sel.sum()), -np.inf, 0.0)
            model.rows.coef(ids, tcols[sel], 1.0)
            model.rows.coef(ids, tidx[es[sel], p, ks[sel]], -1.0)
        for s, lvl in inst.prereq_levels(w):
            sel = inst.eff[es, s] < lvl
            ids = model.rows.new(int(sel.sum()), -np.inf, 0.0)
            model.rows.coef(ids, tcols[sel], 1.0)
            for j in inst.justifiers(s, lvl, before=w):
                model.rows.coef(ids, tidx[es[sel], j, ks[sel]], -1.0)


def _timeline_rows(inst: Instance, model: Model) -> None:
    """Nesting (done by k implies done by later k), hours by each date, cost at the last date."""
    t0 = model.nx
    same = (model.te[:-1] == model.te[1:]) & (model.tw[:-1] == model.tw[1:])
    nxt = np.flatnonzero(same)
    ids = model.rows.new(len(nxt), -np.inf, 0.0)
    model.rows.coef(ids, t0 + nxt, 1.0)
    model.rows.coef(ids, t0 + nxt + 1, -1.0)
    last = np.ones(model.nt, dtype=bool)
    last[nxt] = False
    model.cost[t0 : t0 + model.nt] = np.where(last, inst.hours[model.tw], 0.0)
    _capacity_rows(inst, model, np.where(same, model.tk[1:], len(inst.dates)))


def _capacity_rows(inst: Instance, model: Model, k_next: np.ndarray) -> None:
    """Hours of everything done by each class k of an engineer fit before k's date.

    Workshop w counts at k through its column at the latest class <= k, valid until k_next.
    """
    n_e, n_k = len(inst.engineers), len(inst.dates)
    k_next = np.append(k_next, n_k) if len(k_next) < model.nt else k_next
    hours = inst.hours[model.tw]
    has = np.zeros((n_e, n_k), dtype=bool)
    has[model.te, model.tk] = True
    spans = [np.flatnonzero((model.tk <= k) & (k < k_next) & has[model.te, k]) for k in range(n_k)]
    total = np.zeros((n_e, n_k))
    for k, cols in enumerate(spans):
        total[:, k] = np.bincount(model.te[cols], weights=hours[cols], minlength=n_e)
    tight = has & (total > inst.avail + 1e-9)
    row_of = np.full((n_e, n_k), -1)
    e_t, k_t = np.nonzero(tight)
    row_of[e_t, k_t] = model.rows.new(len(e_t), -np.inf, inst.avail[e_t, k_t])
    for k, cols in enumerate(spans):
        rows = row_of[model.te[cols], k]
        keep = rows >= 0
        model.rows.coef(rows[keep], model.nx + cols[keep], hours[cols[keep]])
