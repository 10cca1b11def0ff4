"""The run loop: one :class:`Simulation` owns the clock, callbacks and checkpoints.

Following Oceananigans' split between a *model* (physics and state) and a *Simulation*
(clock, stop conditions, callbacks, output), a case study's model only holds its state
and steps it. Everything a long run needs besides physics lives here, written once:

* the clock and the time-step policy: a fixed ``dt``, or a list of step end times, each
  step shortened so that it lands exactly on the next time a callback asks for (output
  times are hit, never interpolated);
* callbacks on schedules (:class:`TimeInterval`, :class:`SpecifiedTimes`,
  :class:`IterationInterval`, :class:`WallTimeInterval`): recorders of outputs,
  progress, conservation guards;
* checkpoints: plain ``.npz`` files (NumPy arrays and numbers only, read back with
  ``allow_pickle=False``, so resuming from a folder someone sent you never executes
  code), written on a schedule, at a wall-time limit and at the end; a run resumed from
  its last checkpoint continues bit-identically (the model's whole state, the clock and
  every stateful callback are saved).

A model is any object with

* ``time`` (float, the model's own units),
* ``step(dt)`` **or** ``advance_to(t)`` (preferred when present: the model then lands on
  ``t`` exactly, with no round-off from ``time + dt``),
* ``checkpoint_state() -> dict`` and ``restore_state(dict)`` (arrays and scalars only)
  to be checkpointed, and ``state() -> xarray.Dataset`` for output (optional here),
* optionally ``done`` (bool): a model with its own end condition (a drying bridge that
  ruptured, a relaxation that settled) sets it, and the run stops there, before
  ``stop_time``, as if finished.

Example
-------
>>> import numpy as np
>>> class Decay:                      # dc/dt = -k c, exact exponential update
...     def __init__(self, k): self.k, self.c, self.time = k, 1.0, 0.0
...     def step(self, dt): self.c *= np.exp(-self.k * dt); self.time += dt
...     def checkpoint_state(self): return {"c": self.c, "time": self.time}
...     def restore_state(self, s): self.c, self.time = float(s["c"]), float(s["time"])
>>> sim = Simulation(Decay(0.5), stop_time=2.0, dt=0.3)
>>> seen = []
>>> sim.add_callback("record", lambda s: seen.append(round(s.model.time, 12)),
...                  TimeInterval(1.0))
>>> _ = sim.run()
>>> seen                              # steps are shortened to land on the outputs
[0.0, 1.0, 2.0]
>>> bool(abs(sim.model.c - np.exp(-1.0)) < 1e-12)    # exact: exp(-0.5 * 2)
True
"""

from __future__ import annotations

import math
import time as _time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence

import numpy as np

from .errors import InputError, RhizoscaleError

__all__ = ["Model", "Simulation", "Callback", "TimeInterval", "SpecifiedTimes",
           "IterationInterval", "WallTimeInterval", "Checkpointer", "ConservationGuard",
           "RunInterrupted", "WallTimeLimitReached", "save_checkpoint", "load_checkpoint",
           "flatten_state", "unflatten_state"]


class Model(Protocol):
    """What :class:`Simulation` needs from a case study's model (see the module docs).

    Every case model also offers ``state() -> xarray.Dataset``: its state now, with units
    on every variable and coordinate and ``time`` as a scalar coordinate (CS1
    :class:`~rhizoscale.rhizodeposition.RhizodepositionModel`, CS2
    :class:`~rhizoscale.nutrients.coupling.CoupledUptakeModel`, CS3
    :class:`~rhizoscale.diffusion.exudates.ExudateDiffusionModel`); the Simulation itself
    needs only the members below.

    A structural type: any object with these members (and ``step(dt)`` or
    ``advance_to(t)``) is a model; nothing needs to inherit from it.

    Attributes
    ----------
    time : float
        The model's current time (its own units, e.g. s or d).

    Examples
    --------
    >>> class Clock:
    ...     time = 0.0
    ...     def advance_to(self, t): self.time = t
    ...     def checkpoint_state(self): return {"time": self.time}
    ...     def restore_state(self, s): self.time = float(s["time"])
    >>> Simulation(Clock(), stop_time=3.0, dt=1.0).run().time
    3.0
    """

    time: float

    def checkpoint_state(self) -> dict: ...

    def restore_state(self, state: dict) -> None: ...

    # optional: ``done: bool``, True once the model met its own end condition (the run
    # then stops before ``stop_time``; see the module docs)


