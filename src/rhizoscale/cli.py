"""The ``rhizoscale`` command line: run scenarios, grow root systems, write examples.

User errors (bad files, fields, values) print one line naming the file and the field
and exit with status 2; no traceback. Progress bars come from rich.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import time
from pathlib import Path
from typing import Iterator, Optional

import typer
from rich.console import Console
from rich.progress import (BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn,
                           TimeRemainingColumn)
from rich.table import Table
from rich.text import Text

from . import __version__
from .errors import RhizoscaleError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="rhizoscale: rhizosphere processes across scales (pore, root, root system).")
console = Console(stderr=True)
out_console = Console()


def _print_version(value: bool) -> None:
    if value:
        out_console.print(f"rhizoscale {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def _main(ctx: typer.Context,
          version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                       help="Print the version and exit")) -> None:
    """rhizoscale: rhizosphere processes across scales (pore, root, root system)."""
    # say once, before a run starts, that it will spend its first minute compiling
    command = ctx.invoked_subcommand
    if command in ("run", "demo", "grow"):
        from .warmup import compile_note
        try:
            if command == "run":  # said in _run_file_or_text once the case is known
                note = None
            else:
                note = compile_note(["plant growth"])
        except Exception:  # pragma: no cover - a hint must never stop a run
            note = None
        if note:
            console.print(Text(note, style="yellow"), soft_wrap=True)


class RichProgress:
    """Progress reporter for the command line.

    On a terminal: rich progress bars with elapsed time and an estimate of the time left
    (steps shorter than ~2 s flash by). Elsewhere (a batch job, output sent to a log
    file) bars would print nothing for minutes, so each task prints plain lines instead:
    one when it starts, then every ``log_fraction`` of the work or every ``log_interval``
    seconds, whichever comes first (at most one a ``min_interval``), and one when it ends.
    """

    def __init__(self, console: Console, *, log_interval: float = 30.0, log_fraction: float = 0.1,
                 min_interval: float = 1.0, clock=time.perf_counter):
        self.console = console
        self.log_interval = log_interval
        self.log_fraction = log_fraction
        self.min_interval = min_interval  # no flood of lines from a task of a second
        self.clock = clock

    def task(self, description: str, total: float | None = None):
        if self.console.is_terminal:
            return self._bar(description, total)
        return self._log(description, total)

    @contextlib.contextmanager
    def _bar(self, description: str, total: float | None) -> Iterator:
        t0 = self.clock()
        with Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
                      TextColumn("{task.percentage:>5.1f}%"), TimeElapsedColumn(),
                      TextColumn("eta"), TimeRemainingColumn(),
                      console=self.console, transient=False) as bar:
            tid = bar.add_task(description, total=total)

            def callback(done: float, tot: float | None = None) -> None:
                bar.update(tid, completed=done, total=tot if tot is not None else total)

            yield callback
            task = bar.tasks[0]
            if task.total is not None:
                bar.update(tid, completed=task.total)
        if self.clock() - t0 > 60:
            self.console.print(f"  {description}: {self.clock() - t0:.0f} s")

    def _line(self, text: str) -> None:
        self.console.print(text, markup=False, highlight=False, soft_wrap=True)

    @contextlib.contextmanager
    def _log(self, description: str, total: float | None) -> Iterator:
        t0 = self.clock()
        state = {"last_t": t0, "last_frac": 0.0, "total": total}
        self._line(f"{description}: started")

        def callback(done: float, tot: float | None = None) -> None:
            if tot is not None:
                state["total"] = tot
            now = self.clock()
            tot_ = state["total"]
            frac = done / tot_ if tot_ else None
            due = now - state["last_t"] >= self.log_interval
            if frac is not None and frac - state["last_frac"] >= self.log_fraction - 1e-12 and frac < 1:
                due = True
            if not due or now - state["last_t"] < self.min_interval:
                return
            elapsed = now - t0
            if frac is None:
                self._line(f"{description}: running for {_duration(elapsed)}")
            else:
                eta = elapsed * (1 - frac) / frac if frac > 0 else None
                self._line(f"{description}: {100 * frac:.0f}% after {_duration(elapsed)}"
                           + (f", about {_duration(eta)} left" if eta is not None else ""))
                state["last_frac"] = frac
            state["last_t"] = now

        yield callback
        self._line(f"{description}: done in {_duration(self.clock() - t0)}")

    def message(self, text: str) -> None:
        # plain text: a message may hold brackets ("[2.0]", "[/tmp/x.nc]") that rich would
        # read as markup (and fail on); long lines are not broken (log files keep one line)
        head, sep, rest = text.partition("warning: ")
        if sep and not head:
            self.console.print(Text.assemble(("warning: ", "yellow"), rest), soft_wrap=True)
        else:
            self.console.print(text, markup=False, highlight=False, soft_wrap=True)


def _duration(seconds: float) -> str:
    """``42 s``, ``3 min 05 s``, ``2 h 07 min``."""
    s = int(round(seconds))
    if s < 60:
        return f"{seconds:.0f} s" if seconds >= 1 else f"{seconds:.1f} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


def _fail(err: Exception) -> None:
    # no markup (messages contain [i] indices) and no wrapping (paths must stay whole)
    console.print(Text.assemble(("error: ", "bold red"), str(err)), soft_wrap=True)
    raise typer.Exit(code=2)


def _run_file_or_text(path: Path, out: Path, *, overwrite: bool = False, resume: bool = False,
                      wall_time_limit: float | None = None, checkpoint_interval: float = 60.0) -> dict:
    from .scenario import load_scenario, run_scenario
    scenario = load_scenario(path)
    _compile_note(scenario.case)
    verb = "resuming" if resume else "running"
    console.print(f"[bold]rhizoscale[/bold] {__version__}: {verb} [cyan]{scenario.name}[/cyan] "
                  f"({scenario.case}, seed {scenario.seed}) -> {out}")
    summary = run_scenario(scenario, out, progress=RichProgress(console), overwrite=overwrite,
                           resume=resume, wall_time_limit=wall_time_limit,
                           checkpoint_interval=checkpoint_interval)
    console.print(f"[green]done[/green] in {summary['wall_time_s']:.1f} s; "
                  f"{len(summary['files'])} files in {out}")
    return summary


#: scenario case -> the kernel groups of rhizoscale.warmup it compiles
CASE_KERNELS = {"plant-growth": ["plant growth"], "cs1-rhizodeposition": ["plant growth", "CS1 rhizodeposition"],
                "cs2-phosphate-uptake": ["plant growth", "CS2 phosphate uptake"],
                "cs3-root-hairs": ["CS3 root hairs"], "cs4-homogenisation": ["CS4 homogenisation"]}


def _compile_note(case: str) -> None:
    """Say once, before a run starts, that it will spend its first minute compiling."""
    groups = CASE_KERNELS.get(case)
    if not groups:
        return
    try:
        from .warmup import cold_cases, compile_note
        # the case's own kernels (last group) decide: a CS1 run on a straight root never
        # compiles the root-growth kernels, which would otherwise repeat the note forever
        note = compile_note(groups) if cold_cases(groups[-1:]) else None
    except Exception:  # pragma: no cover - a hint must never stop a run
        note = None
    if note:
        console.print(Text(note, style="yellow"), soft_wrap=True)


def _interrupted(err: Exception, out: Path) -> None:
    console.print(Text.assemble(("stopped: ", "bold yellow"), str(err)), soft_wrap=True)
    console.print(f"continue with: rhizoscale run SCENARIO --out {out} --resume")
    raise typer.Exit(code=3)


@app.command()
def run(scenario: Path = typer.Argument(..., help="Scenario YAML file"),
        out: Path = typer.Option(Path("out"), "--out", "-o", help="Output directory"),
        overwrite: bool = typer.Option(False, "--overwrite", help="Replace a previous run in --out"),
        resume: bool = typer.Option(False, "--resume",
                                    help="Continue an interrupted run in --out from its last checkpoint"),
        wall_time_limit: Optional[float] = typer.Option(
            None, "--wall-time-limit", min=0, help="Checkpoint and stop after this many seconds \\[s]"),
        checkpoint_interval: float = typer.Option(
            60.0, "--checkpoint-interval", min=0, help="Wall-clock time between checkpoints \\[s]")) -> None:
    """Run a scenario file (refuses an --out folder holding another run)."""
    from .simulation import RunInterrupted
    if overwrite and resume:
        _fail(RhizoscaleError("give either --overwrite or --resume, not both"))
    try:
        _run_file_or_text(scenario, out, overwrite=overwrite, resume=resume,
                          wall_time_limit=wall_time_limit, checkpoint_interval=checkpoint_interval)
    except RunInterrupted as err:
        _interrupted(err, out)
    except RhizoscaleError as err:
        _fail(err)


@app.command()
def sensitivity(spec: Path = typer.Argument(..., help="Sensitivity specification (YAML)"),
                out: Path = typer.Option(Path("sensitivity"), "--out", "-o",
                                         help="Study folder (samples stored as they finish; rerun to resume)"),
                scheduler: Optional[str] = typer.Option(
                    None, "--scheduler", help="Dask scheduler address (tcp://host:port or tls://...); "
                                              "default: a local cluster on 127.0.0.1"),
                workers: Optional[int] = typer.Option(None, "--workers", min=1,
                                                      help="Workers of the local cluster (default: one per core)"),
                overwrite: bool = typer.Option(False, "--overwrite",
                                               help="Discard a study stored in --out (its samples too) and start again")
                ) -> None:
    """Global sensitivity analysis (Morris or Sobol') of a scenario or pipeline on Dask."""
    import warnings

    from .sensitivity import StudyInterrupted, load_study
    try:
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always")
            study = load_study(spec)
        for w in said:          # what the design cannot resolve, as one line each
            console.print(Text.assemble(("warning: ", "bold yellow"), str(w.message)), soft_wrap=True)
        console.print(f"[bold]rhizoscale[/bold] {__version__}: {study.method} study of "
                      f"{len(study.space.names)} parameters, {study.n_samples} runs -> {out}"
                      + (f" (scheduler {scheduler})" if scheduler else ""), highlight=False, soft_wrap=True)
        progress = RichProgress(console)
        with contextlib.ExitStack() as stack:
            started: list = []

            def cb(done, total):   # the progress line starts once the study folder is accepted
                if not started:
                    started.append(stack.enter_context(progress.task("samples", study.n_samples)))
                started[0](done, total)
            result = study.run(out, scheduler=scheduler, n_workers=workers, progress=cb, overwrite=overwrite)
    except (StudyInterrupted, KeyboardInterrupt) as err:
        console.print(Text.assemble(("stopped: ", "bold yellow"), str(err) or "interrupted"), soft_wrap=True)
        console.print(f"the finished samples are stored in {out}; run the same command again to resume")
        raise typer.Exit(code=3)
    except RhizoscaleError as err:
        _fail(err)
    if result.reused:
        console.print(f"{result.reused} samples reused from {out}, {result.computed} computed", highlight=False,
                      soft_wrap=True)
    for rec in result.sample_warnings[:5]:     # what the runs said, once per message
        console.print(Text.assemble(("warning: ", "bold yellow"),
                                    f"{rec['n_samples']} of {len(result.y)} samples: {rec['message']}"), soft_wrap=True)
    if len(result.sample_warnings) > 5:
        console.print(f"... {len(result.sample_warnings) - 5} more warnings in {out / 'summary.json'} "
                      "(sample_warnings)", highlight=False, soft_wrap=True)
    for q, ind in result.indices.items():
        table = Table(title=q)
        table.add_column("parameter")
        keys = [k for k in ind if ind[k].ndim == 1 and not k.endswith("_conf")]
        for k in keys:
            table.add_column(k, justify="right")
        for i, name in enumerate(result.names):
            row = [name]
            for k in keys:
                conf = ind.get(f"{k}_conf")
                row.append(f"{ind[k][i]:.3g}" + (f" ± {conf[i]:.2g}" if conf is not None else ""))
            table.add_row(*row)
        out_console.print(table)
        pairs = result.interactions(q, significant=False)[:3]
        for a, b, s2, c in pairs:
            out_console.print(f"  interaction {a} x {b}: S2 = {s2:.3g} ± {c:.2g}"
                              + ("" if s2 - c > 0 else " (interval includes 0)"), highlight=False)
    console.print(f"[green]done[/green] in {result.wall_time_s:.1f} s; indices in {out / 'indices.nc'}",
                  highlight=False)


@app.command()
def demo(out: Path = typer.Option(Path("rhizoscale-demo"), "--out", "-o", help="Output directory"),
         overwrite: bool = typer.Option(False, "--overwrite", help="Replace a previous demo run in --out")) -> None:
    """Run the default scenario (a minute or two): grow a root system and analyse it."""
    from .io.atomic import atomic_write
    from .scenario import example_text
    try:
        out.mkdir(parents=True, exist_ok=True)
        path = out / "demo.yaml"
        with atomic_write(path) as fh:
            fh.write(example_text("demo"))
        _run_file_or_text(path, out, overwrite=overwrite)
    except RhizoscaleError as err:
        _fail(err)


@app.command()
def example(name: Optional[str] = typer.Argument(None, help="Example name (omit to list them)"),
            out: Optional[Path] = typer.Option(
                None, "--out", "-o",
                help="File to write (default: NAME.yaml; when the output is piped or redirected, "
                     "the YAML goes to standard output)"),
            force: bool = typer.Option(False, "--force", "-f", help="Overwrite an existing file")) -> None:
    """Write a ready-to-run example scenario file (or list the examples).

    `rhizoscale example NAME > my.yaml` writes the YAML to my.yaml.
    """
    from .errors import InputError
    from .io.atomic import atomic_write
    from .scenario import available_examples, example_text
    if name is None:
        for n in available_examples():
            out_console.print(n, highlight=False)
        return
    try:
        text = example_text(name)
        if out is None and not sys.stdout.isatty():
            # `rhizoscale example NAME > file.yaml` (the form the docs use)
            sys.stdout.write(text)
            sys.stdout.flush()
            return
        path = out or Path(f"{name}.yaml")
        if path.is_dir():
            path = path / f"{name}.yaml"
        if path.exists() and not force:
            raise InputError("file exists; not overwritten (use --force to replace it)", source=path)
        try:
            with atomic_write(path) as fh:
                fh.write(text)
        except OSError as err:
            raise InputError(f"cannot write file ({err.strerror})", source=path) from None
    except RhizoscaleError as err:
        _fail(err)
    console.print(f"wrote {path}; run it with: rhizoscale run {path} --out {Path(name)}",
                  highlight=False, soft_wrap=True)


def _rsml_destination(out: str) -> Path:
    """``--out``: a file, or a folder (existing, or written with a trailing slash) to put
    ``root_system.rsml`` in, as ``cp file folder/`` would."""
    path = Path(out)
    if out.endswith(("/", "\\")) or path.is_dir():
        return path / "root_system.rsml"
    return path


@app.command()
def grow(params: str = typer.Option("vicia_faba", "--params", "-p",
                                    help="Parameter set name, CPlantBox XML or YAML file"),
         days: float = typer.Option(21.0, "--days", help="Simulation time \\[d]"),
         seed: int = typer.Option(1, "--seed", help="Random seed (integer >= 0)"),
         out: str = typer.Option("root_system.rsml", "--out", "-o",
                                 help="Output RSML file, or a folder (existing, or ending in /) "
                                      "to write root_system.rsml in"),
         vtk: bool = typer.Option(False, "--vtk", help="Also write the root system as .vtp poly-lines "
                                                      "for ParaView (beside the RSML file)"),
         backend: str = typer.Option("rhizoscale", "--backend", help="rhizoscale or cplantbox")) -> None:
    """Grow a root system and write it as RSML (and VTK)."""
    from .errors import InputError
    from .io.rsml import write_rsml
    from .plant import grow_root_system, load_plant_parameters
    try:
        if not (days > 0 and days < 1e6):
            raise InputError(f"must be positive (and below 1e6), got {days}", field="--days")
        if seed < 0:
            raise InputError(f"must be >= 0, got {seed}", field="--seed")
        if backend not in ("rhizoscale", "cplantbox"):
            raise InputError(f"unknown backend {backend!r} (use 'rhizoscale' or 'cplantbox')", field="--backend")
        path = _rsml_destination(out)
        parameters = load_plant_parameters(params)
        for w in parameters.reader_warnings:
            console.print(Text.assemble(("warning: ", "yellow"), f"{params}: {w}"), soft_wrap=True)
        progress = RichProgress(console)
        with progress.task(f"growing {parameters.name} for {days:g} d", total=days) as cb:
            rs = grow_root_system(parameters, days, seed=seed, callback=cb, backend=backend)
        written = [path]
        try:
            write_rsml(rs, path)
            if vtk:
                from .io.vtk import write_root_system_vtk
                written.append(write_root_system_vtk(rs, path.with_suffix(".vtp")))
        except OSError as err:
            raise InputError(f"cannot write ({err.strerror or err})", source=path, field="--out") from None
    except RhizoscaleError as err:
        _fail(err)
    s = rs.summary()
    console.print(f"{s['n_roots']} roots, {s['total_length_cm']:.1f} cm, depth {s['max_depth_cm']:.1f} cm "
                  f"-> {', '.join(str(p) for p in written)}", highlight=False, soft_wrap=True)


@app.command()
def warmup(case: Optional[list[str]] = typer.Option(
        None, "--case", help="Only this case study (repeat for more): plant, cs1, cs2, cs3, cs4")) -> None:
    """Compile the numerical kernels ahead of a run (once after installing; cached by Numba)."""
    from .errors import InputError
    from .warmup import CASES, warm_up
    short = {"plant": "plant growth", "cs1": "CS1 rhizodeposition", "cs2": "CS2 phosphate uptake",
             "cs3": "CS3 root hairs", "cs4": "CS4 homogenisation"}
    try:
        unknown = [c for c in case or [] if c.lower() not in short]
        if unknown:
            raise InputError(f"unknown case study {unknown[0]!r} (use {', '.join(short)})", field="--case")
    except RhizoscaleError as err:
        _fail(err)
    cases = [short[c.lower()] for c in case] if case else list(CASES)
    import numba
    where = numba.config.CACHE_DIR or "Numba's default, __pycache__ beside the sources"
    console.print(f"compiling the Numba kernels of {len(cases)} case stud{'y' if len(cases) == 1 else 'ies'} "
                  f"on tiny problems (cache: {where})", highlight=False, soft_wrap=True)
    t0 = time.perf_counter()

    def report(r) -> None:
        console.print(f"  {r.case}: {r.seconds:.1f} s ({r.compiled} kernel builds compiled, "
                      f"{r.loaded} loaded from the cache)", highlight=False, soft_wrap=True)

    warm_up(cases, report=report)
    console.print(f"[green]done[/green] in {time.perf_counter() - t0:.1f} s; later runs load the kernels "
                  "from the cache", highlight=False)


@app.command()
def info() -> None:
    """Versions, case studies, parameter sets and examples."""
    from .parameters import available_parameter_sets
    from .scenario import available_examples, case_names
    import importlib
    table = Table(title=f"rhizoscale {__version__}")
    table.add_column("what")
    table.add_column("available")
    ok = case_names()
    table.add_row("case studies", ", ".join(ok))
    table.add_row("parameter sets", ", ".join(available_parameter_sets()))
    table.add_row("examples", ", ".join(available_examples()))
    opt = []
    for mod in ("plantbox", "porespy", "taufactor"):
        try:
            importlib.import_module(mod)
            opt.append(f"{mod}: yes")
        except Exception:
            opt.append(f"{mod}: no")
    table.add_row("optional", ", ".join(opt))
    table.add_row("python", sys.version.split()[0])
    out_console.print(table)


@app.command()
def reproduce(out: Path = typer.Option(Path("report"), "--out", "-o", help="Report folder"),
              quick: bool = typer.Option(False, "--quick",
                                         help="Every study at a reduced size (verdicts marked quick)"),
              overwrite: bool = typer.Option(False, "--overwrite", help="Replace a previous report in --out"),
              only: Optional[list[str]] = typer.Option(
                  None, "--only", help="Only this claim id or case study (CS1..CS5); repeat for more")) -> None:
    """Run every quantitative claim of the paper; write report.html, claims.json and the scenarios.

    Each claim is judged reproduced / partly / not reproduced / missing by the rule its row
    states; docs/reproduce.md lists them. The full size takes tens of minutes.
    """
    from .errors import InputError
    from .reproduce import collect
    from .reproduce import reproduce as run_claims
    from .reproduce.run import CLAIMS_JSON, REPORT, SCENARIOS
    try:
        registry = collect()
        if only:
            known = {c.id for c in registry.claims} | {c.case_study for c in registry.claims}
            bad = [o for o in only if o not in known]
            if bad:
                raise InputError(f"no claim or case study {bad[0]!r} (see claims.json of a report for the ids)",
                                 field="--only")
        if out.exists() and not out.is_dir():
            raise InputError("is a file, not a folder", source=out, field="--out")
        if out.is_dir() and any(out.iterdir()):
            if not overwrite:
                raise InputError("folder is not empty (use --overwrite to replace a previous report)",
                                 source=out, field="--out")
            for name in (REPORT, CLAIMS_JSON):
                (out / name).unlink(missing_ok=True)
            for old in (out / SCENARIOS).glob("*.yaml") if (out / SCENARIOS).is_dir() else ():
                old.unlink()
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise InputError(f"cannot create the folder ({err.strerror})", source=out, field="--out") from None
        try:
            from .warmup import compile_note
            note = compile_note(list(dict.fromkeys(g for gs in CASE_KERNELS.values() for g in gs)))
        except Exception:  # pragma: no cover - a hint must never stop a run
            note = None
        if note:
            console.print(Text(note, style="yellow"), soft_wrap=True)
        console.print(f"[bold]rhizoscale[/bold] {__version__}: {len(registry.claims)} claims"
                      f"{' (quick)' if quick else ''} -> {out}")
        t0 = time.perf_counter()
        doc = run_claims(out, quick=quick, progress=RichProgress(console), only=only, registry=registry)
    except RhizoscaleError as err:
        _fail(err)
    counts = ", ".join(f"{n} {v}" for v, n in doc["counts"].items())
    failed = [s for s, st in doc["studies"].items() if st["error"]]
    console.print(f"[green]done[/green] in {_duration(time.perf_counter() - t0)}: {counts}; "
                  f"{out / REPORT}" + (f"; failed studies: {', '.join(failed)}" if failed else ""),
                  highlight=False, soft_wrap=True)


def _terminate_as_interrupt() -> None:
    """Treat SIGTERM (``kill``, a batch system's end of job, a container stop) as Ctrl-C.

    Python's default SIGTERM action ends the process at once: no checkpoint note, the
    output folder left marked "running" and locked. Re-raising it as SIGINT sends it
    through the same path as Ctrl-C (held during file writes, then the run is marked
    interrupted and can be resumed)."""
    if hasattr(signal, "SIGTERM") and signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
        # A job started in the background of a shell script (``cmd &``, many batch
        # wrappers) inherits SIGINT *ignored*; SIGTERM re-raised as SIGINT would then be
        # dropped and the run would go on until SIGKILL. Such a process has no terminal
        # Ctrl-C to protect, so it gets Python's usual SIGINT handler back.
        if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, lambda signum, frame: signal.raise_signal(signal.SIGINT))


def main() -> None:  # entry point
    _terminate_as_interrupt()
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
