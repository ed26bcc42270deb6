"""Analysis tools on small tabular MDPs: value iteration, STARC distance, policy invariance.

A tabular MDP here is a transition tensor ``P[s, a, s']`` (rows sum to 1), a reward
``R[s, a, s']`` (or ``R[s, a]``, broadcast over ``s'``) and optionally a ``done[s, a, s']`` mask
of terminating transitions. Gymnasium's toy-text envs (FrozenLake, Taxi, CliffWalking) convert
with :func:`tabular_from_env`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rewardgym.errors import ConfigError

__all__ = [
    "InvarianceReport",
    "TabularMDP",
    "check_policy_invariance",
    "random_mdp",
    "shape_reward",
    "starc_canonical",
    "starc_distance",
    "tabular_from_env",
    "value_iteration",
]


@dataclass(frozen=True)
class TabularMDP:
    """``P[s, a, s']``, ``R[s, a, s']`` and the terminating-transition mask ``done[s, a, s']``."""

    P: np.ndarray
    R: np.ndarray
    done: np.ndarray

    @classmethod
    def build(cls, P: Any, R: Any, done: Any = None) -> TabularMDP:
        P = np.asarray(P, dtype=float)
        if P.ndim != 3 or P.shape[0] != P.shape[2]:
            raise ConfigError(f"P must have shape (S, A, S), got {P.shape}")
        if not np.allclose(P.sum(axis=2), 1.0, atol=1e-8) or (P < 0).any():
            raise ConfigError("every P[s, a, :] must be a probability distribution")
        R = np.asarray(R, dtype=float)
        if R.shape == P.shape[:2]:
            R = np.broadcast_to(R[:, :, None], P.shape).copy()
        if R.shape != P.shape:
            raise ConfigError(f"R must have shape {P.shape} or {P.shape[:2]}, got {R.shape}")
        done = np.zeros(P.shape, dtype=bool) if done is None else np.asarray(done, dtype=bool)
        if done.shape != P.shape:
            raise ConfigError(f"done must have shape {P.shape}, got {done.shape}")
        return cls(P, R, done)

    @property
    def n_states(self) -> int:
        return self.P.shape[0]


def random_mdp(
    n_states: int = 6, n_actions: int = 3, *, seed: int = 0, terminal_prob: float = 0.2
) -> TabularMDP:
    """A random dense MDP with random rewards and a random set of terminating transitions."""
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.ones(n_states), size=(n_states, n_actions))
    R = rng.normal(size=(n_states, n_actions, n_states))
    done = rng.random((n_states, n_actions, n_states)) < terminal_prob
    return TabularMDP.build(P, R, done)


def tabular_from_env(env: Any) -> TabularMDP:
    """Convert a Gymnasium toy-text env (``env.unwrapped.P[s][a] = [(p, s', r, done)]``)."""
    table = getattr(env.unwrapped, "P", None)
    if not isinstance(table, dict):
        raise ConfigError(
            f"{type(env.unwrapped).__name__} has no transition table .P; pass a TabularMDP"
        )
    n_s, n_a = env.observation_space.n, env.action_space.n
    P, R, done = np.zeros((n_s, n_a, n_s)), np.zeros((n_s, n_a, n_s)), np.zeros((n_s, n_a, n_s))
    for s in range(n_s):
        for a in range(n_a):
            for prob, nxt, reward, terminal in table[s][a]:
                # Several entries may share s'; keep the expected reward of that transition.
                total = P[s, a, nxt] + prob
                if total > 0:
                    R[s, a, nxt] = (R[s, a, nxt] * P[s, a, nxt] + reward * prob) / total
                P[s, a, nxt] = total
                done[s, a, nxt] = max(done[s, a, nxt], float(terminal))
    return TabularMDP.build(P, R, done > 0)


def value_iteration(
    mdp: TabularMDP, gamma: float, *, tol: float = 1e-10, max_iter: int = 100_000
) -> tuple[np.ndarray, np.ndarray]:
    """Optimal ``(V, Q)``: ``Q(s,a) = sum_s' P (R + gamma*(1-done)*V(s'))``."""
    if not 0.0 <= gamma < 1.0:
        raise ConfigError(f"value iteration needs gamma in [0, 1), got {gamma}")
    V = np.zeros(mdp.n_states)
    cont = gamma * (~mdp.done)
    for _ in range(max_iter):
        Q = (mdp.P * (mdp.R + cont * V[None, None, :])).sum(axis=2)
        V_new = Q.max(axis=1)
        if np.max(np.abs(V_new - V)) < tol:
            return V_new, Q
        V = V_new
    return V, Q


def _policy_value(mdp: TabularMDP, R: np.ndarray, gamma: float, pi: np.ndarray) -> np.ndarray:
    """Exact ``V^pi`` of ``R`` (linear solve); ``pi[s, a]`` a stochastic policy."""
    r_pi = (pi[:, :, None] * mdp.P * R).sum(axis=(1, 2))
    P_pi = (pi[:, :, None] * mdp.P * (~mdp.done)).sum(axis=1)
    return np.linalg.solve(np.eye(mdp.n_states) - gamma * P_pi, r_pi)


