"""`run_metric.py --conventions`: every P&R convention on the same features, and where a port's numbers fall."""
import os

import numpy as np

import utils
from metrics import conventions


def run_conventions_report(cfg, ref, evl):
    """Print and return the conventions report of eval (fake) features against ref (real) features.

    cfg: nhood_sizes, num_gpus, progress, port_results (None or a path), save_path.
    Returns the JSON-ready report (written under 'conventions' in results.json).
    """
    port = conventions.read_port_results(cfg.port_results) if cfg.port_results else None
    report = conventions.conventions_report(ref, evl, cfg.nhood_sizes, cfg.num_gpus, cfg.progress, port)
    print(conventions.format_report(report))
    with utils.atomic_output(os.path.join(cfg.save_path, 'conventions_official_decisions.npz'), 'wb') as f:
        np.savez(f, precision_pred=report['official_eval'].astype(np.uint8),
                 recall_pred=report['official_ref'].astype(np.uint8))
    return conventions.report_for_json(report)
