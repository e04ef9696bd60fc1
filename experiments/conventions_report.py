"""`run_metric.py --conventions`: every P&R convention on the same features, and where a port's numbers fall."""
import os

import numpy as np

from dnnlib.output_files import atomic_output
from metrics import conventions
from metrics.convention import REPORTED


def run_conventions_report(settings, real, fake, extra=()):
    """Print and return the conventions report of fake features against real features.

    settings: nhood_sizes, options, port_results (None or a path), save_path. extra: conventions reported after
    metrics.convention.REPORTED (e.g. 'adm').
    Returns the JSON-ready report (written under 'conventions' in results.json); the official per-sample
    decisions go to conventions_official_decisions.npz under the official names (precision_pred: fakes,
    recall_pred: reals), the format --port_results reads.
    """
    port = conventions.read_port_results(settings.port_results) if settings.port_results else None
    report = conventions.conventions_report(real, fake, settings.nhood_sizes, settings.options, port,
                                            REPORTED + tuple(extra))
    print(conventions.format_report(report))
    with atomic_output(os.path.join(settings.save_path, 'conventions_official_decisions.npz'), 'wb') as f:
        np.savez(f, precision_pred=report['official_fake'].astype(np.uint8),
                 recall_pred=report['official_real'].astype(np.uint8))
    return conventions.report_for_json(report)