def shape_reward(mdp: TabularMDP, potential: Sequence[float], gamma: float) -> np.ndarray:
    """``R + gamma*Phi(s')*(1-done) - Phi(s)``: potential-based shaping of ``mdp.R``."""
    phi = np.asarray(potential, dtype=float)
    if phi.shape != (mdp.n_states,):
        raise ConfigError(f"potential must have one value per state ({mdp.n_states})")
    return mdp.R + gamma * phi[None, None, :] * (~mdp.done) - phi[:, None, None]


def starc_distance(R1: Any, R2: Any, P: Any, gamma: float, *, done: Any = None) -> float:
    """STARC distance between two rewards on one tabular MDP, in [0, 1].

    Canonicalise each reward by value-adjusted levelling with the uniform policy ``pi``:
    ``c(R)(s,a) = E_{S'~P(s,a)}[R(s,a,S') - V(s) + gamma*(1-done)*V(S')]`` with ``V = V^pi_R``
    (the expectation over the next state is part of the canonicalisation: it removes potential
    shaping and any zero-mean noise over next states, so ``c(R)`` is a function of ``(s, a)``);
    normalise to unit L2 norm over ``(s, a)`` (a zero reward stays zero); return half the L2
    distance. So ``d(R, c*R + shaping) = 0`` for ``c > 0``, ``d(R, R + noise) = 0`` when the
    noise has mean 0 under ``P(s, a, .)``, and ``d(R, -R) = 1``.

    Args:
        R1: the first reward, shape ``(S, A, S)`` or ``(S, A)``.
        R2: the second reward, same shape.
        P: the transitions ``(S, A, S)``.
        gamma: the discount, in [0, 1).
        done: optional terminating-transition mask ``(S, A, S)``.
    """
    mdp1 = TabularMDP.build(P, R1, done)
    mdp2 = TabularMDP.build(P, R2, done)
    if not 0.0 <= gamma < 1.0:
        raise ConfigError(f"starc_distance needs gamma in [0, 1), got {gamma}")
    return float(0.5 * np.linalg.norm(starc_canonical(mdp1, gamma) - starc_canonical(mdp2, gamma)))


def starc_canonical(mdp: TabularMDP, gamma: float) -> np.ndarray:
    """The normalised value-adjusted-levelling canonicalisation ``c(R)(s, a)`` of ``mdp.R``
    (uniform policy), as :func:`starc_distance` uses it; shape ``(S, A)``."""
    n_a = mdp.P.shape[1]
    uniform = np.full((mdp.n_states, n_a), 1.0 / n_a)
    V = _policy_value(mdp, mdp.R, gamma, uniform)
    after = mdp.R - V[:, None, None] + gamma * (~mdp.done) * V[None, None, :]
    c = (mdp.P * after).sum(axis=2)  # the expectation over S' ~ P(s, a, .)
    norm = np.linalg.norm(c)
    return c / norm if norm > 1e-12 else np.zeros_like(c)


@dataclass(frozen=True)
class InvarianceReport:
    """The outcome of :func:`check_policy_invariance`.

    Attributes:
        same_policy: every state has the same set of optimal actions with and without shaping.
        max_q_error: ``max |Q_shaped - (Q - Phi)|``.
        tol: the tolerance used.
    """

    same_policy: bool
    max_q_error: float
    tol: float

    @property
    def passed(self) -> bool:
        return self.same_policy and self.max_q_error <= self.tol


def check_policy_invariance(
    mdp: TabularMDP | Callable[[], Any],
    potential: Sequence[float] | Callable[[int], float],
    gamma: float = 0.9,
    *,
    tol: float = 1e-6,
) -> InvarianceReport:
    """Check on a tabular MDP that potential shaping keeps the optimal policy, Q shifted by -Phi.

    Runs value iteration on ``R`` and on ``R + gamma*Phi(s')*(1-done) - Phi(s)``.

    Args:
        mdp: a :class:`TabularMDP`, or a factory returning a Gymnasium toy-text env.
        potential: ``Phi`` per state (a sequence, or a function of the state index).
        gamma: the discount shared by the shaping and the learner.
        tol: tolerance on Q and on ties between optimal actions.
    """
    if not isinstance(mdp, TabularMDP):
        env = mdp()
        try:
            mdp = tabular_from_env(env)
        finally:
            env.close()
    phi = (
        np.asarray([potential(s) for s in range(mdp.n_states)], dtype=float)
        if callable(potential)
        else np.asarray(potential, dtype=float)
    )
    _, Q = value_iteration(mdp, gamma)
    shaped = TabularMDP(mdp.P, shape_reward(mdp, phi, gamma), mdp.done)
    _, Qs = value_iteration(shaped, gamma)
    best = Q.max(axis=1, keepdims=True) - tol <= Q
    best_shaped = Qs >= Qs.max(axis=1, keepdims=True) - tol
    error = float(np.max(np.abs(Qs - (Q - phi[:, None]))))
    return InvarianceReport(bool((best == best_shaped).all()), error, tol)
