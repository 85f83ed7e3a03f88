"""The objective layer: raw pass sums → mean-scaled objectives of one or many problems.

Every kernel and every data backend returns raw weighted sums (``fastlr.kernels._sums.Sums``).
:func:`normalise` is the one place that divides them by Σ sᵢ; the penalty (``fastlr._penalties``)
is added by the objective, outside it:

    f(θ)   = Σ sᵢ·Lᵢ / S + P(w),       S = Σ sᵢ
    ∇f     = [Σ sᵢ·dzᵢ·xᵢ / S + ∇P(w),  Σ sᵢ·dzᵢ / S]
    ∇²f    = Σ sᵢ·hᵢ·x̃ᵢx̃ᵢᵀ / S + ∇²P(w)     over θ = [w, b], x̃ᵢ = [xᵢ, 1]

The intercept is not penalised. scikit-learn's LogisticRegression minimises
F(θ) = C·Σ sᵢ·Lᵢ + r(w); its solvers work, as these do, on F / (C·S), this f with strength
1/(C·S): the gradient is O(1) whatever the number of samples, so one ``tol`` fits every size, and
the minimiser — the coefficients — is the same.

:class:`Objective` is P independent problems over one data backend (``fastlr._backend``), as the
lockstep solvers (``fastlr._solvers``) consume them: ``loss_grad(index, x)`` evaluates the
problems ``index`` at the rows of x (q, p) in **one pass over X**. Three models:

* ``binary`` — one problem, θ = [w, b] (the logistic datafit);
* ``multinomial`` — one problem, θ = [W (K·n, class by class), b (K)] (softmax);
* ``batch`` — P binary problems sharing X, θₖ = [wₖ, bₖ] (the batched logistic datafit:
  one-vs-rest, folds, a grid of C). Each problem has its own labels, weights, S and strength.

Without an intercept θ is just the coefficients.

A penalty with an L1 part is not smooth: the proximal solvers split f into its smooth part
(the data term plus the penalty's L2 part, ``smooth_loss_grad``) and the L1 part, which they
reach through ``proximal(k)`` — its value, prox and minimal subgradient on θ of problem k (the
intercept, unpenalised, passes through). ``intercept_penalty=s`` penalises the intercept as
liblinear does, as a coefficient of a constant feature s: the penalty of b is the penalty's of
b/s (L1 strength α/s, L2 strength λ/s²) — on those two paths only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _interrupt
from ._penalties import L2

__all__ = ["Datafit", "Objective", "Proximal", "normalise"]

#: Multinomial Newton-CG's preconditioner, the class-averaged Hessian diagonal, is computed in one
#: pass of K = 1's cost (the per-sample weights averaged over the classes first) from this many
#: coefficients K·n on; below, by K per-class passes then the average. The two agree to rounding
#: (8.8e-16 relative), but the per-class pass's partial sums are K·n wide per task: 20 classes,
#: CSR 40,000 x 100,000 (2·10⁶ coefficients), the default fit 5.1 s -> 3.2 s (1 thread); at
#: digits' 640 both cost well under a millisecond, and the old rounding is kept: Newton-CG's
#: stopping point at tol 1e-4 moves with the last bit of the preconditioner (digits as loaded: a
#: 1e-15 relative change gives gaps to f* from 4.7e-5 to 4.4e-3, 12 draws).
CLASS_MEAN_DIAGONAL_MIN = 65_536

#: coefficients from which ``hessp`` of one problem with an L2 penalty is assembled in one
#: compiled pass (``Objective._assemble``), and a gradient's (``Objective.penalised``);
#: below, NumPy's three are cheaper than a call
_FUSED_HESSP_MIN = 65_536


def normalise(sums, weight_sum):
    """Raw sums → (J, grad_w, grad_b[, H]) of the data term: each divided by S, exactly (no
    reciprocal), float64. ``weight_sum``: a float, or (q,) one per problem of a batch."""
    if np.ndim(weight_sum) == 0:
        S = float(weight_sum)
        parts = (sums.loss / S, sums.grad_w / S, sums.grad_b / S)
        hess = None if sums.hess is None else sums.hess / S
    else:
        S = np.asarray(weight_sum, dtype=np.float64)
        parts = (sums.loss / S, sums.grad_w / S[:, None], sums.grad_b / S)
        hess = None if sums.hess is None else sums.hess / S[:, None, None]
    return parts if hess is None else (*parts, hess)


@dataclass(frozen=True)
class Datafit:
    """Which datafit a pass runs, with the backend's handle of its per-sample target.

    ``kind``: "logistic" (``target``: 0/1 labels), "softmax" (``target``: class indices) or
    "batched" (``target``: per-sample group codes; ``labels`` and ``factors`` (P, G): problem k
    sees label labels[k, g] and weight sᵢ·factors[k, g] for a sample of group g).
    """

    kind: str
    target: object
    labels: np.ndarray | None = None
    factors: np.ndarray | None = None

    def select(self, index) -> "Datafit":
        """The datafit of the problems ``index`` (a batch; the others have one problem)."""
        if self.kind != "batched":
            return self
        return Datafit(self.kind, self.target, self.labels[index], self.factors[index])


class Objective:
    """P mean-scaled problems over one backend; see the module docstring and
    ``fastlr._solvers`` (the Objective protocol: loss_grad, loss_grad_hess,
    loss_grad_curvature, hessp, hessian_diagonal, each over an ``index`` of problems)."""

    def __init__(self, backend, datafit: Datafit, penalty, *, model: str, n_classes: int = 1,
                 fit_intercept: bool = True, intercept_penalty: float | None = None):
        self.backend = backend
        self.datafit = datafit
        self.penalty = penalty
        split = getattr(penalty, "split", None)
        self.smooth_penalty, self.prox_penalty = split() if split else (penalty, None)
        self.intercept_penalty = None
        if intercept_penalty is not None and fit_intercept:
            if model == "multinomial":
                raise ValueError("a penalised intercept (liblinear's intercept_scaling) is for "
                                 "binary and one-vs-rest problems only")
            s = float(intercept_penalty)
            from ._penalties import L1, L2

            self.intercept_penalty = s
            self._intercept_parts = (
                None if self.smooth_penalty is None else L2(self.smooth_penalty.strength / s**2),
                None if self.prox_penalty is None else L1(self.prox_penalty.strength / s))
        self.model = model
        self.fit_intercept = bool(fit_intercept)
        n = self.n_features = int(backend.n_features)
        self.n_classes = int(n_classes)
        if model == "multinomial":
            self.n_problems = 1
            self.n_coef = self.n_classes * n
            self.n_params = self.n_coef + (self.n_classes if self.fit_intercept else 0)
        else:
            self.n_problems = 1 if model == "binary" else datafit.labels.shape[0]
            self.n_coef = n
            self.n_params = n + int(self.fit_intercept)
        if model == "batch":
            S = datafit.factors @ backend.group_weight_sums(datafit.target, datafit.labels.shape[1])
            if not np.all(S > 0):
                raise ValueError("a problem of the batch has no sample of positive weight")
            self.weight_sums = S
        else:
            self.weight_sums = np.full(1, float(backend.weight_sum))
        smooth = getattr(penalty, "smooth", True)
        # the curvature paths know neither an L1 part nor liblinear's penalised intercept
        smooth = smooth and self.intercept_penalty is None
        self.capabilities = frozenset(c for c in backend.capabilities
                                      if c in ("hessian", "hessp", "diagonal") and smooth)
        # per problem: (curvature handle, row in it) of its last loss_grad_curvature
        self._curvature = [None] * self.n_problems
        # the last _kept gather: (the (handle, row) pairs it was made of, the gathered array)
        self._gathered = (None, None)
        #: passes over X so far, by kind of pass (for tests and diagnostics)
        self.passes = {}

    # ------------------------------------------------------------------ θ ↔ the pass's (W, b)
    def _split(self, x):
        """x (q, p) → (W, b) of the pass: (q, n) and (q,) — or (K, n), (K,) for softmax."""
        x = np.asarray(x, dtype=np.float64).reshape(-1, self.n_params)
        if self.model == "multinomial":
            K = self.n_classes
            W = x[0, :self.n_coef].reshape(K, self.n_features)
            b = x[0, self.n_coef:] if self.fit_intercept else np.zeros(K)
            return W, b
        W = x[:, :self.n_features]
        b = x[:, self.n_features] if self.fit_intercept else np.zeros(x.shape[0])
        return W, b

    def _theta(self, grad_w, grad_b, q):
        """Gradient parts → (q, p), the layout of θ."""
        gw = np.asarray(grad_w, dtype=np.float64).reshape(q, -1)
        if not self.fit_intercept:
            return gw.copy()
        g = np.empty((q, self.n_params))
        g[:, :self.n_coef] = gw
        g[:, self.n_coef:] = np.asarray(grad_b, dtype=np.float64).reshape(q, -1)
        return g

    def _coef(self, x):
        """The penalised part of each row of x: (q, n_coef)."""
        return np.asarray(x, dtype=np.float64).reshape(-1, self.n_params)[:, :self.n_coef]

    def _run(self, index, x, want, finish=None):
        _interrupt.check()  # Ctrl-C during a fit stops here, in every solver
        self.passes[want] = self.passes.get(want, 0) + 1
        W, b = self._split(x)
        if finish is not None:
            return self.backend.run(self.datafit.select(index), W, b, want, finish=finish)
        return self.backend.run(self.datafit.select(index), W, b, want)

    def _finishing(self) -> bool:
        """Whether the backend's pass writes the gradient's and H·v's coefficients itself
        (``finish``: a / S + λ·v, the arithmetic of ``_data_term`` and ``_add_penalty``): one
        multinomial problem with an L2 penalty of λ > 0 from ``_FUSED_HESSP_MIN`` coefficients.
        It saves the passes over the K·n coefficients after each pass (text corpus 40,000 x
        100,000, 20 classes; benchmarks/fit_vs_sklearn.py --cases corpus20)."""
        return (self.model == "multinomial" and self.n_coef >= _FUSED_HESSP_MIN
                and type(self.penalty) is L2 and float(self.penalty.strength[0]) > 0
                and "finish" in self.backend.capabilities)

    def _finished_loss_grad(self, index, x, want):
        """(f, g, handle) with the pass forming g's coefficients (``_finishing``), or None when
        the backend's pass did not (then nothing was run)."""
        g = np.empty((1, self.n_params))
        S = float(self.weight_sums[0])
        sums, handle = self._run(index, x, want, finish=(
            S, float(self.penalty.strength[0]),
            g[0, :self.n_coef].reshape(self.n_classes, self.n_features)))
        if sums.grad_w is not None:  # not formed there: the general path from these sums
            f, g, _ = self._data_term(index, sums)
            return (*self._add_penalty(index, x, f, g), handle)
        f = np.atleast_1d(np.asarray(sums.loss / S, dtype=np.float64)).copy()
        if self.fit_intercept:
            np.divide(np.asarray(sums.grad_b, dtype=np.float64).reshape(-1), S,
                      out=g[0, self.n_coef:])
        with np.errstate(over="ignore"):
            f += self.penalty.value(self._coef(x), index)
        return f, g, handle

    def _data_term(self, index, sums):
        q = len(index)
        S = self.weight_sums[index] if self.model == "batch" else float(self.weight_sums[0])
        parts = normalise(sums, S)
        f = np.array(parts[0], dtype=np.float64, ndmin=1)  # a new array: penalties add into it
        return f, self._theta(parts[1], parts[2], q), (parts[3] if len(parts) > 3 else None)

    def _add_penalty(self, index, x, f, g):
        W = self._coef(x)
        with np.errstate(over="ignore"):  # a huge start: inf is the honest answer
            f += self.penalty.value(W, index)
            g[:, :self.n_coef] += self.penalty.gradient(W, index)
        return f, g

    def fused_coefficients(self, index) -> bool:
        """Whether ``penalised`` forms g's coefficients in one compiled sweep per problem:
        problems of ``_FUSED_HESSP_MIN`` coefficients, each with an L2 penalty of λ > 0."""
        return (self.n_coef >= _FUSED_HESSP_MIN and type(self.penalty) is L2
                and self.intercept_penalty is None
                and bool(np.all(self.penalty.strength[np.asarray(index)] > 0)))

    def penalised(self, index, x, sums):
        """(f (q,), g (q, p)) of the problems ``index`` at the rows of x from their pass's raw
        sums (``kernels._sums.Sums``, or any object with its ``loss``, ``grad_w`` and ``grad_b``):
        the data term (``normalise``) plus the penalty. With ``fused_coefficients``, each
        problem's coefficients a / S + λ·w come from one compiled sweep (``_sweeps.scaled_plus``,
        NumPy's bits: no FMA) instead of five passes over the q × n values and three
        temporaries (normalise, θ's layout, λ·W and the sum); ``grad_w`` may then be q rows."""
        if not self.fused_coefficients(index):
            f, g, _ = self._data_term(index, sums)
            return self._add_penalty(index, x, f, g)
        index = np.asarray(index)
        W = self._coef(x)
        g = self._assemble(index, sums.grad_w, sums.grad_b, W)
        f = np.asarray(sums.loss, dtype=np.float64).reshape(len(index)) / self.weight_sums[index]
        with np.errstate(over="ignore"):
            f += self.penalty.value(W, index)
        return f, g

    def _assemble(self, index, raw_w, raw_b, V):
        """(q, p) in θ's layout from raw per-coefficient and intercept sums: each problem's
        a / S + λ·v on the coefficients in one compiled sweep (``_sweeps.scaled_plus``: NumPy's
        ``a / S`` then ``+ λ·v``, to the bit) and b / S on the intercepts — the gradient's
        (``penalised``, v = w) and H·v's (``hessp``) L2-penalised assembly. ``raw_w``: q rows
        of n (a batch) or one problem's (n,) / (K, n); V (q, ≥ n_coef)."""
        from ._solvers import _sweeps

        index = np.asarray(index)
        q, n = len(index), self.n_coef
        S = self.weight_sums[index]
        lam = self.penalty.strength[index]
        # one problem's coefficients as one row: the binary (n,) and the multinomial (K, n)
        G = raw_w if self.model == "batch" else np.reshape(raw_w, (1, n))
        out = np.empty((q, self.n_params))
        for row in range(q):
            _sweeps.scaled_plus(out[row, :n], np.ascontiguousarray(G[row], dtype=np.float64),
                                float(S[row]), np.ascontiguousarray(V[row, :n]),
                                float(lam[row]))
        if self.fit_intercept:
            out[:, n:] = np.asarray(raw_b, dtype=np.float64).reshape(q, -1) / S[:, None]
        return out

    # ------------------------------------------------------------------ the solvers' protocol
    def _check_smooth(self):
        if self.prox_penalty is not None:
            raise TypeError(f"{self.penalty!r} has an L1 part: the objective is not smooth; "
                            "proximal solvers use smooth_loss_grad and proximal(k)")

    def smooth_loss_grad(self, index, x):
        """(f_s (q,), g_s (q, p)) of the smooth part — the data term plus the penalty's L2 part
        (and the intercept's, with ``intercept_penalty``) — at the rows of x: one pass over X.
        For an L2 penalty it is ``loss_grad``."""
        if self.prox_penalty is None and self.intercept_penalty is None:
            return self.loss_grad(index, x)
        index = np.asarray(index)
        sums, _ = self._run(index, x, "gradient")
        f, g, _ = self._data_term(index, sums)
        smooth = self.smooth_penalty
        if smooth is not None:
            W = self._coef(x)
            with np.errstate(over="ignore"):
                f += smooth.value(W, index)
                g[:, :self.n_coef] += smooth.gradient(W, index)
        part = self._intercept_parts[0] if self.intercept_penalty is not None else None
        if part is not None:
            b = np.asarray(x, dtype=np.float64).reshape(-1, self.n_params)[:, -1:]
            with np.errstate(over="ignore"):
                f += part.value(b, index)
                g[:, -1:] += part.gradient(b, index)
        return f, g

    def proximal(self, k: int) -> "Proximal":
        """The non-smooth part of problem k on its θ: value, prox, minimal subgradient."""
        parts = [(slice(0, self.n_coef), self.prox_penalty)]
        if self.intercept_penalty is not None:
            parts.append((slice(self.n_coef, self.n_params), self._intercept_parts[1]))
        return Proximal(int(k), [(where, part) for where, part in parts if part is not None],
                        self.n_params)

    def loss_grad(self, index, x):
        """(f (q,), g (q, p)) of the problems ``index`` at the rows of x: one pass over X."""
        self._check_smooth()
        if self.intercept_penalty is not None:  # liblinear's L2 objective
            return self.smooth_loss_grad(index, x)
        index = np.asarray(index)
        if self._finishing():
            f, g, _ = self._finished_loss_grad(index, x, "gradient")
            return f, g
        sums, _ = self._run(index, x, "gradient")
        return self.penalised(index, x, sums)

    def loss(self, index, x):
        """f (q,) alone: one pass over X without the scatter."""
        index = np.asarray(index)
        sums, _ = self._run(index, x, "loss")
        f, _, _ = self._data_term(index, sums)
        with np.errstate(over="ignore"):
            f = f + self.penalty.value(self._coef(x), index)
            if self.intercept_penalty is not None:
                b = np.asarray(x, dtype=np.float64).reshape(-1, self.n_params)[:, -1:]
                for part in self._intercept_parts:
                    if part is not None:
                        f += part.value(b, index)
            return f

    def loss_grad_curvature(self, index, x):
        """``loss_grad``, keeping each problem's curvature at x for ``hessp`` and
        ``hessian_diagonal``."""
        index = np.asarray(index)
        self._check_smooth()
        if self._finishing():
            f, g, handle = self._finished_loss_grad(index, x, "curvature")
            self._curvature[0] = (handle, None)
            return f, g
        sums, handle = self._run(index, x, "curvature")
        if self.model == "batch":  # one row of the handle per problem
            for row, k in enumerate(index):
                self._curvature[k] = (handle, row)
        else:  # one problem, all of the handle's rows (K classes for softmax)
            self._curvature[0] = (handle, None)
        return self.penalised(index, x, sums)

    def _kept(self, index):
        """One curvature handle for the problems ``index`` (their rows, gathered if they come
        from several passes)."""
        kept = [self._curvature[k] for k in index]
        if any(c is None for c in kept):
            raise RuntimeError("hessp/hessian_diagonal before loss_grad_curvature")
        # Newton-CG asks for the same problems' curvature at every CG step of an iteration:
        # gather the rows from several passes once (one-vs-rest 200,000 x 50 x 10, newton-cg:
        # ~20 ms of np.stack per fit of 0.3 s)
        # (the pairs are kept, not their ids: a freed handle's id can come back)
        last, gathered = self._gathered
        if last is None or len(last) != len(kept) or any(
                h is not g or r != q for (h, r), (g, q) in zip(kept, last)):
            gathered = self.backend.gather_curvature(kept)
            self._gathered = (kept, gathered)
        return gathered

    def _theta_scaled(self, hv, hb, index):
        """Raw per-coefficient and intercept sums → (q, p) in θ's layout, each divided by its
        problem's S: written into one array (no ``np.hstack`` copies). ``hv`` (q or K, n), ``hb``
        (q or K,)."""
        q = len(index)
        out = np.empty((q, self.n_params))
        S = (self.weight_sums[index][:, None] if self.model == "batch"
             else float(self.weight_sums[0]))
        np.divide(np.asarray(hv, dtype=np.float64).reshape(q, -1), S, out=out[:, :self.n_coef])
        if self.fit_intercept:
            np.divide(np.asarray(hb, dtype=np.float64).reshape(q, -1), S,
                      out=out[:, self.n_coef:])
        return out

    def hessp(self, index, v):
        """∇²f·v (q, p) at each problem's last ``loss_grad_curvature`` point: one pass over X."""
        index = np.asarray(index)
        v = np.asarray(v, dtype=np.float64).reshape(-1, self.n_params)
        _interrupt.check()
        self.passes["hessp"] = self.passes.get("hessp", 0) + 1
        V, vb = self._split(v)
        fused = (self.model != "batch" and self.n_coef >= _FUSED_HESSP_MIN
                 and type(self.penalty) is L2)
        if fused and self._finishing():
            # the pass writes H·v's coefficients (a / S + λ·v) itself: no pass over them after
            # (benchmarks/fit_vs_sklearn.py --cases corpus20)
            out = np.empty((1, self.n_params))
            S = float(self.weight_sums[0])
            hv, hb = self.backend.hessp(
                self.datafit.select(index), self._kept(index), V, vb,
                finish=(S, float(self.penalty.strength[0]),
                        out[0, :self.n_coef].reshape(self.n_classes, self.n_features)))
            if hv is None:
                if self.fit_intercept:
                    np.divide(np.asarray(hb, dtype=np.float64).reshape(-1), S,
                              out=out[0, self.n_coef:])
                return out
        else:
            hv, hb = self.backend.hessp(self.datafit.select(index), self._kept(index), V, vb)
        if fused:
            return self._assemble(index, hv, hb, v)
        out = self._theta_scaled(hv, hb, index)
        out[:, :self.n_coef] += self.penalty.hessp(self._coef(v), index)
        return out

    def hessian_diagonal(self, index):
        """diag ∇²f (q, p) at each problem's last ``loss_grad_curvature`` point: one pass.

        Multinomial: each feature's entries averaged over the classes (and the intercepts'
        likewise) — Newton-CG's preconditioner must act alike on every class, or it moves the
        iterates off the subspace Σₖ Wₖ = 0 where the penalised optimum lies (scikit-learn's
        test_multinomial_identifiability_on_iris: coef_ summed over classes was 0.16, not 0).
        From ``CLASS_MEAN_DIAGONAL_MIN`` coefficients the average is taken over the per-sample
        weights first (``backend.diagonal(..., class_mean=True)``): one pass of K = 1's cost
        instead of K classes' (module constant).
        """
        index = np.asarray(index)
        self.passes["diagonal"] = self.passes.get("diagonal", 0) + 1
        if self.model == "multinomial" and self.n_coef >= CLASS_MEAN_DIAGONAL_MIN:
            d, db = self.backend.diagonal(self.datafit.select(index), self._kept(index),
                                          class_mean=True)
            d = np.broadcast_to(np.asarray(d).reshape(1, -1), (self.n_classes, self.n_features))
            db = np.broadcast_to(np.asarray(db).reshape(-1)[:1], (self.n_classes,))
        else:
            d, db = self.backend.diagonal(self.datafit.select(index), self._kept(index))
            if self.model == "multinomial":
                d = np.broadcast_to(d.mean(axis=0), d.shape)
                db = np.broadcast_to(db.mean(), db.shape)
        out = self._theta_scaled(d, db, index)
        out[:, :self.n_coef] += self.penalty.hessian_diagonal(out[:, :self.n_coef], index)
        return out

    def loss_grad_hess(self, index, x):
        """(f, g, H (q, p, p)): one pass over X that also forms each problem's Hessian."""
        index = np.asarray(index)
        self._check_smooth()
        x = np.asarray(x, dtype=np.float64).reshape(-1, self.n_params)
        sums, _ = self._run(index, x, "hessian")
        f, g, H = self._data_term(index, sums)
        H = H.reshape(-1, H.shape[-2], H.shape[-1]) if H.ndim == 3 else H[None]
        if H.shape[-1] != self.n_params:  # without an intercept: drop b's row and column
            H = np.array(H[:, :self.n_params, :self.n_params])
        # (else H is normalise's own new array, written in place below)
        diag = np.arange(self.n_coef)
        H[:, diag, diag] += self.penalty.hessian_diagonal(self._coef(x), index)
        if self.model == "multinomial":
            self._regularise_softmax(H[0])
        f, g = self._add_penalty(index, x, f, g)
        return f, g, H

    def _regularise_softmax(self, H):
        """The softmax is unchanged by adding one constant to every intercept, so H is singular
        along b = (1, …, 1) (and, without a penalty, along W[:, j] = (1, …, 1) for each
        feature j). The gradient has no component along those directions, so adding c·uuᵀ for
        each of them (c: H's mean diagonal) changes no Newton step and makes the Cholesky
        factorisation well-posed."""
        K, n = self.n_classes, self.n_features
        c = float(np.mean(np.diag(H))) or 1.0
        if self.fit_intercept:
            H[self.n_coef:, self.n_coef:] += c / K  # u = (0, …, 0, 1, …, 1)/√K
        if not np.any(self.penalty.strength):  # u = (W[:, j] = 1, …)/√K, every j at once
            index = np.arange(K)[:, None] * n + np.arange(n)[None, :]  # (K, n): θ of W[k, j]
            H[index[:, None, :], index[None, :, :]] += c / K


