"""The run-directory part of NVIDIA's dnnlib.submission, which its scripts use to place their outputs.

    SubmitConfig, SubmitTarget.LOCAL   the fields NVIDIA's scripts set (run_dir_root, run_desc, num_gpus, ...)
    submit_run(config, 'module.function', **kwargs)
                                       makes <run_dir_root>/<NNNNN>-<run_desc> (NNNNN = 1 + the highest number that
                                       starts a folder name there, 0 in an empty root), never an existing folder, and
                                       calls the function there, with dnnlib.submit_config set
    make_run_dir_path(*paths)          a path in the current run's folder (the working directory outside a run)
    current_config()                   the running SubmitConfig or None (what dnnlib.submit_config reads)

Only local runs exist here: no cluster submission, no copy of the source tree, no log capture.
"""
import enum
import importlib
import inspect
import os
import re

from dnnlib.util import EasyDict


class SubmitTarget(enum.Enum):
    LOCAL = 1


class SubmitConfig(EasyDict):
    """What NVIDIA's scripts set before `submit_run`; run_id, run_name and run_dir are filled in by it."""

    def __init__(self, **kwargs):
        super().__init__(run_dir_root='', run_desc='', run_dir_ignore=[], run_dir_extra_files=[],
                         submit_target=SubmitTarget.LOCAL, num_gpus=1, print_info=False,
                         local=EasyDict(do_not_copy_source_files=False), datasets=[], run_id=None, run_name=None,
                         run_dir=None, run_func_name=None, run_func_kwargs=None, user_name=None, task_name=None)
        self.update(kwargs)


_running = {'config': None}


def current_config():
    """The SubmitConfig of the run `submit_run` is running, or None."""
    return _running['config']


def make_run_dir_path(*paths):
    """os.path.join(<the current run's folder>, *paths); outside a run (no dnnlib.submit_config, or no run_dir),
    the working directory."""
    config = _running['config']
    root = config.run_dir if config is not None and config.run_dir is not None else os.getcwd()
    return os.path.join(root, *paths)


def next_run_id(run_dir_root):
    """1 + the largest number that starts the name of a folder in run_dir_root (0 when there is none)."""
    numbers = [int(m.group()) for name in os.listdir(run_dir_root)
               if os.path.isdir(os.path.join(run_dir_root, name)) for m in [re.match(r'\d+', name)] if m]
    return max(numbers, default=-1) + 1


def submit_run(submit_config, run_func_name, **run_func_kwargs):
    """Run `run_func_name` ('module.function') in a new run folder, as NVIDIA's local submit_run does."""
    if submit_config.submit_target != SubmitTarget.LOCAL:
        raise NotImplementedError('only local runs exist in this port (submit_target=SubmitTarget.LOCAL)')
    config = SubmitConfig(**submit_config)
    root = config.run_dir_root or '.'
    os.makedirs(root, exist_ok=True)
    config.run_id = next_run_id(root)
    config.run_name = '%05d-%s' % (config.run_id, config.run_desc)
    config.run_dir = os.path.join(root, config.run_name)
    os.makedirs(config.run_dir)  # never an existing folder: raises if it exists
    config.run_func_name, config.run_func_kwargs = run_func_name, run_func_kwargs
    module, _, name = run_func_name.rpartition('.')
    function = getattr(importlib.import_module(module), name)
    previous, _running['config'] = _running['config'], config
    try:
        if 'submit_config' in inspect.signature(function).parameters:
            return function(submit_config=config, **run_func_kwargs)
        return function(**run_func_kwargs)
    finally:
        _running['config'] = previous
