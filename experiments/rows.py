"""The run layer's vocabulary: a command-line flag, an experiment and a protocol, each one frozen row.

`run_metric.py` builds everything it does from the rows of `experiments/registry.py`: the parser and its
--help, the checks made before any work, the "nothing to do" guard, the fallback to the embedded demo, the
typed settings value (`experiments.settings`) and the order the experiments run in. Rows import nothing
heavy: an experiment's module is imported only when the experiment runs.
"""
import dataclasses
import importlib
from typing import Any, Callable, Optional, Tuple

# --help sections, in order
OFFICIAL = 'official flags'
INPUTS = 'inputs beyond the official script'
SETTINGS = 'settings (official defaults)'
BEYOND = 'beyond the official metric'
OUTPUT = 'output'
GROUPS = (OFFICIAL, INPUTS, SETTINGS, BEYOND, OUTPUT)


@dataclasses.dataclass(frozen=True)
class Flag:
    """One command-line flag `--name` and the settings field of the same name.

    kind: the value's type (bool: a switch, default False). many: one or more values (a tuple in the settings).
    data: the flag names input data; a run given no data flag and asking for no experiment runs the fallback.
    """
    name: str
    kind: type
    default: Any = None
    help: str = ''
    group: str = SETTINGS
    choices: Optional[tuple] = None
    many: bool = False
    short: Optional[str] = None
    metavar: Optional[str] = None
    data: bool = False

    def __post_init__(self):
        if self.kind is bool:  # a switch: what argparse gives when it is not given
            object.__setattr__(self, 'default', False)

    @property
    def annotation(self):
        """The settings field's type."""
        kind = Tuple[self.kind, ...] if self.many else self.kind
        return kind if self.default is not None else Optional[kind]

    @property
    def option(self):
        return '--' + self.name

    def add_to(self, group):
        """Add the flag to an argparse group."""
        names = ([self.short] if self.short else []) + [self.option]
        if self.kind is bool:
            group.add_argument(*names, action='store_true', help=self.help)
        else:
            group.add_argument(*names, type=self.kind, default=self.default, nargs='+' if self.many else None,
                               choices=self.choices, metavar=self.metavar, help=self.help)

    def value(self, parsed):
        """The settings value of what argparse parsed (lists become tuples)."""
        return tuple(parsed) if self.many and parsed is not None else parsed


@dataclasses.dataclass(frozen=True)
class Experiment:
    """One experiment of run_metric.py.

    key: its entry in results.json. run: 'module:function'; function(ctx: RunContext, reals: RealStream) -> its
        results entry (JSON-ready dict), writing its own files into settings.save_path.
    wanted(settings) -> bool: whether the run asks for it. asked_by: how a user asks for it (for the "nothing to
        do" message). flags: the flags only it reads; giving one when it does not run is an error.
    check(settings): raises ValueError for settings it cannot run with, before any work.
    reads: flags declared by other rows that it also reads (a flag is refused only when no running row declares or
        reads it).
    needs: what it reads, of 'reals', 'generator', 'feature_network', 'fake_set' (Registry.needs checks them).
    standalone: runs alone with fixed settings (the demo): honours only `honours` (flag names) and writes no
        results.json. fallback: runs when no data is given and no experiment is asked for.
    """
    key: str
    run: str
    wanted: Callable[[Any], bool]
    asked_by: str = ''
    flags: Tuple[Flag, ...] = ()
    check: Optional[Callable[[Any], None]] = None
    reads: Tuple[str, ...] = ()
    needs: Tuple[str, ...] = ()
    standalone: bool = False
    honours: Tuple[str, ...] = ()
    fallback: bool = False

    def runner(self):
        """The run function (its module imported now)."""
        module, name = self.run.split(':')
        return getattr(importlib.import_module(module), name)


@dataclasses.dataclass(frozen=True)
class Protocol:
    """A way of running P&R that somebody published: a name, the settings it fixes, its own experiment.

    fixed: settings field -> value (a flag given with another value is refused, naming it).
    options: Options fields it fixes (e.g. distance block sizes).
    minibatch_per_device: --minibatch_size counts images per device (a step takes it times --num_gpus).
    network: default generator (a tuple of networks.sources.NetworkSource), None: the official StyleGAN.
    experiments: rows that run only under this protocol (their wanted() sees settings.protocol).
    """
    name: str
    help: str
    fixed: Tuple[Tuple[str, Any], ...] = ()
    options: Tuple[Tuple[str, Any], ...] = ()
    minibatch_per_device: bool = False
    network: Any = None
    experiments: Tuple[Experiment, ...] = ()


@dataclasses.dataclass(frozen=True)
class Registry:
    """Every row run_metric.py knows.

    flags: the flags every run reads (inputs, common settings, output). check(settings): their checks.
    needs: (need, check(settings)) pairs run for each need of a running experiment (e.g. 'reals': reals given).
    derive(values: dict, protocol: Protocol) -> dict: the settings computed from the flag values ('options',
        'convention', ...), named with their types in `derived`; may also resolve flag values (a default that
        depends on others).
    protocols: the first is the default. experiments: in the order they run (protocol experiments after).
    """
    flags: Tuple[Flag, ...]
    check: Callable[[Any], None]
    needs: Tuple[Tuple[str, Callable[[Any], None]], ...]
    derive: Callable[[dict], dict]
    derived: Tuple[Tuple[str, Any], ...]
    protocols: Tuple[Protocol, ...]
    experiments: Tuple[Experiment, ...]

    def with_experiment(self, row):
        """This registry with one more experiment row (run after the others)."""
        return dataclasses.replace(self, experiments=self.experiments + (row,))

    def protocol(self, name):
        return next(p for p in self.protocols if p.name == name)

    def all_experiments(self):
        return self.experiments + tuple(e for p in self.protocols for e in p.experiments)

    def all_flags(self):
        """Every flag, each once (ValueError when two rows declare the same name)."""
        flags = self.flags + tuple(f for e in self.all_experiments() for f in e.flags)
        names = [f.name for f in flags]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError('flags declared by more than one row: %s' % ', '.join(twice))
        return flags
