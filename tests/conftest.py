"""Shared test helpers: where the ground-truth fixtures live, and the repo on sys.path."""
import os
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

SHARED = os.environ.get('PR_SHARED_DIR', os.path.join(os.path.dirname(REPO), 'shared'))
TEST_DATA = os.path.join(REPO, 'tests', 'data')


def shared_path(*parts):
    """Path inside ../shared; skips the test with a message when the folder is absent."""
    path = os.path.join(SHARED, *parts)
    if not os.path.exists(path):
        pytest.skip('ground-truth fixture %s not found (expected ../shared beside the checkout, '
                    'or set PR_SHARED_DIR)' % path)
    return path


def listing(folder):
    """Sorted names in `folder` (none when it is absent), less the tool's ledger of what it wrote there."""
    from dnnlib.owned_files import LEDGER
    return sorted(n for n in os.listdir(str(folder)) if n != LEDGER) if os.path.isdir(str(folder)) else []