class RunInterrupted(RhizoscaleError):
    """A run stopped by the user (Ctrl-C) or a signal; says where the last checkpoint is."""


class WallTimeLimitReached(RunInterrupted):
    """The run reached its wall-time limit; a checkpoint was written to resume from."""


# ---------------------------------------------------------------------------- schedules
class TimeInterval:
    """Due at ``0, interval, 2 interval, ...`` (model time units); steps land on them.

    Parameters
    ----------
    interval : float
        Spacing of the due times (model time units, > 0).
    start : float
        First due time (model time units).

    Examples
    --------
    >>> every = TimeInterval(0.5)
    >>> every.next_time(0.0), every.next_time(0.7), every.next_time(1.0)
    (0.5, 1.0, 1.5)
    """

    aligns = True

    def __init__(self, interval: float, *, start: float = 0.0):
        if not (math.isfinite(interval) and interval > 0):
            raise InputError(f"a time interval must be positive, got {interval}", field="interval")
        self.interval = float(interval)
        self.start = float(start)

    def next_time(self, t: float) -> float:
        k = math.floor((t - self.start) / self.interval * (1 + 1e-12) + 1e-9) + 1
        return self.start + max(k, 0) * self.interval

    def due(self, sim: "Simulation") -> bool:
        x = (sim.time - self.start) / self.interval
        return abs(x - round(x)) < 1e-9 and x > -1e-9


class SpecifiedTimes:
    """Due at the given times (model time units); steps land on them.

    Parameters
    ----------
    times : sequence of float
        Due times (model time units); sorted and made unique.

    Examples
    --------
    >>> times = SpecifiedTimes([2.0, 0.5, 2.0])
    >>> times.times
    array([0.5, 2. ])
    >>> times.next_time(0.5), times.next_time(2.0)
    (2.0, inf)
    """

    aligns = True

    def __init__(self, times: Sequence[float]):
        self.times = np.unique(np.asarray(list(times), dtype=float))

    def next_time(self, t: float) -> float:
        later = self.times[self.times > t * (1 + 1e-12) + 1e-300]
        return float(later[0]) if later.size else math.inf

    def due(self, sim: "Simulation") -> bool:
        return bool(np.any(np.abs(self.times - sim.time) <= 1e-12 * max(abs(sim.time), 1.0)))


class IterationInterval:
    """Due every ``n`` steps (and at iteration 0 when ``at_start``).

    Steps are not shortened for it (it does not align the clock).

    Parameters
    ----------
    n : int
        Number of steps between due iterations (>= 1).
    at_start : bool
        Also due at iteration 0, before the first step.

    Examples
    --------
    >>> class Clock:
    ...     time = 0.0
    ...     def step(self, dt): self.time += dt
    ...     def checkpoint_state(self): return {"time": self.time}
    ...     def restore_state(self, s): self.time = float(s["time"])
    >>> sim = Simulation(Clock(), stop_time=5.0, dt=1.0)
    >>> seen = []
    >>> sim.add_callback("every 2", lambda s: seen.append(s.iteration), IterationInterval(2))
    >>> _ = sim.run()
    >>> seen
    [2, 4]
    """

    aligns = False

    def __init__(self, n: int, *, at_start: bool = False):
        if int(n) < 1:
            raise InputError(f"an iteration interval must be >= 1, got {n}", field="interval")
        self.n = int(n)
        self.at_start = at_start

    def due(self, sim: "Simulation") -> bool:
        if sim.iteration == 0:
            return self.at_start
        return sim.iteration % self.n == 0


