"""The Moré–Thuente line search (MINPACK-2 ``dcsrch``/``dcstep``), as L-BFGS-B runs it.

Finds a step α along a descent direction d with the strong Wolfe conditions, for
φ(α) = f(x + α·d)::

    φ(α) ≤ φ(0) + ftol·α·φ'(0)   (sufficient decrease),   |φ'(α)| ≤ gtol·|φ'(0)|   (curvature).

``dcsrch``/``dcstep`` are a line-by-line port of scipy's ``scipy/optimize/_dcsrch.py`` (scipy
1.17, BSD-3-Clause; itself ported from MINPACK-2 by Moré, Thuente, Averick and Carter), which is
the search L-BFGS-B runs (its C copy in ``scipy/optimize/__lbfgsb.c``): the same branches, the
same constants (xtrapl 1.1, xtrapu 4, bisection when the bracket shrinks by less than 0.66),
the same WARNING exits. Compiled (``error_model="numpy"``): IEEE arithmetic with no Python
ZeroDivisionError or RuntimeWarning in the degenerate cases scipy runs under ``np.errstate``.

:func:`strong_wolfe` is the driving loop of L-BFGS-B's ``lnsrlb`` as a generator (yields trial
steps, receives φ and φ'), with its parameters (ftol 1e-3, gtol 0.9, xtol 0.1, stpmin 0,
stpmax 1e10, at most ``maxls`` = 50 evaluations) and L-BFGS-B's rule that a WARNING exit (the
best step found, e.g. when rounding errors prevent progress) is accepted like a converged one.
One addition: a trial with a non-finite φ or φ' is never passed to ``dcsrch`` (its cubic steps
turn NaN there); the step is halved towards the best step so far and capped there instead.
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import jit

__all__ = ["CONVERGENCE", "ERROR", "FG", "WARNING", "dcsrch", "dcstep", "new_state",
           "strong_wolfe"]

# task codes (scipy's byte strings); WARNING and ERROR carry a detail code in `state[DETAIL]`
FG, CONVERGENCE, WARNING, ERROR = 0, 1, 2, 3
#: detail messages of WARNING/ERROR exits, by code
DETAILS = {
    0: "",
    1: "ROUNDING ERRORS PREVENT PROGRESS",
    2: "XTOL TEST SATISFIED",
    3: "STP = STPMAX",
    4: "STP = STPMIN",
    11: "STP .LT. STPMIN",
    12: "STP .GT. STPMAX",
    13: "INITIAL G .GE. ZERO",
    14: "FTOL .LT. ZERO",
    15: "GTOL .LT. ZERO",
    16: "XTOL .LT. ZERO",
    17: "STPMIN .LT. ZERO",
    18: "STPMAX .LT. STPMIN",
}

# slots of the state vector (scipy's DCSRCH attributes)
(BRACKT, STAGE, GINIT, GTEST, GX, GY, FINIT, FX, FY, STX, STY, STMIN, STMAX, WIDTH, WIDTH1,
 FTOL, GTOL, XTOL, STPMIN, STPMAX, DETAIL) = range(21)
STATE_SIZE = 21


def new_state(ftol=1e-3, gtol=0.9, xtol=0.1, stpmin=0.0, stpmax=1e10) -> np.ndarray:
    """A fresh dcsrch state with its tolerances and step bounds."""
    state = np.zeros(STATE_SIZE)
    state[FTOL], state[GTOL], state[XTOL] = ftol, gtol, xtol
    state[STPMIN], state[STPMAX] = stpmin, stpmax
    return state


@jit()
def dcstep(stx, fx, dx, sty, fy, dy, stp, fp, dp, brackt, stpmin, stpmax):
    """A safeguarded step and the updated bracket (scipy ``_dcsrch.dcstep``)."""
    sgnd = np.sign(dp) * np.sign(dx)
    if fp > fx:  # higher function value: the minimum is bracketed
        theta = 3.0 * (fx - fp) / (stp - stx) + dx + dp
        s = max(abs(theta), abs(dx), abs(dp))
        gamma = s * np.sqrt((theta / s) * (theta / s) - (dx / s) * (dp / s))
        if stp < stx:
            gamma = -gamma
        p = (gamma - dx) + theta
        q = ((gamma - dx) + gamma) + dp
        r = p / q
        stpc = stx + r * (stp - stx)
        stpq = stx + ((dx / ((fx - fp) / (stp - stx) + dx)) / 2.0) * (stp - stx)
        if abs(stpc - stx) <= abs(stpq - stx):
            stpf = stpc
        else:
            stpf = stpc + (stpq - stpc) / 2.0
        brackt = True
    elif sgnd < 0.0:  # lower value, derivatives of opposite sign: bracketed
        theta = 3.0 * (fx - fp) / (stp - stx) + dx + dp
        s = max(abs(theta), abs(dx), abs(dp))
        gamma = s * np.sqrt((theta / s) * (theta / s) - (dx / s) * (dp / s))
        if stp > stx:
            gamma = -gamma
        p = (gamma - dp) + theta
        q = ((gamma - dp) + gamma) + dx
        r = p / q
        stpc = stp + r * (stx - stp)
        stpq = stp + (dp / (dp - dx)) * (stx - stp)
        if abs(stpc - stp) > abs(stpq - stp):
            stpf = stpc
        else:
            stpf = stpq
        brackt = True
    elif abs(dp) < abs(dx):  # lower value, same sign, |derivative| decreases
        theta = 3.0 * (fx - fp) / (stp - stx) + dx + dp
        s = max(abs(theta), abs(dx), abs(dp))
        gamma = s * np.sqrt(max(0.0, (theta / s) * (theta / s) - (dx / s) * (dp / s)))
        if stp > stx:
            gamma = -gamma
        p = (gamma - dp) + theta
        q = (gamma + (dx - dp)) + gamma
        r = p / q
        if r < 0.0 and gamma != 0.0:
            stpc = stp + r * (stx - stp)
        elif stp > stx:
            stpc = stpmax
        else:
            stpc = stpmin
        stpq = stp + (dp / (dp - dx)) * (stx - stp)
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
            theta = 3.0 * (fp - fy) / (sty - stp) + dy + dp
            s = max(abs(theta), abs(dy), abs(dp))
            gamma = s * np.sqrt((theta / s) * (theta / s) - (dy / s) * (dp / s))
            if stp > sty:
                gamma = -gamma
            p = (gamma - dp) + theta
            q = ((gamma - dp) + gamma) + dy
            r = p / q
            stpc = stp + r * (sty - stp)
            stpf = stpc
        elif stp > stx:
            stpf = stpmax
        else:
            stpf = stpmin
    # update the interval that contains a minimizer
    if fp > fx:
        sty = stp
        fy = fp
        dy = dp
    else:
        if sgnd < 0.0:
            sty = stx
            fy = fx
            dy = dx
        stx = stp
        fx = fp
        dx = dp
    return stx, fx, dx, sty, fy, dy, stpf, brackt


@jit()
def dcsrch(state, stp, f, g, start):
    """One call of ``dcsrch`` (scipy ``DCSRCH._iterate``): (next step, task code).

    ``start`` is scipy's task "START" (f, g at step 0 and the first trial step); afterwards f, g
    are φ, φ' at the step the previous call asked for. WARNING/ERROR details go to state[DETAIL].
    """
    xtrapl = 1.1
    xtrapu = 4.0
    state[DETAIL] = 0.0
    if start:
        error = 0
        if stp < state[STPMIN]:
            error = 11
        if stp > state[STPMAX]:
            error = 12
        if g >= 0.0:
            error = 13
        if state[FTOL] < 0.0:
            error = 14
        if state[GTOL] < 0.0:
            error = 15
        if state[XTOL] < 0.0:
            error = 16
        if state[STPMIN] < 0.0:
            error = 17
        if state[STPMAX] < state[STPMIN]:
            error = 18
        if error:
            state[DETAIL] = error
            return stp, ERROR
        state[BRACKT] = 0.0
        state[STAGE] = 1.0
        state[FINIT] = f
        state[GINIT] = g
        state[GTEST] = state[FTOL] * g
        state[WIDTH] = state[STPMAX] - state[STPMIN]
        state[WIDTH1] = state[WIDTH] / 0.5
        state[STX] = 0.0
        state[FX] = f
        state[GX] = g
        state[STY] = 0.0
        state[FY] = f
        state[GY] = g
        state[STMIN] = 0.0
        state[STMAX] = stp + xtrapu * stp
        return stp, FG

    brackt = state[BRACKT] != 0.0
    gtest = state[GTEST]
    ftest = state[FINIT] + stp * gtest
    if state[STAGE] == 1.0 and f <= ftest and g >= 0.0:
        state[STAGE] = 2.0
    task = FG
    if brackt and (stp <= state[STMIN] or stp >= state[STMAX]):
        task = WARNING
        state[DETAIL] = 1
    if brackt and state[STMAX] - state[STMIN] <= state[XTOL] * state[STMAX]:
        task = WARNING
        state[DETAIL] = 2
    if stp == state[STPMAX] and f <= ftest and g <= gtest:
        task = WARNING
        state[DETAIL] = 3
    if stp == state[STPMIN] and (f > ftest or g >= gtest):
        task = WARNING
        state[DETAIL] = 4
    if f <= ftest and abs(g) <= state[GTOL] * -state[GINIT]:
        task = CONVERGENCE
        state[DETAIL] = 0
    if task != FG:
        return stp, task

    stx, sty = state[STX], state[STY]
    if state[STAGE] == 1.0 and f <= state[FX] and f > ftest:
        # the modified function ψ(α) = φ(α) − φ(0) − ftol·α·φ'(0) predicts the step
        fm = f - stp * gtest
        fxm = state[FX] - stx * gtest
        fym = state[FY] - sty * gtest
        gm = g - gtest
        gxm = state[GX] - gtest
        gym = state[GY] - gtest
        stx, fxm, gxm, sty, fym, gym, stp, brackt = dcstep(
            stx, fxm, gxm, sty, fym, gym, stp, fm, gm, brackt, state[STMIN], state[STMAX])
        state[FX] = fxm + stx * gtest
        state[FY] = fym + sty * gtest
        state[GX] = gxm + gtest
        state[GY] = gym + gtest
    else:
        stx, fx, gx, sty, fy, gy, stp, brackt = dcstep(
            stx, state[FX], state[GX], sty, state[FY], state[GY], stp, f, g, brackt,
            state[STMIN], state[STMAX])
        state[FX], state[GX], state[FY], state[GY] = fx, gx, fy, gy
    state[STX], state[STY] = stx, sty
    state[BRACKT] = 1.0 if brackt else 0.0

    if brackt:  # bisect when the bracket did not shrink enough
        if abs(sty - stx) >= 0.66 * state[WIDTH1]:
            stp = stx + 0.5 * (sty - stx)
        state[WIDTH1] = state[WIDTH]
        state[WIDTH] = abs(sty - stx)
    if brackt:
        state[STMIN] = min(stx, sty)
        state[STMAX] = max(stx, sty)
    else:
        state[STMIN] = stp + xtrapl * (stp - stx)
        state[STMAX] = stp + xtrapu * (stp - stx)
    if stp != stp:  # NaN (degenerate cubic; scipy's caller gives up): the best step found
        stp = stx
    stp = min(max(stp, state[STPMIN]), state[STPMAX])  # np.clip
    if (brackt and (stp <= state[STMIN] or stp >= state[STMAX])) or (
            brackt and state[STMAX] - state[STMIN] <= state[XTOL] * state[STMAX]):
        stp = stx  # no further progress possible: the best step found
    return stp, FG


def strong_wolfe(f0, g0, stp, *, ftol=1e-3, gtol=0.9, xtol=0.1, stpmax=1e10, maxls=50):
    """L-BFGS-B's line search as a generator: yields trial steps α, is sent (φ(α), φ'(α)).

    Returns (α, φ(α), φ'(α), task, detail) with task CONVERGENCE or WARNING (the step is
    accepted), or ERROR (bad input, or ``maxls`` evaluations without an acceptable step: nothing
    is accepted, α is None).
    """
    state = new_state(ftol, gtol, xtol, 0.0, stpmax)
    stp, task = dcsrch(state, float(stp), float(f0), float(g0), True)
    if task == ERROR:
        return None, f0, g0, ERROR, DETAILS[int(state[DETAIL])]
    for _ in range(maxls):
        f, g = yield stp
        f, g = float(f), float(g)
        if not (math.isfinite(f) and math.isfinite(g)):
            # halve towards the best step so far, and never come back beyond this one
            state[STPMAX] = min(state[STPMAX], stp)
            stp = state[STX] + 0.5 * (stp - state[STX])
            continue
        stp_next, task = dcsrch(state, stp, f, g, False)
        if task != FG:
            return stp, f, g, task, DETAILS[int(state[DETAIL])]
        stp = stp_next
    return None, f0, g0, ERROR, f"no acceptable step in {maxls} evaluations"
