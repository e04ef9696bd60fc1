"""Checks several rows share (light: imported while the command line is parsed)."""
import os


def check_port_results(s, without_conventions=False):
    """--port_results: an existing file of a readable format (before any work), read by --conventions (unless
    without_conventions: the ADM protocol compares a port's five numbers itself)."""
    if s.port_results and not s.conventions and not without_conventions:
        raise ValueError('--port_results is read by --conventions; add --conventions')
    if s.port_results and not os.path.isfile(s.port_results):
        raise FileNotFoundError('--port_results %s does not exist' % s.port_results)
    if s.port_results:
        from metrics.conventions import read_port_results
        read_port_results(s.port_results)  # a bad file is an error before any work
