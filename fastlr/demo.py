"""``python -m fastlr demo``: "is this digit a zero?" with the course API, on real images.

scikit-learn ships 1,797 handwritten digits as 8x8 grey images (values 0-16). As in the slides'
cat classifier (slides 005 and 018), each image is flattened into a column of n_x = 64 pixel
values scaled to [0, 1], so X has the slides' shape (n_x, m) and Y is (1, m) with Y = 1 for a
zero. ``fastlr.course.model`` then runs batch gradient descent (w := w − α·dw, b := b − α·db) on
the fused kernel, printing "Cost after iteration i" every 100 iterations and the train and test
accuracy, and the learning curve (cost every 100 iterations) is saved when matplotlib is present.
"""

from __future__ import annotations

import sys

import numpy as np

__all__ = ["load_zero_vs_rest", "main"]


def load_zero_vs_rest(test_fraction: float = 0.25, seed: int = 0):
    """(X_train, Y_train, X_test, Y_test) in the course layout: X (64, m) in [0, 1], Y (1, m)."""
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:
        raise ImportError("the demo uses scikit-learn's bundled digits: "
                          "pip install scikit-learn") from exc
    digits = load_digits()
    X = digits.data / 16.0  # (m, 64), pixel values 0-16 → [0, 1]
    Y = (digits.target == 0).astype(np.float64)
    order = np.random.default_rng(seed).permutation(X.shape[0])
    n_test = int(round(test_fraction * X.shape[0]))
    test, train = order[:n_test], order[n_test:]
    # one example per column, like the slides' flattened images
    return X[train].T, Y[None, train], X[test].T, Y[None, test]


def main(iterations: int = 1000, learning_rate: float = 0.5, plot: str | None = "learning_curve.png",
         out=None) -> int:
    """Train, print costs and accuracies, save the learning curve; returns the exit status."""
    from . import course

    out = sys.stdout if out is None else out
    try:
        X_train, Y_train, X_test, Y_test = load_zero_vs_rest()
    except ImportError as exc:
        print(f"fastlr demo: {exc}", file=sys.stderr)
        return 2
    print(f'"Is this digit a zero?" — scikit-learn digits, {X_train.shape[1]} training and '
          f"{X_test.shape[1]} test images of 8x8 = {X_train.shape[0]} pixels "
          f"({int(Y_train.sum())} + {int(Y_test.sum())} zeros)", file=out)
    print(f"fastlr.course.model: {iterations} iterations of gradient descent, "
          f"learning rate {learning_rate}", file=out)
    stdout, sys.stdout = sys.stdout, out  # course.model prints to stdout
    try:
        d = course.model(X_train, Y_train, X_test, Y_test, num_iterations=iterations,
                         learning_rate=learning_rate, print_cost=True)
    finally:
        sys.stdout = stdout
    if plot:
        try:
            import matplotlib
        except ImportError:
            print("matplotlib is not installed: learning curve not saved "
                  "(pip install matplotlib)", file=out)
            return 0
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 4))
        ax.plot(np.arange(len(d["costs"])) * 100, d["costs"], "o-")
        ax.set_xlabel("iteration")
        ax.set_ylabel("cost")
        ax.set_title(f'"is this digit a zero?" — learning rate {learning_rate}')
        fig.tight_layout()
        fig.savefig(plot, dpi=110)
        plt.close(fig)
        print(f"learning curve saved to {plot}", file=out)
    return 0