class WallTimeInterval:
    """Due when ``seconds`` of wall-clock time have passed since it was last due.

    Used for checkpoints of long runs (never at iteration 0; does not align the clock).

    Parameters
    ----------
    seconds : float
        Wall-clock time between due calls (s).

    Examples
    --------
    >>> WallTimeInterval(600.0).seconds
    600.0
    >>> Checkpointer("run.npz").schedule.seconds      # the default checkpoint schedule
    60.0
    """

    aligns = False

    def __init__(self, seconds: float):
        self.seconds = float(seconds)
        self._last = _time.perf_counter()

    def due(self, sim: "Simulation") -> bool:
        now = _time.perf_counter()
        if sim.iteration > 0 and now - self._last >= self.seconds:
            self._last = now
            return True
        return False


@dataclass
class Callback:
    """``func(simulation)`` called when ``schedule`` is due.

    A callback that keeps state (a recorder of outputs) exposes ``checkpoint_state`` and
    ``restore_state`` on ``func`` so that resumed runs keep what it recorded.

    Parameters
    ----------
    func : callable
        ``func(simulation)``; its return value is ignored.
    schedule : TimeInterval, SpecifiedTimes, IterationInterval or WallTimeInterval
        When it is due (any object with ``due(simulation) -> bool``).

    Examples
    --------
    >>> cb = Callback(print, TimeInterval(1.0))
    >>> cb.schedule.interval
    1.0

    Usually made by :meth:`Simulation.add_callback` rather than directly.
    """

    func: Callable[["Simulation"], Any]
    schedule: Any


# ---------------------------------------------------------------------------- checkpoints
def flatten_state(state: dict, prefix: str = "") -> dict[str, np.ndarray]:
    """Nested dict of arrays/scalars/strings -> flat ``{"a/b": ndarray}`` (no objects).

    Parameters
    ----------
    state : dict
        Nested dicts whose leaves are arrays, numbers or strings.
    prefix : str
        Prepended to every key.

    Returns
    -------
    dict of str to numpy.ndarray
        One entry per leaf, keyed by its ``/``-joined path.

    Raises
    ------
    TypeError
        When a leaf is not plain data (its array would have dtype ``object``).

    Examples
    --------
    >>> flat = flatten_state({"model": {"c": [1.0, 2.0], "time": 0.5}, "name": "run"})
    >>> sorted(flat)
    ['model/c', 'model/time', 'name']
    >>> flat["model/c"]
    array([1., 2.])
    """
    out = {}
    for key, value in state.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten_state(value, name + "/"))
            continue
        arr = np.asarray(value)
        if arr.dtype == object:
            raise TypeError(f"checkpoint entry {name!r} is not plain data ({type(value).__name__})")
        out[name] = arr
    return out


def unflatten_state(flat: dict, prefix: str = "") -> dict:
    """Inverse of :func:`flatten_state` for the keys under ``prefix``.

    Parameters
    ----------
    flat : dict of str to numpy.ndarray
        Flat ``{"a/b": array}`` mapping.
    prefix : str
        Only keys starting with it are kept (and it is stripped).

    Returns
    -------
    dict
        Nested dicts of the arrays.

    Examples
    --------
    >>> unflatten_state({"model/c": 1.0, "model/time": 0.5, "name": "run"})
    {'model': {'c': 1.0, 'time': 0.5}, 'name': 'run'}
    >>> unflatten_state({"model/c": 1.0, "name": "run"}, prefix="model/")
    {'c': 1.0}
    """
    out: dict = {}
    for key, arr in flat.items():
        if not key.startswith(prefix):
            continue
        parts = key[len(prefix):].split("/")
        node = out
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = arr
    return out


def save_checkpoint(path: str | Path, state: dict) -> Path:
    """Write a nested dict of plain arrays to ``path`` (``.npz``), atomically.

    Parameters
    ----------
    path : str or pathlib.Path
        The checkpoint file (``.npz``); replaced only once completely written.
    state : dict
        Nested dict of arrays, numbers and strings (see :func:`flatten_state`).

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = save_checkpoint(pathlib.Path(tmp) / "run.npz", {"model": {"c": [1.0, 2.0]}})
    ...     load_checkpoint(path)
    {'model': {'c': array([1., 2.])}}
    """
    from .io.atomic import atomic_path
    path = Path(path)
    flat = flatten_state(state)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **flat)
    return path


