"""The architecture holds: no import cycles, the layering of ALLOWED_IMPORTS, no function wider than 8 parameters."""
import os
import sys

from conftest import REPO

sys.path.insert(0, os.path.join(REPO, 'tools'))
import check_structure  # noqa: E402


def test_no_import_cycles_and_layers_import_only_downwards():
    cycles, graph = check_structure.import_cycles(check_structure.project_files())
    assert cycles == []
    assert check_structure.layer_violations(graph) == []
    assert not any(target.startswith('networks') for mod, targets in graph.items() if mod.startswith('dnnlib')
                   for target in targets)  # dnnlib never imports networks


def test_the_checks_see_a_cycle_and_a_violation(tmp_path):
    """The scan itself works: an in-function import that closes a cycle and crosses the layering is found."""
    graph = {'dnnlib.a': {'networks.b'}, 'networks.b': {'dnnlib.a'}}
    assert check_structure.layer_violations(graph) == ['dnnlib.a -> networks.b']
    (tmp_path / 'm.py').write_text('import os\n\n\ndef f():\n    from networks.loading import load_network\n')
    assert check_structure.imports_of(str(tmp_path / 'm.py'), {'networks', 'networks.loading'}) == {'networks.loading'}
    assert check_structure.find_cycles(graph) == [['dnnlib.a', 'networks.b']]
    assert check_structure.find_cycles({'a': {'b'}, 'b': set()}) == []


def test_no_function_takes_more_than_eight_parameters_outside_official_signatures():
    assert check_structure.wide_functions(check_structure.project_files()) == []
