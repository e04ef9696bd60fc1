"""The run's settings as one frozen, typed value, built from the rows of a Registry (experiments/rows.py).

    parser = build_parser(registry, description)
    settings = build_settings(parser.parse_args(argv), registry)   # a frozen dataclass 'Settings'
    check_settings(settings, registry)                               # ValueError before any work

Every field of Settings is named as its flag (`--num_images` -> settings.num_images), plus `given` (the names
of the flags given on the command line) and the derived fields the registry names (options:
metrics.options.Options, convention: metrics.convention.Convention, ...).
"""
import argparse
import dataclasses
import functools

from experiments.rows import GROUPS


def build_parser(registry, description):
    """argparse parser of every flag of the registry, in the --help sections of experiments.rows.GROUPS."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    flags = registry.all_flags()
    for title in GROUPS:
        group = parser.add_argument_group(title)
        for flag in flags:
            if flag.group == title:
                flag.add_to(group)
    return parser


@functools.lru_cache(maxsize=None)
def settings_type(flags, derived):
    """The frozen dataclass 'Settings' with one typed field per flag and per derived entry (a derived entry named as
    a flag holds the value the flag names, e.g. convention: the Convention of --convention's name)."""
    fields = dict([(f.name, f.annotation) for f in flags] + [('given', frozenset)] + list(derived))
    return dataclasses.make_dataclass('Settings', list(fields.items()), frozen=True)


def flag_values(args, registry):
    """{flag name: value} of parsed arguments, lists as tuples."""
    return {f.name: f.value(getattr(args, f.name)) for f in registry.all_flags()}


def given_flags(values, registry):
    """Names of the flags whose value differs from their default."""
    return [f.name for f in registry.all_flags() if values[f.name] != f.value(f.default)]


def build_settings(args, registry):
    """Settings of parsed arguments: the protocol's fixed settings checked and applied, derived fields added.

    Raises ValueError for a flag that contradicts the protocol (naming it).
    """
    values = flag_values(args, registry)
    protocol = registry.protocol(values.get('protocol', registry.protocols[0].name))
    given = set(given_flags(values, registry))
    clashes = sorted('--' + name for name, value in protocol.fixed if name in given and values[name] != value)
    if clashes:
        raise ValueError('--protocol %s fixes its own settings and cannot be combined with %s'
                         % (protocol.name, ', '.join(clashes)))
    values.update(protocol.fixed)
    values.update(registry.derive(values, protocol), given=frozenset(given))
    return settings_type(registry.all_flags(), registry.derived)(**values)


def wanted_experiments(settings, registry):
    """The experiment rows this run asks for, in run order."""
    return [e for e in registry.all_experiments() if e.wanted(settings)]


def check_settings(settings, registry):
    """Everything knowable from the settings alone, before any work: the common checks, a flag given for an
    experiment that does not run, each experiment's own checks, and "nothing to do" -> the rows to run."""
    registry.check(settings)
    wanted = wanted_experiments(settings, registry)
    read = {f.name for row in wanted for f in row.flags} | {name for row in wanted for name in row.reads}
    for row in registry.all_experiments():
        unread = sorted(f.option for f in row.flags if f.name in settings.given and f.name not in read)
        if unread:
            raise ValueError('%s %s read by %s, which this run does not do (it runs with %s)'
                             % (', '.join(unread), 'is' if len(unread) == 1 else 'are', row.key, row.asked_by))
    needs = dict(registry.needs)
    for need in sorted({need for row in wanted for need in row.needs if need in needs}):
        needs[need](settings)
    for row in wanted:
        if row.check is not None:
            row.check(settings)
    if not wanted:
        raise ValueError('nothing to do: ask for %s' % '; or '.join(e.asked_by for e in registry.all_experiments()
                                                                    if e.asked_by and not e.fallback))
    return wanted


def check_standalone(settings, row, registry):
    """A standalone experiment (the demo) runs fixed settings: refuse flags it would ignore, naming them."""
    ignored = sorted('--' + name for name in settings.given if name not in row.honours)
    if ignored:
        raise ValueError('%s runs fixed settings and would ignore %s; give data (see --help) to use them'
                         % (row.asked_by, ', '.join(ignored)))


def data_given(settings, registry):
    """Whether any data flag (an input) was given."""
    return any(getattr(settings, f.name) for f in registry.all_flags() if f.data)
