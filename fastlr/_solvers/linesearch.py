"""The Moré–Thuente line search (MINPACK-2 ``dcsrch``/``dcstep``), as L-BFGS-B runs it.

Finds a step α along a descent direction d with the strong Wolfe conditions, for
φ(α) = f(x + α·d)::

    φ(α) ≤ φ(0) + ftol·α·φ'(0)   (sufficient decrease),   |φ'(α)| ≤ gtol·|φ'(0)|   (curvature).

``dcsrch``/``dcstep`` are a line-by-line port of scipy's ``scipy/optimize/_dcsrch.py`` (scipy
1.17, BSD-3-Clause; itself ported from MINPACK-2 by Moré, Thuente, Averick and Carter), which is
the search L-BFGS-B runs (its C copy in ``scipy/optimize/__lbfgsb.c``): the same branches, the
same constants (xtrapl 1.1, xtrapu 4, bisection when the bracket shrinks by less than 0.66),
the same WARNING exits. Plain Python floats (a few µs per call, next to an objective evaluation;
compiling it cost 2.6 s of a first fit's compile): the degenerate cases where scipy's NumPy
arithmetic gives NaN under ``np.errstate`` (0/0, √ of a rounding-negative discriminant) give NaN
here too, and a NaN step falls back to the best step found.

:func:`strong_wolfe` is the driving loop of L-BFGS-B's ``lnsrlb`` as a generator (yields trial
steps, receives φ and φ'), with its parameters (ftol 1e-3, gtol 0.9, xtol 0.1, stpmin 0,
stpmax 1e10, at most ``maxls`` = 50 evaluations) and L-BFGS-B's rule that a WARNING exit (the
best step found, e.g. when rounding errors prevent progress) is accepted like a converged one.
One addition: a trial with a non-finite φ or φ' is never passed to ``dcsrch`` (its cubic steps
turn NaN there); the step is halved towards the best step so far and capped there instead.
"""

from __future__ import annotations

import math

__all__ = ["CONVERGENCE", "ERROR", "FG", "WARNING", "MoreThuente", "dcstep", "strong_wolfe"]

# task codes (scipy's byte strings); WARNING and ERROR carry a detail
FG, CONVERGENCE, WARNING, ERROR = 0, 1, 2, 3


def _div(a, b):
    """a / b with IEEE semantics (±inf or NaN for b = 0), as scipy's NumPy scalars give."""
    try:
        return a / b
    except ZeroDivisionError:
        if a != a or a == 0.0:
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)


def _sqrt(v):
    return math.sqrt(v) if v >= 0.0 else math.nan  # NaN for NaN and for negative v


def _sign(v):
    return 1.0 if v > 0.0 else (-1.0 if v < 0.0 else (0.0 if v == 0.0 else math.nan))


