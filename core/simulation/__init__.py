"""The placement simulator: the production matching pipeline, day by day, against a plug-in world.

Modules: ``world`` (the plug-in interface and its validation), ``demo_world`` (the default world: the demo
data's response model), ``population`` (simulated practices, therapists, patients), ``engine`` (the day
loop), ``policies`` (greedy, exact-prior, exact-learned), ``audit`` (an independent contact-limit check),
``report`` (placements, time to placement, effort, fairness).

Example:
    report = simulate(SimulationConfig(policy="greedy", days=120, seed=1), world=load_world(DEFAULT_WORLD))
"""

from __future__ import annotations

from core.simulation.engine import Simulation, SimulationConfig, SimulationResult
from core.simulation.policies import SimulationSettings
from core.simulation.report import build_report
from core.simulation.world import World

DEFAULT_WORLD = "core.simulation.demo_world:DemoWorld"


def simulate(config: SimulationConfig, *, world: World, settings: SimulationSettings | None = None) -> SimulationResult:
    """Run one simulation and return its result with ``report`` filled in (see core.simulation.report)."""
    result = Simulation(config, world=world, settings=settings).run()
    result.report = build_report(result)
    return result


__all__ = ["DEFAULT_WORLD", "SimulationConfig", "SimulationResult", "SimulationSettings", "simulate"]
