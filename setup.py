"""Map the layer folders onto subpackages of the single import package ``rewardgym``.

``rewardgym/`` is the core (L0); ``sandbox/``, ``envs/``, ``shaping/``, ``agents/`` and
``leaderboard/`` become ``rewardgym.sandbox`` ... ``rewardgym.leaderboard`` (ARCHITECTURE.md §1).
"""

from __future__ import annotations

from setuptools import find_packages, setup

LAYERS = ("sandbox", "envs", "shaping", "agents", "leaderboard")

package_dir = {"rewardgym": "rewardgym"}
packages = ["rewardgym", *(f"rewardgym.{p}" for p in find_packages("rewardgym"))]
for layer in LAYERS:
    package_dir[f"rewardgym.{layer}"] = layer
    packages.append(f"rewardgym.{layer}")
    for sub in find_packages(layer):
        packages.append(f"rewardgym.{layer}.{sub}")

setup(
    package_dir=package_dir,
    packages=packages,
    package_data={
        "": [
            "py.typed",
            *(
                f"{folder}*.{ext}"
                for folder in ("", "data/")
                for ext in ("json", "jsonl", "yaml", "txt", "md")
            ),
            "*.html",
            "*.css",
        ]
    },
    include_package_data=True,
)