def dcstep(stx, fx, dx, sty, fy, dy, stp, fp, dp, brackt, stpmin, stpmax):
    """A safeguarded step and the updated bracket (scipy ``_dcsrch.dcstep``)."""
    sgnd = _sign(dp) * _sign(dx)
    if fp > fx:  # higher function value: the minimum is bracketed
        theta = _div(3.0 * (fx - fp), stp - stx) + dx + dp
        s = max(abs(theta), abs(dx), abs(dp))
        gamma = s * _sqrt(_div(theta, s) ** 2 - _div(dx, s) * _div(dp, s))
        if stp < stx:
            gamma = -gamma
        p = (gamma - dx) + theta
        q = ((gamma - dx) + gamma) + dp
        r = _div(p, q)
        stpc = stx + r * (stp - stx)
        stpq = stx + (_div(dx, _div(fx - fp, stp - stx) + dx) / 2.0) * (stp - stx)
        if abs(stpc - stx) <= abs(stpq - stx):
            stpf = stpc
        else:
            stpf = stpc + (stpq - stpc) / 2.0
        brackt = True
    elif sgnd < 0.0:  # lower value, derivatives of opposite sign: bracketed
        theta = _div(3.0 * (fx - fp), stp - stx) + dx + dp
        s = max(abs(theta), abs(dx), abs(dp))
        gamma = s * _sqrt(_div(theta, s) ** 2 - _div(dx, s) * _div(dp, s))
        if stp > stx:
            gamma = -gamma
        p = (gamma - dp) + theta
        q = ((gamma - dp) + gamma) + dx
        r = _div(p, q)
        stpc = stp + r * (stx - stp)
        stpq = stp + _div(dp, dp - dx) * (stx - stp)
        if abs(stpc - stp) > abs(stpq - stp):
            stpf = stpc
        else:
            stpf = stpq
        brackt = True
    elif abs(dp) < abs(dx):  # lower value, same sign, |derivative| decreases
        theta = _div(3.0 * (fx - fp), stp - stx) + dx + dp
        s = max(abs(theta), abs(dx), abs(dp))
        gamma = s * _sqrt(max(0.0, _div(theta, s) ** 2 - _div(dx, s) * _div(dp, s)))
        if stp > stx:
            gamma = -gamma
        p = (gamma - dp) + theta
        q = (gamma + (dx - dp)) + gamma
        r = _div(p, q)
        if r < 0.0 and gamma != 0.0:
            stpc = stp + r * (stx - stp)
        elif stp > stx:
            stpc = stpmax
        else:
            stpc = stpmin
        stpq = stp + _div(dp, dp - dx) * (stx - stp)
        if brackt:
            if abs(stpc - stp) < abs(stpq - stp):
                stpf = stpc
            else:
                stpf = stpq
            if stp > stx:
                stpf = min(stp + 0.66 * (sty - stp), stpf)
            else:
                stpf = max(stp + 0.66 * (sty - stp), stpf)
        else:
            if abs(stpc - stp) > abs(stpq - stp):
                stpf = stpc
            else:
                stpf = stpq
            stpf = min(max(stpf, stpmin), stpmax)  # np.clip
    else:  # lower value, same sign, |derivative| does not decrease
        if brackt:
            theta = _div(3.0 * (fp - fy), sty - stp) + dy + dp
            s = max(abs(theta), abs(dy), abs(dp))
            gamma = s * _sqrt(_div(theta, s) ** 2 - _div(dy, s) * _div(dp, s))
            if stp > sty:
                gamma = -gamma
            p = (gamma - dp) + theta
            q = ((gamma - dp) + gamma) + dy
            r = _div(p, q)
            stpc = stp + r * (sty - stp)
            stpf = stpc
        elif stp > stx:
            stpf = stpmax
        else:
            stpf = stpmin
    # update the interval that contains a minimizer
    if fp > fx:
        sty, fy, dy = stp, fp, dp
    else:
        if sgnd < 0.0:
            sty, fy, dy = stx, fx, dx
        stx, fx, dx = stp, fp, dp
    return stx, fx, dx, sty, fy, dy, stpf, brackt