def load_checkpoint(path: str | Path) -> dict:
    """Read a checkpoint written by :func:`save_checkpoint` (never unpickles).

    Parameters
    ----------
    path : str or pathlib.Path
        A ``.npz`` file written by :func:`save_checkpoint`.

    Returns
    -------
    dict
        The nested dict of arrays (scalars come back as 0-d arrays).

    Raises
    ------
    InputError
        When the file is missing, not an ``.npz`` or would need unpickling.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = save_checkpoint(pathlib.Path(tmp) / "run.npz", {"time": 2.5, "name": "cs3"})
    ...     state = load_checkpoint(path)
    >>> float(state["time"]), str(state["name"])
    (2.5, 'cs3')
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            flat = {k: data[k] for k in data.files}
    except (OSError, ValueError) as err:
        raise InputError(f"not a readable checkpoint ({err})", source=path) from None
    return unflatten_state(flat)


class Checkpointer:
    """Writes the simulation's state to ``path`` on a schedule, at a limit and at the end.

    Parameters
    ----------
    path : str or pathlib.Path
        The checkpoint file (``.npz``), overwritten each time.
    schedule : optional
        When to write during the run; default every 60 s of wall-clock time
        (:class:`WallTimeInterval`).

    Examples
    --------
    A run checkpointed at its end and a second run resumed from that file:

    >>> import tempfile, pathlib
    >>> class Clock:
    ...     time = 0.0
    ...     def step(self, dt): self.time += dt
    ...     def checkpoint_state(self): return {"time": self.time}
    ...     def restore_state(self, s): self.time = float(s["time"])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     cp = Checkpointer(pathlib.Path(tmp) / "run.npz", IterationInterval(2))
    ...     _ = Simulation(Clock(), stop_time=3.0, dt=1.0, checkpoint=cp).run()
    ...     again = Simulation(Clock(), stop_time=5.0, dt=1.0)
    ...     resumed = again.resume_from(cp.path)
    >>> cp.last_time, resumed, again.time, again.iteration
    (3.0, True, 3.0, 3)
    """

    def __init__(self, path: str | Path, schedule=None):
        self.path = Path(path)
        self.schedule = schedule if schedule is not None else WallTimeInterval(60.0)
        self.last_time: float | None = None

    def __call__(self, sim: "Simulation") -> None:
        save_checkpoint(self.path, sim.checkpoint_state())
        self.last_time = sim.time


class ConservationGuard:
    """Stops a run whose conservation error or state stops being finite.

    ``error(simulation) -> float`` returns the current relative balance error (or NaN
    when a state turned non-finite); a run above ``tolerance`` stops with the value,
    instead of carrying a wrong number to its outputs.

    Parameters
    ----------
    error : callable
        ``error(simulation) -> float``, the relative error (dimensionless).
    tolerance : float
        Largest accepted ``abs(error)`` (dimensionless).
    what : str
        What is checked, for the message.

    Attributes
    ----------
    worst : float
        Largest ``abs(error)`` seen so far.

    Examples
    --------
    >>> class Leaky:                   # loses 1 % of its mass per step
    ...     time, mass = 0.0, 1.0
    ...     def step(self, dt): self.time += dt; self.mass *= 0.99
    ...     def checkpoint_state(self): return {"time": self.time, "mass": self.mass}
    ...     def restore_state(self, s): pass
    >>> sim = Simulation(Leaky(), stop_time=10.0, dt=1.0)
    >>> guard = ConservationGuard(lambda s: 1.0 - s.model.mass, tolerance=0.025)
    >>> sim.add_callback("mass", guard, IterationInterval(1))
    >>> sim.run()
    Traceback (most recent call last):
    ...
    rhizoscale.errors.RhizoscaleError: mass balance error 0.0297 exceeds 0.03 at t = 3 (iteration 3); the run was stopped
    >>> round(guard.worst, 4)
    0.0199
    """

    def __init__(self, error: Callable[["Simulation"], float], tolerance: float, what: str = "mass balance"):
        self.error = error
        self.tolerance = float(tolerance)
        self.what = what
        self.worst = 0.0

    def __call__(self, sim: "Simulation") -> None:
        e = float(self.error(sim))
        if not math.isfinite(e) or abs(e) > self.tolerance:
            raise RhizoscaleError(f"{self.what} error {e:.3g} exceeds {self.tolerance:.1g} at t = "
                                  f"{sim.time:g} (iteration {sim.iteration}); the run was stopped")
        self.worst = max(self.worst, abs(e))


# ---------------------------------------------------------------------------- simulation
class Simulation:
    """Advance a model to ``stop_time``, calling callbacks on their schedules.

    Parameters
    ----------
    model : Model
        Physics and state (see the module docs).
    stop_time : float
        End time (model units).
    dt : float, optional
        Step; shortened to land on the next time a time-aligned schedule asks for.
    time_steps : sequence of float, optional
        Step end times (instead of ``dt``), e.g. geometrically growing BDF2 steps.
    checkpoint : Checkpointer, optional
        Where and when to write checkpoints (also at the end and at ``wall_time_limit``).
    wall_time_limit : float, optional
        Seconds of wall-clock time after which the run checkpoints and stops with
        :class:`WallTimeLimitReached` (resume it with the same call and ``resume=True``).
    progress : callable, optional
        ``progress(time, stop_time)`` after every step.
    name : str
        What this run is called in messages.

    Attributes
    ----------
    time : float
        The model's time (model units).
    iteration : int
        Number of steps taken.
    callbacks : dict of str to Callback
        The callbacks, by name.

    References
    ----------
    .. [1] Ramadhan, A., Wagner, G. L., Hill, C., et al. (2020). Oceananigans.jl: Fast and
       friendly geophysical fluid dynamics on GPUs. Journal of Open Source Software, 5(53),
       2018. https://doi.org/10.21105/joss.02018 (the model / simulation split).

    Examples
    --------
    Steps given as end times (e.g. geometrically growing ones); outputs are still hit:

    >>> class Clock:
    ...     time = 0.0
    ...     def advance_to(self, t): self.time = t
    ...     def checkpoint_state(self): return {"time": self.time}
    ...     def restore_state(self, s): self.time = float(s["time"])
    >>> sim = Simulation(Clock(), stop_time=8.0, time_steps=[1.0, 2.0, 4.0, 8.0])
    >>> ends = []
    >>> sim.add_callback("step ends", lambda s: ends.append(s.time), IterationInterval(1))
    >>> sim.add_callback("output", lambda s: None, SpecifiedTimes([3.0]))
    >>> sim.run().iteration, ends
    (5, [1.0, 2.0, 3.0, 4.0, 8.0])
    """

    def __init__(self, model, *, stop_time: float, dt: float | None = None,
                 time_steps: Sequence[float] | None = None, checkpoint: Checkpointer | None = None,
                 wall_time_limit: float | None = None, progress: Callable | None = None,
                 name: str = "simulation"):
        if (dt is None) == (time_steps is None):
            raise InputError("give exactly one of dt and time_steps", source=name)
        if dt is not None and not (math.isfinite(dt) and dt > 0):
            raise InputError(f"the time step must be positive, got {dt}", source=name, field="dt")
        if not math.isfinite(stop_time):
            raise InputError(f"the stop time must be finite, got {stop_time}", source=name, field="stop_time")
        self.model = model
        self.stop_time = float(stop_time)
        self.dt = None if dt is None else float(dt)
        self.time_steps = None if time_steps is None else np.asarray(time_steps, dtype=float)
        self.callbacks: dict[str, Callback] = {}
        self.checkpointer = checkpoint
        self.wall_time_limit = wall_time_limit
        self.progress = progress
        self.name = name
        self.iteration = 0
        self.wall_time = 0.0
        self.finished = False
        self._initialised = False

    @property
    def time(self) -> float:
        return float(self.model.time)

    def add_callback(self, name: str, func: Callable[["Simulation"], Any], schedule) -> None:
        """Call ``func(simulation)`` whenever ``schedule`` is due (after a step)."""
        self.callbacks[name] = Callback(func, schedule)

    # ------------------------------------------------------------------ checkpoints
    def checkpoint_state(self) -> dict:
        """The whole run's state: clock, model, stateful callbacks (plain data)."""
        state = {"simulation": {"iteration": self.iteration, "time": self.time,
                                "stop_time": self.stop_time, "finished": self.finished,
                                "initialised": self._initialised, "name": self.name},
                 "model": self.model.checkpoint_state(), "callbacks": {}}
        for name, cb in self.callbacks.items():
            if hasattr(cb.func, "checkpoint_state"):
                state["callbacks"][name] = cb.func.checkpoint_state()
        return state

    def restore(self, state: dict) -> None:
        """Continue from a state returned by :meth:`checkpoint_state` (or a file's)."""
        sim = state["simulation"]
        if str(sim["name"]) != self.name:
            raise InputError(f"the checkpoint belongs to {str(sim['name'])!r}, not {self.name!r}",
                             source="checkpoint")
        self.model.restore_state(state["model"])
        self.iteration = int(sim["iteration"])
        self.finished = bool(sim["finished"]) and float(sim["stop_time"]) == self.stop_time
        self._initialised = bool(sim["initialised"])
        for name, cb in self.callbacks.items():
            if hasattr(cb.func, "restore_state") and name in state.get("callbacks", {}):
                cb.func.restore_state(state["callbacks"][name])

    def resume_from(self, path: str | Path) -> bool:
        """Restore from the checkpoint file at ``path`` if it exists; True if it did."""
        path = Path(path)
        if not path.is_file():
            return False
        self.restore(load_checkpoint(path))
        return True

    # ------------------------------------------------------------------ stepping
    def _next_target(self) -> float:
        t = self.time
        if self.time_steps is not None:
            later = self.time_steps[self.time_steps > t]
            target = float(later[0]) if later.size else self.stop_time
        else:
            target = t + self.dt
        for cb in self.callbacks.values():
            if getattr(cb.schedule, "aligns", False):
                target = min(target, cb.schedule.next_time(t))
        return min(target, self.stop_time)

    def _advance(self, target: float) -> None:
        m = self.model
        if hasattr(m, "advance_to"):
            m.advance_to(target)
        else:
            m.step(min(self.dt if self.dt is not None else math.inf, target - m.time))

    def _call_due(self) -> None:
        for cb in self.callbacks.values():
            if cb.schedule.due(self):
                cb.func(self)

    def _write_checkpoint(self) -> None:
        if self.checkpointer is not None:
            self.checkpointer(self)

    def run(self) -> "Simulation":
        """Step to ``stop_time`` (or until the model is ``done``); returns the simulation.

        Raises
        ------
        WallTimeLimitReached
            After checkpointing, when the wall-time limit passed.
        RunInterrupted
            On Ctrl-C (the message names the last checkpoint).
        """
        start = _time.perf_counter()
        if not self._initialised:
            self._call_due()           # outputs at the initial time
            self._initialised = True
        try:
            while not self.finished and not getattr(self.model, "done", False) and \
                    self.time < self.stop_time * (1 - 1e-12) - 1e-300:
                self._advance(self._next_target())
                self.iteration += 1
                self._call_due()
                if self.progress is not None:
                    self.progress(self.time, self.stop_time)
                if self.checkpointer is not None and self.checkpointer.schedule.due(self):
                    self._write_checkpoint()
                if self.wall_time_limit is not None and \
                        _time.perf_counter() - start >= self.wall_time_limit:
                    self._write_checkpoint()
                    where = f"; checkpoint {self.checkpointer.path}" if self.checkpointer else ""
                    limit = getattr(self, "wall_time_note", None) or f"wall-time limit of {self.wall_time_limit:g} s"
                    scale, units = getattr(self, "time_display", (1.0, ""))
                    raise WallTimeLimitReached(
                        f"{self.name}: {limit} reached at t = {self.time * scale:g}{units} "
                        f"(iteration {self.iteration}){where}")
        except KeyboardInterrupt:
            cp = self.checkpointer
            if cp is not None and cp.last_time is not None:
                where = f"; last checkpoint {cp.path} at t = {cp.last_time:g}"
            elif cp is not None and cp.path.is_file():   # interrupted right after writing it
                where = f"; last checkpoint {cp.path}"
            else:
                where = "; no checkpoint was written yet"
            raise RunInterrupted(f"{self.name} interrupted at t = {self.time:g} "
                                 f"(iteration {self.iteration}){where}") from None
        self.finished = True
        self.wall_time += _time.perf_counter() - start
        self._write_checkpoint()
        return self
