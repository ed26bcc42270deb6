"""The agentic env checker: Gymnasium's ``check_env`` plus rewardgym's step contract.

:func:`check_agentic_env` checks one single-agent env; :func:`check_agentic_parallel_env` checks
a PettingZoo ``ParallelEnv`` (through PettingZoo's own conformance tests first). Each raises
:class:`~rewardgym.errors.AgenticEnvCheckError` whose ``rule`` names the broken rule:

=====================  ====================================================================
rule                   what it checks
=====================  ====================================================================
``gymnasium``          ``gymnasium.utils.env_checker.check_env`` passes
``pettingzoo``         PettingZoo's ``parallel_api_test``/``api_test`` pass
``info-keys``          every required info key is present with the right type (reset + step)
``is-success``         ``info["is_success"]`` (SB3's name) equals ``info["success"]``
``task-component``     ``reward_components`` always holds ``"task"``
``weighted-sum``       ``reward == sum(weights * components)`` to 1e-9
``step-types``         reward is a finite float, terminated/truncated are bools
``determinism``        the same seed and actions give an identical trajectory
``malformed-action``   malformed actions are scored (``invalid_action``), never raised
``reset-options``      ``reset(options=...)`` with an unknown key or a non-dict raises
                       ``ConfigError`` naming it
``render``             ``render()`` without a render mode warns and returns None (envs that
                       declare render modes)
``close``              ``close()`` may be called twice
=====================  ====================================================================
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from rewardgym.contract import REQUIRED_INFO_KEYS, invariant_error
from rewardgym.errors import AgenticEnvCheckError, ConfigError

__all__ = ["check_agentic_env", "check_agentic_parallel_env", "default_malformed_actions"]

Policy = Callable[[Any, dict[str, Any]], Any]


def default_malformed_actions(space: gym.Space) -> list[Any]:
    """Malformed agent outputs to try on an env with this action space.

    Text spaces get the usual LLM failure modes (empty, garbage, an unclosed fence, unicode,
    maximal length). Other spaces have no malformed *agent* outputs: a wrong type there is a
    caller bug, which may raise.
    """
    if isinstance(space, gym.spaces.Text):
        longest = getattr(space, "max_length", 64)
        return [
            "",
            "\n\n",
            "}{ not an action ]][[ \x7f",
            "```",
            "```python\ndef broken(:\n```",
            '{"tool": "nonexistent", "args": [}',
            "héllo → ünïcode ✓",
            "a" * longest,
        ]
    return []


def _fail(rule: str, message: str) -> AgenticEnvCheckError:
    return AgenticEnvCheckError(rule, message)


def _check_info(info: Any, where: str) -> None:
    if not isinstance(info, Mapping):
        raise _fail("info-keys", f"{where}: info is {type(info).__name__}, expected a dict")
    for key, types in REQUIRED_INFO_KEYS.items():
        if key not in info:
            raise _fail("info-keys", f"{where}: info lacks required key {key!r}")
        value = info[key]
        # bool is an int; the step counter must be a real int, not a bool.
        if not isinstance(value, types) or (key == "step" and isinstance(value, bool)):
            raise _fail(
                "info-keys",
                f"{where}: info[{key!r}] is {type(value).__name__}, expected "
                + " or ".join(t.__name__ for t in types),
            )
    components = info["reward_components"]
    if "task" not in components:
        raise _fail(
            "task-component", f"{where}: reward_components lacks 'task': {dict(components)}"
        )
    for name, value in {**components, **info["reward_weights"], **info["cost"]}.items():
        if not isinstance(value, (int, float, np.floating, np.integer)) or not math.isfinite(value):
            raise _fail(
                "info-keys",
                f"{where}: component/weight/cost {name!r}={value!r} is not a finite number",
            )


def _check_step(result: tuple, where: str) -> None:
    if len(result) != 5:
        raise _fail("step-types", f"{where}: step returned {len(result)} values, expected 5")
    _, reward, terminated, truncated, info = result
    if not isinstance(reward, (int, float, np.floating, np.integer)) or isinstance(reward, bool):
        raise _fail("step-types", f"{where}: reward is {type(reward).__name__}, expected float")
    if not math.isfinite(float(reward)):
        raise _fail("step-types", f"{where}: reward {reward} is not finite")
    for name, flag in (("terminated", terminated), ("truncated", truncated)):
        if not isinstance(flag, (bool, np.bool_)):
            raise _fail("step-types", f"{where}: {name} is {type(flag).__name__}, expected bool")
    _check_info(info, where)
    problem = invariant_error(reward, info)
    if problem:
        raise _fail("weighted-sum", f"{where}: {problem}")


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.shape == b.shape
            and a.dtype == b.dtype
            and bool(np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))
        )
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    try:
        return bool(a == b)
    except Exception:
        return False


def _check_is_success(info: Mapping[str, Any], where: str) -> None:
    if "is_success" not in info or info["is_success"] != info["success"]:
        raise _fail(
            "is-success",
            f"{where}: info['is_success'] ({info.get('is_success', 'missing')!r}) must repeat "
            f"info['success'] ({info['success']!r}); AgenticEnv._info sets both",
        )


def _check_reset_options(env: gym.Env, seed: int) -> None:
    """Unknown option keys and non-dict options are configuration errors naming them."""
    bogus = "no_such_option_"
    for options, must_name in (({bogus: 1}, bogus), (["not", "a", "dict"], "dict")):
        try:
            env.reset(seed=seed, options=options)  # type: ignore[arg-type]
        except ConfigError as exc:
            if must_name not in str(exc):
                raise _fail(
                    "reset-options",
                    f"reset(options={options!r}) raised ConfigError without naming "
                    f"{must_name!r}: {exc}",
                ) from exc
            continue
        except Exception as exc:
            raise _fail(
                "reset-options",
                f"reset(options={options!r}) raised {type(exc).__name__}: {exc}; expected a "
                "ConfigError (check options with AgenticEnv._reset_options)",
            ) from exc
        raise _fail(
            "reset-options",
            f"reset(options={options!r}) was accepted; unknown options must raise ConfigError "
            "(declare the known ones in RESET_OPTIONS and call AgenticEnv._reset_options)",
        )


def _check_render_without_mode(env: gym.Env, seed: int) -> None:
    """With render modes declared but none chosen, ``render()`` warns and returns None."""
    if not env.metadata.get("render_modes") or env.unwrapped.render_mode is not None:
        return
    env.reset(seed=seed)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = env.unwrapped.render()
        except Exception as exc:
            raise _fail(
                "render", f"render() without a render mode raised {type(exc).__name__}: {exc}"
            ) from exc
    if result is not None:
        raise _fail(
            "render", f"render() without a render mode returned {type(result).__name__}, not None"
        )
    if not any("render mode" in str(w.message) for w in caught):
        raise _fail(
            "render",
            "render() without a render mode must warn (AgenticEnv._render_mode_missing), as "
            "Gymnasium's own envs do",
        )


# Info values that may legitimately differ between two identical rollouts.
_NONDETERMINISTIC_INFO = frozenset({"cost", "wall_s", "timing"})


def _rollout(
    env: gym.Env,
    seed: int,
    n_steps: int,
    choose: Callable[[int, Any, dict[str, Any]], Any],
) -> tuple[list[Any], list[tuple]]:
    obs, info = env.reset(seed=seed)
    if not isinstance(info, Mapping):
        raise _fail("info-keys", f"reset(seed={seed}) returned info of type {type(info).__name__}")
    _check_info(info, f"reset(seed={seed})")
    _check_is_success(info, f"reset(seed={seed})")
    trace: list[tuple] = [
        ("reset", obs, {k: v for k, v in info.items() if k not in _NONDETERMINISTIC_INFO})
    ]
    actions: list[Any] = []
    for t in range(n_steps):
        action = choose(t, obs, info)
        actions.append(action)
        result = env.step(action)
        _check_step(result, f"step {t + 1} after reset(seed={seed})")
        obs, reward, terminated, truncated, info = result
        _check_is_success(info, f"step {t + 1} after reset(seed={seed})")
        trace.append(
            (
                "step",
                obs,
                float(reward),
                bool(terminated),
                bool(truncated),
                {k: v for k, v in info.items() if k not in _NONDETERMINISTIC_INFO},
            )
        )
        if terminated or truncated:
            break
    return actions, trace


def check_agentic_env(
    env: gym.Env,
    *,
    actions: Sequence[Any] | Policy | None = None,
    n_steps: int = 32,
    seed: int = 0,
    malformed_actions: Sequence[Any] | None = None,
    skip_gymnasium: bool = False,
) -> None:
    """Check ``env`` against Gymnasium's checker and the agentic step contract.

    Args:
        env: the env to check (made with ``gym.make`` or constructed directly). It is closed
            at the end.
        actions: a fixed list of actions, or a policy ``(obs, info) -> action``; default
            random samples from the action space (seeded with ``seed``).
        n_steps: the longest rollout to run.
        seed: the seed of the rollouts.
        malformed_actions: agent outputs that must be scored as invalid rather than raise;
            default :func:`default_malformed_actions` of the action space.
        skip_gymnasium: skip ``gymnasium.utils.env_checker.check_env`` (for envs whose
            reset is too expensive to repeat many times).

    Raises:
        AgenticEnvCheckError: naming the first rule the env breaks.
    """
    if not skip_gymnasium:
        from gymnasium.utils.env_checker import check_env

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                check_env(env.unwrapped, skip_render_check=True, skip_close_check=True)
        except AgenticEnvCheckError:
            raise
        except Exception as exc:
            raise _fail(
                "gymnasium", f"gymnasium check_env failed: {type(exc).__name__}: {exc}"
            ) from exc

    if actions is None:
        env.action_space.seed(seed)

        def choose(t: int, obs: Any, info: dict[str, Any]) -> Any:
            return env.action_space.sample()
    elif callable(actions):
        policy = actions

        def choose(t: int, obs: Any, info: dict[str, Any]) -> Any:
            return policy(obs, info)
    else:
        fixed = list(actions)
        n_steps = min(n_steps, len(fixed))

        def choose(t: int, obs: Any, info: dict[str, Any]) -> Any:
            return fixed[t]

    try:
        first_actions, first = _rollout(env, seed, n_steps, choose)
    except AgenticEnvCheckError:
        raise
    except Exception as exc:
        raise _fail(
            "step-types", f"rollout with seed {seed} raised {type(exc).__name__}: {exc}"
        ) from exc

    # Same seed, same actions -> the same trajectory.
    _, second = _rollout(env, seed, len(first_actions), lambda t, o, i: first_actions[t])
    if len(first) != len(second):
        raise _fail(
            "determinism", f"seed {seed}: trajectory lengths differ ({len(first)} vs {len(second)})"
        )
    for index, (a, b) in enumerate(zip(first, second)):
        if not _same(a, b):
            fields = ("kind", "observation", "reward", "terminated", "truncated", "info")
            differing = [fields[i] for i in range(min(len(a), len(b))) if not _same(a[i], b[i])]
            if "info" in differing:
                keys = [k for k in a[-1] if not _same(a[-1].get(k), b[-1].get(k))]
                differing.append(f"info keys {keys}")
            raise _fail(
                "determinism",
                f"seed {seed}: two rollouts with the same seed and actions differ at "
                f"{'reset' if index == 0 else f'step {index}'} in {', '.join(differing)}",
            )

    _check_reset_options(env, seed)
    _check_render_without_mode(env, seed)

    # Malformed agent output is scored, never raised.
    bad = (
        default_malformed_actions(env.action_space)
        if malformed_actions is None
        else malformed_actions
    )
    for action in bad:
        env.reset(seed=seed)
        try:
            result = env.step(action)
        except Exception as exc:
            raise _fail(
                "malformed-action",
                f"step({action!r:.60}) raised {type(exc).__name__}: {exc}; malformed agent output must "
                "be scored through info['invalid_action'], not raised",
            ) from exc
        _check_step(result, f"malformed action {action!r:.60}")

    try:
        env.close()
        env.close()
    except Exception as exc:
        raise _fail("close", f"close() twice raised {type(exc).__name__}: {exc}") from exc


def check_agentic_parallel_env(
    env_fn: Callable[[], Any],
    *,
    num_cycles: int = 32,
    seed: int = 0,
) -> None:
    """Check a PettingZoo ``ParallelEnv`` factory against PettingZoo's tests and our contract.

    Runs ``parallel_api_test``, ``parallel_seed_test``, the AEC ``api_test`` of
    ``parallel_to_aec``, then a seeded random rollout checking every agent's info dict and the
    weighted-sum invariant per agent, determinism and a double ``close()``.

    Raises:
        AgenticEnvCheckError: naming the first rule the env breaks.
    """
    from pettingzoo.test import api_test, parallel_api_test, parallel_seed_test
    from pettingzoo.utils.conversions import parallel_to_aec

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parallel_api_test(env_fn(), num_cycles=num_cycles)
            parallel_seed_test(env_fn, num_cycles=num_cycles)
            api_test(parallel_to_aec(env_fn()), num_cycles=num_cycles)
    except AgenticEnvCheckError:
        raise
    except Exception as exc:
        raise _fail(
            "pettingzoo", f"PettingZoo conformance failed: {type(exc).__name__}: {exc}"
        ) from exc

    def rollout() -> list[Any]:
        env = env_fn()
        observations, infos = env.reset(seed=seed)
        for agent, info in infos.items():
            _check_info(info, f"reset(seed={seed}) agent {agent}")
        trace: list[Any] = [observations]
        for t in range(num_cycles):
            if not env.agents:
                break
            actions = {}
            for i, agent in enumerate(env.agents):
                space = env.action_space(agent)
                space.seed(seed * 1000 + t * 37 + i)
                actions[agent] = space.sample()
            observations, rewards, terminations, truncations, infos = env.step(actions)
            for agent, info in infos.items():
                where = f"step {t + 1} agent {agent}"
                _check_info(info, where)
                problem = invariant_error(rewards[agent], info)
                if problem:
                    raise _fail("weighted-sum", f"{where}: {problem}")
            trace.append(
                (
                    observations,
                    rewards,
                    terminations,
                    truncations,
                    {
                        a: {k: v for k, v in i.items() if k not in _NONDETERMINISTIC_INFO}
                        for a, i in infos.items()
                    },
                )
            )
        try:
            env.close()
            env.close()
        except Exception as exc:
            raise _fail("close", f"close() twice raised {type(exc).__name__}: {exc}") from exc
        return trace

    first, second = rollout(), rollout()
    if not _same(first, second):
        raise _fail(
            "determinism", f"seed {seed}: two rollouts with the same seed and actions differ"
        )
