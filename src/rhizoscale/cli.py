"""The ``rhizoscale`` command line: run scenarios, grow root systems, write examples.

User errors (bad files, fields, values) print one line naming the file and the field
and exit with status 2; no traceback. Progress bars come from rich.
"""

from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path
from typing import Iterator, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from . import __version__
from .errors import RhizoscaleError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="rhizoscale: rhizosphere processes across scales (pore, root, root system).")
console = Console(stderr=True)
out_console = Console()


class RichProgress:
    """Progress reporter drawing rich progress bars (steps shorter than ~2 s flash by)."""

    def __init__(self, console: Console):
        self.console = console

    @contextlib.contextmanager
    def task(self, description: str, total: float | None = None) -> Iterator:
        t0 = time.perf_counter()
        with Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
                      TextColumn("{task.percentage:>5.1f}%"), TimeElapsedColumn(),
                      console=self.console, transient=False) as bar:
            tid = bar.add_task(description, total=total)

            def callback(done: float, tot: float | None = None) -> None:
                bar.update(tid, completed=done, total=tot if tot is not None else total)

            yield callback
            task = bar.tasks[0]
            if task.total is not None:
                bar.update(tid, completed=task.total)
        if time.perf_counter() - t0 > 60:
            self.console.print(f"  {description}: {time.perf_counter() - t0:.0f} s")

    def message(self, text: str) -> None:
        self.console.print(text)


def _fail(err: Exception) -> None:
    # no markup (messages contain [i] indices) and no wrapping (paths must stay whole)
    console.print(Text.assemble(("error: ", "bold red"), str(err)), soft_wrap=True)
    raise typer.Exit(code=2)


def _run_file_or_text(path: Path, out: Path, *, overwrite: bool = False, resume: bool = False,
                      wall_time_limit: float | None = None, checkpoint_interval: float = 60.0) -> dict:
    from .scenario import load_scenario, run_scenario
    scenario = load_scenario(path)
    verb = "resuming" if resume else "running"
    console.print(f"[bold]rhizoscale[/bold] {__version__}: {verb} [cyan]{scenario.name}[/cyan] "
                  f"({scenario.case}, seed {scenario.seed}) -> {out}")
    summary = run_scenario(scenario, out, progress=RichProgress(console), overwrite=overwrite,
                           resume=resume, wall_time_limit=wall_time_limit,
                           checkpoint_interval=checkpoint_interval)
    console.print(f"[green]done[/green] in {summary['wall_time_s']:.1f} s; "
                  f"{len(summary['files'])} files in {out}")
    return summary


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
            None, "--wall-time-limit", min=0, help="Checkpoint and stop after this many seconds [s]"),
        checkpoint_interval: float = typer.Option(
            60.0, "--checkpoint-interval", min=0, help="Wall-clock time between checkpoints [s]")) -> None:
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
            out: Optional[Path] = typer.Option(None, "--out", "-o", help="File to write (default NAME.yaml)")) -> None:
    """Write a ready-to-run example scenario file (or list the examples)."""
    from .io.atomic import atomic_write
    from .scenario import available_examples, example_text
    if name is None:
        for n in available_examples():
            out_console.print(n)
        return
    try:
        text = example_text(name)
    except RhizoscaleError as err:
        _fail(err)
    path = out or Path(f"{name}.yaml")
    with atomic_write(path) as fh:
        fh.write(text)
    console.print(f"wrote {path}; run it with: rhizoscale run {path} --out {Path(name)}")


@app.command()
def grow(params: str = typer.Option("vicia_faba", "--params", "-p",
                                    help="Parameter set name, CPlantBox XML or YAML file"),
         days: float = typer.Option(21.0, "--days", help="Simulation time [d]"),
         seed: int = typer.Option(1, "--seed", help="Random seed"),
         out: Path = typer.Option(Path("root_system.rsml"), "--out", "-o", help="Output RSML file"),
         vtk: bool = typer.Option(False, "--vtk", help="Also write a .vtp file for ParaView"),
         backend: str = typer.Option("rhizoscale", "--backend", help="rhizoscale or cplantbox")) -> None:
    """Grow a root system and write it as RSML (and VTK)."""
    from .io.rsml import write_rsml
    from .plant import grow_root_system, load_plant_parameters
    try:
        if not (days > 0 and days < 1e6):
            raise RhizoscaleError(f"--days must be positive, got {days}")
        if seed < 0:
            raise RhizoscaleError(f"--seed must be >= 0, got {seed}")
        parameters = load_plant_parameters(params)
        progress = RichProgress(console)
        with progress.task(f"growing {parameters.name} for {days:g} d", total=days) as cb:
            rs = grow_root_system(parameters, days, seed=seed, callback=cb, backend=backend)
        write_rsml(rs, out)
        if vtk:
            from .io.vtk import write_root_system_vtk
            write_root_system_vtk(rs, out.with_suffix(".vtp"))
    except RhizoscaleError as err:
        _fail(err)
    s = rs.summary()
    console.print(f"{s['n_roots']} roots, {s['total_length_cm']:.1f} cm, depth {s['max_depth_cm']:.1f} cm "
                  f"-> {out}")


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


def main() -> None:  # entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
