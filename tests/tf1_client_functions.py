"""A function as NVIDIA's scripts give to dnnlib.submit_run: it writes into the run folder (tests/test_tf1_clients)."""
import dnnlib


def write_here(name):
    path = dnnlib.make_run_dir_path(name)
    with open(path, 'w') as f:
        f.write(dnnlib.submit_config.run_desc)
    return path