class Proximal:
    """The non-smooth (L1) part h of one problem k on its θ (p,): the coefficients ``parts``
    (slices of θ, each with its L1 penalty) and the rest passing through (the intercept, not
    penalised). With no part, h = 0 and every method is the identity (a smooth problem)."""

    def __init__(self, k: int, parts, n_params: int):
        self.index = np.array([k])
        self.parts = parts
        self.n_params = n_params

    def value(self, x) -> float:
        """h(x)."""
        total = 0.0
        for where, part in self.parts:
            total += float(part.value(x[None, where], self.index)[0])
        return total

    def prox(self, x, step: float):
        """argmin_u ½‖u − x‖² + step·h(u)."""
        out = np.array(x, dtype=np.float64)
        for where, part in self.parts:
            out[where] = part.prox(out[None, where], np.array([step]), self.index)[0]
        return out

    def penalised(self) -> np.ndarray:
        """(p,) bool: the coordinates with an L1 strength > 0 (OWL-QN's orthant projection)."""
        out = np.zeros(self.n_params, dtype=bool)
        for where, part in self.parts:
            out[where] = float(part.strength[self.index[0]]) > 0
        return out

    def subgradient(self, x, g):
        """The element of g + ∂h(x) nearest 0: 0 at the optimum; max|·| is the distance of −g
        to ∂h(x), the stopping rule of non-smooth problems."""
        out = np.array(g, dtype=np.float64)
        for where, part in self.parts:
            out[where] = part.minimal_subgradient(x[None, where], out[None, where],
                                                  self.index)[0]
        return out