class MoreThuente:
    """The state of one search (scipy's ``DCSRCH``): ``start`` then ``iterate`` per trial."""

    def __init__(self, ftol=1e-3, gtol=0.9, xtol=0.1, stpmin=0.0, stpmax=1e10):
        self.ftol, self.gtol, self.xtol = ftol, gtol, xtol
        self.stpmin, self.stpmax = stpmin, stpmax
        self.detail = ""

    def start(self, stp, f, g):
        """scipy's task "START": f, g = φ(0), φ'(0), stp the first trial. Returns the task."""
        errors = [(stp < self.stpmin, "STP .LT. STPMIN"), (stp > self.stpmax, "STP .GT. STPMAX"),
                  (g >= 0.0, "INITIAL G .GE. ZERO"), (self.ftol < 0.0, "FTOL .LT. ZERO"),
                  (self.gtol < 0.0, "GTOL .LT. ZERO"), (self.xtol < 0.0, "XTOL .LT. ZERO"),
                  (self.stpmin < 0.0, "STPMIN .LT. ZERO"),
                  (self.stpmax < self.stpmin, "STPMAX .LT. STPMIN")]
        bad = [message for failed, message in errors if failed]
        if bad:
            self.detail = bad[-1]
            return ERROR
        self.brackt = False
        self.stage = 1
        self.finit = self.fx = self.fy = f
        self.ginit = self.gx = self.gy = g
        self.gtest = self.ftol * g
        self.width = self.stpmax - self.stpmin
        self.width1 = self.width / 0.5
        self.stx = self.sty = 0.0
        self.stmin = 0.0
        self.stmax = stp + 4.0 * stp
        return FG

    def iterate(self, stp, f, g):
        """One call of ``dcsrch`` (scipy ``DCSRCH._iterate``) with φ, φ' at ``stp``: returns
        (next step, task); WARNING and CONVERGENCE return ``stp`` itself, the accepted step."""
        xtrapl, xtrapu = 1.1, 4.0
        gtest = self.gtest
        ftest = self.finit + stp * gtest
        if self.stage == 1 and f <= ftest and g >= 0.0:
            self.stage = 2
        task, self.detail = FG, ""
        if self.brackt and (stp <= self.stmin or stp >= self.stmax):
            task, self.detail = WARNING, "ROUNDING ERRORS PREVENT PROGRESS"
        if self.brackt and self.stmax - self.stmin <= self.xtol * self.stmax:
            task, self.detail = WARNING, "XTOL TEST SATISFIED"
        if stp == self.stpmax and f <= ftest and g <= gtest:
            task, self.detail = WARNING, "STP = STPMAX"
        if stp == self.stpmin and (f > ftest or g >= gtest):
            task, self.detail = WARNING, "STP = STPMIN"
        if f <= ftest and abs(g) <= self.gtol * -self.ginit:
            task, self.detail = CONVERGENCE, ""
        if task != FG:
            return stp, task

        if self.stage == 1 and f <= self.fx and f > ftest:
            # the modified function ψ(α) = φ(α) − φ(0) − ftol·α·φ'(0) predicts the step
            stx, fxm, gxm, sty, fym, gym, stp, self.brackt = dcstep(
                self.stx, self.fx - self.stx * gtest, self.gx - gtest, self.sty,
                self.fy - self.sty * gtest, self.gy - gtest, stp, f - stp * gtest, g - gtest,
                self.brackt, self.stmin, self.stmax)
            self.fx, self.fy = fxm + stx * gtest, fym + sty * gtest
            self.gx, self.gy = gxm + gtest, gym + gtest
        else:
            stx, self.fx, self.gx, sty, self.fy, self.gy, stp, self.brackt = dcstep(
                self.stx, self.fx, self.gx, self.sty, self.fy, self.gy, stp, f, g, self.brackt,
                self.stmin, self.stmax)
        self.stx, self.sty = stx, sty

        if self.brackt:  # bisect when the bracket did not shrink enough
            if abs(sty - stx) >= 0.66 * self.width1:
                stp = stx + 0.5 * (sty - stx)
            self.width1 = self.width
            self.width = abs(sty - stx)
        if self.brackt:
            self.stmin, self.stmax = min(stx, sty), max(stx, sty)
        else:
            self.stmin = stp + xtrapl * (stp - stx)
            self.stmax = stp + xtrapu * (stp - stx)
        if stp != stp:  # NaN (degenerate cubic; scipy's caller gives up): the best step found
            stp = stx
        stp = min(max(stp, self.stpmin), self.stpmax)  # np.clip
        if self.brackt and (stp <= self.stmin or stp >= self.stmax
                            or self.stmax - self.stmin <= self.xtol * self.stmax):
            stp = stx  # no further progress possible: the best step found
        return stp, FG


def strong_wolfe(f0, g0, stp, *, ftol=1e-3, gtol=0.9, xtol=0.1, stpmax=1e10, maxls=50):
    """L-BFGS-B's line search as a generator: yields trial steps α, is sent (φ(α), φ'(α)).

    Returns (α, φ(α), φ'(α), task, detail) with task CONVERGENCE or WARNING (the step is
    accepted), or ERROR (bad input, or ``maxls`` evaluations without an acceptable step: nothing
    is accepted, α is None).
    """
    search = MoreThuente(ftol, gtol, xtol, 0.0, stpmax)
    stp = float(stp)
    if search.start(stp, float(f0), float(g0)) == ERROR:
        return None, f0, g0, ERROR, search.detail
    for _ in range(maxls):
        f, g = yield stp
        f, g = float(f), float(g)
        if not (math.isfinite(f) and math.isfinite(g)):
            # halve towards the best step so far, and never come back beyond this one
            search.stpmax = min(search.stpmax, stp)
            stp = search.stx + 0.5 * (stp - search.stx)
            continue
        stp_next, task = search.iterate(stp, f, g)
        if task != FG:
            return stp, f, g, task, search.detail
        stp = stp_next
    return None, f0, g0, ERROR, f"no acceptable step in {maxls} evaluations"
